package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/criu"
	"github.com/berth-runtime/berth/libcontainer/hooks"
	"github.com/berth-runtime/berth/libcontainer/procattr"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
)

// ociVersionMin is the oldest config.json version berth accepts: the 1.0
// series already has every field berth reads, with the same meaning.
const ociVersionMin = "1.0.0"

// Annotation keys of `berth features`, named after berth's module path.
const (
	annotationPrefix      = "org.berth-runtime.berth."
	annotationVersion     = annotationPrefix + "version"
	annotationCommit      = annotationPrefix + "commit"
	annotationCheckpoint  = annotationPrefix + "checkpoint.enabled"
	annotationLibseccomp  = "io.github.seccomp.libseccomp.version"
	annotationSpecVersion = annotationPrefix + "spec.version"
)

func featuresCommand() *cli.Command {
	return &cli.Command{
		Name:  "features",
		Usage: "print the runtime-spec features JSON: what this build of berth implements",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 0, true); err != nil {
				return err
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "    ")
			f := buildFeatures()
			f.Annotations[annotationCheckpoint] = checkpointEnabled(cmd.Root().String("criu"))
			if err := enc.Encode(f); err != nil {
				return fmt.Errorf("features: write JSON: %w", err)
			}
			return nil
		},
	}
}

// buildFeatures describes this build. The runtime-spec asks for what is
// compiled in, not what the host offers; the seccomp lists are the one
// exception it allows (supportedFlags is what the kernel accepts).
func buildFeatures() *features.Features {
	yes := true
	return &features.Features{
		OCIVersionMin: ociVersionMin,
		OCIVersionMax: specs.Version,
		Hooks: []string{
			hooks.Prestart, hooks.CreateRuntime, hooks.CreateContainer,
			hooks.StartContainer, hooks.Poststart, hooks.Poststop,
		},
		MountOptions: configs.KnownMountOptions(),
		Linux: &features.Linux{
			Namespaces:   namespaceNames(),
			Capabilities: capabilityNames(),
			Cgroup: &features.Cgroup{
				V1: &yes, V2: &yes, Systemd: &yes, SystemdUser: &yes, Rdma: &yes,
			},
			Seccomp: seccompFeatures(),
			// libcontainer/lsm applies process.apparmorProfile and
			// selinuxLabel (and refuses them on a host without the LSM).
			Apparmor: &features.Apparmor{Enabled: &yes},
			Selinux:  &features.Selinux{Enabled: &yes},
			// libcontainer/intelrdt, where resctrl is mounted.
			IntelRdt:        &features.IntelRdt{Enabled: &yes, Schemata: &yes, Monitoring: &yes},
			MemoryPolicy:    &features.MemoryPolicy{Modes: procattr.MemoryPolicyModes(), Flags: procattr.MemoryPolicyFlags()},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &yes}}, // libcontainer/idmap
			NetDevices:      &features.NetDevices{Enabled: &yes},                              // libcontainer/netdev
		},
		Annotations: featureAnnotations(),
		// The config annotations berth acts on: org.systemd.property.*
		// become properties of the container's systemd unit (as runc).
		PotentiallyUnsafeConfigAnnotations: []string{"org.systemd.property."},
	}
}

// checkpointEnabled says whether checkpoint and restore can work here:
// a criu (--criu) whose `criu check` passes on this kernel.
func checkpointEnabled(criuPath string) string {
	if criu.Check(criuPath) != nil {
		return "false"
	}
	return "true"
}

func namespaceNames() []string {
	var names []string
	for _, t := range configs.AllNamespaceTypes() {
		names = append(names, string(t))
	}
	return names
}

// capabilityNames lists every capability berth can parse, which is the
// list moby/sys/capability knows (configs.CapabilityValue uses it).
func capabilityNames() []string {
	var names []string
	for _, c := range capability.ListKnown() {
		names = append(names, "CAP_"+strings.ToUpper(c.String()))
	}
	return names
}

func seccompFeatures() *features.Seccomp {
	enabled := seccomp.Enabled()
	return &features.Seccomp{
		Enabled:        &enabled,
		Actions:        seccomp.SupportedActions(),
		Operators:      seccomp.SupportedOperators(),
		Archs:          linkedArchs(seccomp.SupportedArchs()),
		KnownFlags:     seccomp.KnownFlags(),
		SupportedFlags: seccomp.SupportedFlags(),
	}
}

// linkedArchs keeps the architectures the linked C libseccomp can add to a
// filter: libseccomp-golang knows names (loongarch64, m68k, sh) that an
// older libseccomp lacks, and a profile naming them would fail. EDOM is
// not a lack: it means a byte order other than the host's, which
// libseccomp recognizes but cannot mix into one filter.
func linkedArchs(names []string) []string {
	var out []string
	for _, n := range names {
		arch, err := libseccomp.GetArchFromString(strings.ToLower(strings.TrimPrefix(n, "SCMP_ARCH_")))
		if err != nil {
			continue
		}
		filter, err := libseccomp.NewFilter(libseccomp.ActAllow)
		if err != nil {
			return names // no usable libseccomp: seccomp.enabled says so
		}
		err = filter.AddArch(arch)
		filter.Release()
		if err == nil || errors.Is(err, syscall.EDOM) {
			out = append(out, n)
		}
	}
	return out
}

func featureAnnotations() map[string]string {
	commit := gitCommit
	if commit == "" {
		commit = "unknown"
	}
	a := map[string]string{
		annotationVersion:     version,
		annotationCommit:      commit,
		annotationCheckpoint:  "false",
		annotationSpecVersion: specs.Version,
	}
	if major, minor, micro := libseccomp.GetLibraryVersion(); major > 0 {
		a[annotationLibseccomp] = fmt.Sprintf("%d.%d.%d", major, minor, micro)
	}
	return a
}
