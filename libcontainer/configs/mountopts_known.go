package configs

import "sort"

// KnownMountOptions lists, sorted, every mount option name ParseMountOptions
// gives a meaning to (flags, propagation, recursive attributes). Anything
// else is passed to the filesystem as data. `berth features` reports this
// list.
func KnownMountOptions() []string {
	// idmap and ridmap are not listed, as in runc's list: features reports
	// them as linux.mountExtensions.idmap.
	names := make([]string, 0, len(mountFlagOpts)+len(propagationOpts)+len(recAttrOpts)+len(recAtimeOpts)+1)
	names = append(names, "tmpcopyup")
	for n := range mountFlagOpts {
		names = append(names, n)
	}
	for n := range propagationOpts {
		names = append(names, n)
	}
	for n := range recAttrOpts {
		names = append(names, n)
	}
	for n := range recAtimeOpts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
