package main

import (
	"reflect"
	"testing"
)

func TestParseSubCgroups(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want map[string]string
	}{
		{nil, nil},
		{[]string{"sub"}, map[string]string{"": "sub"}},
		{[]string{"a/b"}, map[string]string{"": "a/b"}},
		{[]string{"memory:sub"}, map[string]string{"memory": "sub"}},
		{[]string{"cpu,memory:sub"}, map[string]string{"cpu": "sub", "memory": "sub"}},
		{[]string{"memory:m", "pids:p"}, map[string]string{"memory": "m", "pids": "p"}},
		{[]string{":sub"}, map[string]string{"": "sub"}}, // v2: no controller name
	} {
		got, err := parseSubCgroups(tc.args)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseSubCgroups(%q) = %v, %v; want %v", tc.args, got, err, tc.want)
		}
	}
	for _, bad := range [][]string{
		{"a:b:c"},             // more than one colon
		{"sub", "memory:sub"}, // a lone path must be the only entry
		{"sub", "other"},
		{"memory:"}, // empty path
		{""},
		{"cpu,:sub"}, // empty controller in a list
	} {
		if got, err := parseSubCgroups(bad); err == nil {
			t.Errorf("parseSubCgroups(%q) = %v, want an error", bad, got)
		}
	}
}
