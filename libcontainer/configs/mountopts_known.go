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
	names = append(names, mountFlagOpts.Names()...)
	names = append(names, propagationOpts.Names()...)
	names = append(names, recAttrOpts.Names()...)
	names = append(names, recAtimeOpts.Names()...)
	sort.Strings(names)
	return names
}
