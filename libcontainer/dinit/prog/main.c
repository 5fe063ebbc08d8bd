/*
 * berth-dinit: the program a direct init or a direct exec runs from
 * (libcontainer/dinit), instead of berth's own binary.
 *
 * It is nsenter.c and direct_exec.c, the same C the berth binary carries
 * in its constructor, linked into a static program of its own: the
 * constructor reads the runtime's request (_BERTH_NSENTER_FD), serves it
 * and execve's the container's program, or reports its error and exits.
 * It never returns for a request the runtime sends this program, which
 * is always a direct one: the runtime starts berth's binary for anything
 * that needs Go. main() runs only when it was started some other way.
 */
#include <stdio.h>

int main(void)
{
	fputs("berth-dinit: runs a container's process for berth, with a direct request only\n", stderr);
	return 1;
}
