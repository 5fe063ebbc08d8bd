package libcontainer

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
)

// PSI and network counters in `events`, as runc reports them (its
// types/events.go): pressure per resource from the cgroup2 directory's
// *.pressure files (on a hybrid host the container's unified cgroup has
// them too), and the interfaces of the container's network namespace.

// PSIData and PSIStats are the cgroup library's: the same fields and
// JSON names as runc's events.
type (
	PSIData  = cgroups.PSIData
	PSIStats = cgroups.PSIStats
)

// NetworkInterface is one interface's counters, as runc's events give them.
type NetworkInterface struct {
	Name      string `json:"name"`
	RxBytes   uint64 `json:"rx_bytes"`
	RxPackets uint64 `json:"rx_packets"`
	RxErrors  uint64 `json:"rx_errors"`
	RxDropped uint64 `json:"rx_dropped"`
	TxBytes   uint64 `json:"tx_bytes"`
	TxPackets uint64 `json:"tx_packets"`
	TxErrors  uint64 `json:"tx_errors"`
	TxDropped uint64 `json:"tx_dropped"`
}

// addPressure fills the PSI of cpu, memory and io: from the cgroup
// library's stats where it read them (a cgroup2 host), else from the
// unified directory's files.
func addPressure(s *Stats, cs *cgroups.Stats, unifiedDir string) {
	s.CPU.PSI = psiOr(cs.CpuStats.PSI, unifiedDir, "cpu.pressure")
	s.Memory.PSI = psiOr(cs.MemoryStats.PSI, unifiedDir, "memory.pressure")
	s.Blkio.PSI = psiOr(cs.BlkioStats.PSI, unifiedDir, "io.pressure")
}

func psiOr(have *cgroups.PSIStats, dir, file string) *PSIStats {
	if have != nil {
		return have
	}
	if dir == "" {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil // no PSI in this kernel, or no such controller file
	}
	p, err := parsePSI(data)
	if err != nil {
		return nil
	}
	return p
}

// parsePSI reads a pressure file:
// "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and a "full" line.
func parsePSI(data []byte) (*PSIStats, error) {
	var p PSIStats
	for line := range bytes.Lines(data) {
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			continue
		}
		var d *PSIData
		switch fields[0] {
		case "some":
			d = &p.Some
		case "full":
			d = &p.Full
		default:
			return nil, fmt.Errorf("pressure: unknown line %q", line)
		}
		for _, kv := range fields[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("pressure: bad field %q", kv)
			}
			var err error
			switch k {
			case "avg10":
				d.Avg10, err = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, err = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, err = strconv.ParseFloat(v, 64)
			case "total":
				d.Total, err = strconv.ParseUint(v, 10, 64)
			}
			if err != nil {
				return nil, fmt.Errorf("pressure: field %q: %w", kv, err)
			}
		}
	}
	return &p, nil
}

// netInterfaces reads the interfaces of the network namespace pid is in
// (/proc/PID/net/dev), loopback left out as runc leaves it out.
func netInterfaces(pid int) []NetworkInterface {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/net/dev")
	if err != nil {
		return nil
	}
	defer f.Close()
	ifs, err := parseNetDev(bufio.NewScanner(f))
	if err != nil {
		return nil
	}
	return ifs
}

// parseNetDev parses /proc/net/dev: two header lines, then
// "name: rx_bytes rx_packets rx_errs rx_drop fifo frame compressed
// multicast tx_bytes tx_packets tx_errs tx_drop ...".
func parseNetDev(sc *bufio.Scanner) ([]NetworkInterface, error) {
	var out []NetworkInterface
	for n := 0; sc.Scan(); n++ {
		if n < 2 {
			continue
		}
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			return nil, fmt.Errorf("net/dev: bad line %q", sc.Text())
		}
		name = strings.TrimSpace(name)
		if name == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 12 {
			return nil, fmt.Errorf("net/dev: short line for %s", name)
		}
		var v [12]uint64
		for i := range v {
			var err error
			if v[i], err = strconv.ParseUint(f[i], 10, 64); err != nil {
				return nil, fmt.Errorf("net/dev: %s: %w", name, err)
			}
		}
		out = append(out, NetworkInterface{
			Name: name, RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDropped: v[11],
		})
	}
	return out, sc.Err()
}
