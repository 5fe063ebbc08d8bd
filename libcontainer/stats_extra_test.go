package libcontainer

import (
	"bufio"
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

func TestParsePSI(t *testing.T) {
	p, err := parsePSI([]byte("some avg10=1.50 avg60=0.25 avg300=0.00 total=6352\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=5241\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Some != (PSIData{Avg10: 1.5, Avg60: 0.25, Total: 6352}) || p.Full.Total != 5241 {
		t.Errorf("parsed %+v", p)
	}
	// cpu.pressure of older kernels has no "full" line.
	if p, err := parsePSI([]byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n")); err != nil || p.Some.Total != 7 || p.Full != (PSIData{}) {
		t.Errorf("some only: %+v %v", p, err)
	}
	for _, bad := range []string{"most avg10=0\n", "some avg10\n", "some total=x\n"} {
		if _, err := parsePSI([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseNetDev(t *testing.T) {
	const dev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    1500      10    1    2    0     0          0         0     3000      20    3    4    0     0       0          0
`
	ifs, err := parseNetDev(bufio.NewScanner(strings.NewReader(dev)))
	if err != nil {
		t.Fatal(err)
	}
	want := NetworkInterface{Name: "eth0", RxBytes: 1500, RxPackets: 10, RxErrors: 1, RxDropped: 2, TxBytes: 3000, TxPackets: 20, TxErrors: 3, TxDropped: 4}
	if len(ifs) != 1 || ifs[0] != want {
		t.Errorf("parsed %+v; want [%+v] (loopback left out)", ifs, want)
	}
	if _, err := parseNetDev(bufio.NewScanner(strings.NewReader("h\nh\neth0: 1 2 3\n"))); err == nil {
		t.Error("short line accepted")
	}
}

// TestStatsKeysAsRunc: an events --stats of a container with nothing to
// report has runc's top-level keys, the always-empty ones included
// (intel_rdt {}, network_interfaces null), for readers that look them up.
func TestStatsKeysAsRunc(t *testing.T) {
	data, err := json.Marshal(Stats{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if got, want := strings.Join(keys, ","), "blkio,cpu,cpuset,hugetlb,intel_rdt,memory,network_interfaces,pids"; got != want {
		t.Errorf("keys %s, want %s", got, want)
	}
	if string(m["intel_rdt"]) != "{}" || string(m["network_interfaces"]) != "null" {
		t.Errorf("intel_rdt %s, network_interfaces %s", m["intel_rdt"], m["network_interfaces"])
	}
}
