package utils

import "path/filepath"

// ProgramName is the name berth was run as (args is os.Args), which its
// help, version, errors and debug lines show, as runc's do: installed as
// "runc" (a drop-in), `runc -h` says "runc".
func ProgramName(args []string) string {
	if len(args) > 0 {
		if name := filepath.Base(args[0]); name != "" && name != "." && name != "/" {
			return name
		}
	}
	return "berth"
}
