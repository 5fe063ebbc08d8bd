//go:build linux

// Package lsm applies the Linux security module settings of a container
// process: process.apparmorProfile, process.selinuxLabel and
// linux.mountLabel.
//
// A setting asked for on a host without its LSM is an error, never
// silently ignored: a container its owner believes confined must not run
// unconfined. The labels take effect at the container process's execve,
// through the kernel's "exec" attribute of the calling thread, written
// through a verified procfs handle (a container's /proc could have been
// redirected by its mounts).
package lsm

import (
	"errors"
	"fmt"
	"os"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/utils"
)

// Host says which LSMs the host has enabled.
type Host struct {
	AppArmor bool
	SELinux  bool
}

// Paths the detection reads; tests call detectAt with other paths.
const (
	appArmorEnabledFile = "/sys/module/apparmor/parameters/enabled"
	seLinuxFS           = "/sys/fs/selinux"
)

// Detect reads which LSMs are enabled on this host.
func Detect() Host {
	return detectAt(appArmorEnabledFile, seLinuxFS)
}

func detectAt(apparmorFile, selinuxDir string) Host {
	var h Host
	// A bare read: init calls this, and an *os.File would set up Go's
	// poller there (epoll) for one sysfs file.
	if data, err := utils.ReadSmallFile(apparmorFile, 64); err == nil {
		h.AppArmor = strings.TrimSpace(string(data)) == "Y"
	}
	// selinuxfs is mounted at /sys/fs/selinux exactly when SELinux is
	// enabled; an empty directory there (the mount point alone) is not.
	var st unix.Statfs_t
	if err := unix.Statfs(selinuxDir, &st); err == nil && uint32(st.Type) == unix.SELINUX_MAGIC {
		h.SELinux = true
	}
	return h
}

// Request is what a container asks of the LSMs.
type Request struct {
	AppArmorProfile string
	ProcessLabel    string
	MountLabel      string
}

// RequestOf extracts the LSM settings of a config.
func RequestOf(spec *specs.Spec, p *specs.Process) Request {
	var r Request
	if p != nil {
		r.AppArmorProfile = p.ApparmorProfile
		r.ProcessLabel = p.SelinuxLabel
	}
	if spec != nil && spec.Linux != nil {
		r.MountLabel = spec.Linux.MountLabel
	}
	return r
}

// Validate checks the syntax of every setting, whatever the host.
func (r Request) Validate() error {
	if r.AppArmorProfile != "" {
		if err := ValidateAppArmorProfile(r.AppArmorProfile); err != nil {
			return err
		}
	}
	if r.ProcessLabel != "" {
		if err := ValidateSELinuxLabel(r.ProcessLabel); err != nil {
			return fmt.Errorf("process.selinuxLabel: %w", err)
		}
	}
	if r.MountLabel != "" {
		if err := ValidateSELinuxLabel(r.MountLabel); err != nil {
			return fmt.Errorf("linux.mountLabel: %w", err)
		}
	}
	return nil
}

// Check validates r and refuses what the host cannot enforce.
func (r Request) Check(h Host) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.AppArmorProfile != "" && !h.AppArmor {
		return fmt.Errorf("apparmor profile %q requested, but AppArmor is not enabled on this host (%s is not Y)", r.AppArmorProfile, appArmorEnabledFile)
	}
	if r.ProcessLabel != "" && !h.SELinux {
		return fmt.Errorf("selinux label %q requested, but SELinux is not enabled on this host (no selinuxfs at %s)", r.ProcessLabel, seLinuxFS)
	}
	if r.MountLabel != "" && !h.SELinux {
		return fmt.Errorf("selinux mount label %q requested, but SELinux is not enabled on this host (no selinuxfs at %s)", r.MountLabel, seLinuxFS)
	}
	return nil
}

// maxAttrLen bounds what is written to a /proc attr file (a page).
const maxAttrLen = 4095

// ValidateAppArmorProfile accepts a profile name as the kernel takes it in
// "exec NAME": printable, no whitespace or control characters.
func ValidateAppArmorProfile(name string) error {
	if name == "" || len(name) > maxAttrLen-len("exec ") {
		return fmt.Errorf("apparmor profile %q: empty or too long", name)
	}
	for _, c := range name {
		if c <= ' ' || c == 0x7f {
			return fmt.Errorf("apparmor profile %q: contains whitespace or a control character", name)
		}
	}
	return nil
}

// ValidateSELinuxLabel accepts a context "user:role:type[:level]", where
// the level (an MLS range such as s0-s0:c0.c1023) may itself hold colons.
func ValidateSELinuxLabel(label string) error {
	if len(label) > maxAttrLen {
		return fmt.Errorf("selinux label too long (%d bytes)", len(label))
	}
	for _, c := range label {
		if c <= ' ' || c == 0x7f {
			return fmt.Errorf("selinux label %q: contains whitespace or a control character", label)
		}
	}
	parts := strings.SplitN(label, ":", 4)
	if len(parts) < 3 {
		return fmt.Errorf("selinux label %q: want user:role:type[:level]", label)
	}
	for i, p := range parts {
		if p == "" {
			return fmt.Errorf("selinux label %q: empty field %d", label, i+1)
		}
	}
	return nil
}

// ApplyExec arranges for the calling thread's next execve to enter the
// requested AppArmor profile and SELinux label. The caller must hold the
// thread (runtime.LockOSThread) until it execs.
func (r Request) ApplyExec() error {
	if r.AppArmorProfile == "" && r.ProcessLabel == "" {
		return nil
	}
	proc, err := procfs.OpenProcRoot()
	if err != nil {
		return fmt.Errorf("open procfs: %w", err)
	}
	defer proc.Close()
	if r.AppArmorProfile != "" {
		// The LSM-specific directory exists since Linux 5.8 and is right
		// even when several LSMs are stacked; attr/exec is the old one.
		err := writeThreadAttr(proc, "attr/apparmor/exec", "exec "+r.AppArmorProfile)
		if errors.Is(err, os.ErrNotExist) {
			err = writeThreadAttr(proc, "attr/exec", "exec "+r.AppArmorProfile)
		}
		if err != nil {
			return fmt.Errorf("set apparmor profile %q: %w", r.AppArmorProfile, err)
		}
	}
	if r.ProcessLabel != "" {
		if err := writeThreadAttr(proc, "attr/exec", r.ProcessLabel); err != nil {
			return fmt.Errorf("set selinux exec label %q: %w", r.ProcessLabel, err)
		}
	}
	return nil
}

// SetKeyCreateLabel sets the SELinux label of the keys and keyrings the
// calling thread creates from now on (attr/keycreate; "" is the default:
// its own). The container's session keyring takes the process's label so
// that the process may use it under the policy (runc's SetKeyLabel). The
// caller holds the thread (runtime.LockOSThread) until it has made them.
func SetKeyCreateLabel(label string) error {
	proc, err := procfs.OpenProcRoot()
	if err != nil {
		return fmt.Errorf("open procfs: %w", err)
	}
	defer proc.Close()
	if err := writeThreadAttr(proc, "attr/keycreate", label); err != nil {
		return fmt.Errorf("set selinux key label %q: %w", label, err)
	}
	return nil
}

func writeThreadAttr(proc *procfs.Handle, rel, value string) error {
	f, closer, err := proc.OpenThreadSelf(rel)
	if err != nil {
		return err
	}
	defer closer()
	defer f.Close()
	// OpenThreadSelf gives an O_PATH handle; reopen it for writing by fd.
	w, err := pathrs.Reopen(f, unix.O_WRONLY|unix.O_CLOEXEC)
	if err != nil {
		return err
	}
	defer w.Close()
	// The kernel takes an attribute in one write.
	_, err = w.Write([]byte(value))
	return err
}

// MountData adds the SELinux context of a mount to its data string, for
// the filesystems that take one (tmpfs, mqueue, devpts, ...).
func MountData(data, mountLabel string) string {
	if mountLabel == "" {
		return data
	}
	opt := `context="` + mountLabel + `"`
	if data == "" {
		return opt
	}
	return data + "," + opt
}
