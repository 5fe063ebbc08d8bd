/*
 * Direct exec: an exec process that the constructor sets up and execve's
 * itself, so that no Go runtime starts in it (direct_exec.c).  Shared by
 * nsenter.c, which parses the request, and direct_exec.c, which runs it,
 * with the request's integer readers.
 */
#ifndef BERTH_NSENTER_DIRECT_H
#define BERTH_NSENTER_DIRECT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * The large buffers of the request and the program (~0.7 MiB) go after
 * all of the binary's other zeroed data, in the x86-64 ABI's large-data
 * section, which the linker lays out after .bss and the Go runtime's
 * .noptrbss. Linked into berth, they would otherwise sit between the Go
 * runtime's variables, in the first part of the zeroed data that every
 * berth command populates as it starts (libcontainer/prefault), and cost
 * each command that memory while only an exec'ing child touches them.
 */
#if defined(__x86_64__)
#define COLD_BSS __attribute__((section(".lbss")))
#else
#define COLD_BSS
#endif

/* Request integers: host byte order, at any alignment. */
static inline uint16_t get_u16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Request attribute types of the program (nsenter.go: attrExec*). */
enum {
	ATTR_EXEC_FIXED = 16,	/* struct below, once; it makes the request an exec */
	ATTR_EXEC_ARG = 17,	/* one argv string, repeated in order */
	ATTR_EXEC_ENV = 18,	/* one environment string, repeated */
	ATTR_EXEC_CAND = 19,	/* one candidate program path, repeated */
	ATTR_EXEC_CWD = 20,	/* the working directory, once */
	ATTR_EXEC_GROUPS = 21,	/* u32 array: supplementary gids, once */
	ATTR_EXEC_RLIMIT = 22,	/* u32 resource, u32 0, u64 soft, u64 hard; repeated */
	ATTR_EXEC_SECCOMP = 23,	/* struct sock_filter array, once */
	ATTR_EXEC_INIT = 24,	/* u32 init flags; once */
	ATTR_EXEC_KEYRING = 25,	/* u32 permission bits to add, then the session keyring's name; once */
};

/*
 * ATTR_EXEC_INIT flags: the program is a container's init (a direct
 * init, libcontainer/directinit.go), which serves the runtime's requests
 * while the runtime builds its rootfs, reports ready and waits for start.
 */
enum {
	INIT_F_CGROUPNS = 1 << 0, /* unshare a cgroup namespace once in the cgroups */
	INIT_F_FIFO = 1 << 1,	  /* start is exec.fifo (_BERTH_FIFO_FD), not 'S' */
	INIT_F_ALL = (1 << 2) - 1,
};

/* ATTR_EXEC_FIXED flags. */
enum {
	EXEC_F_CAPS = 1 << 0,	   /* apply the capability masks */
	EXEC_F_NNP = 1 << 1,	   /* set no_new_privs */
	EXEC_F_HOME = 1 << 2,	   /* append HOME from the container's /etc/passwd */
	EXEC_F_SLASH = 1 << 3,	   /* args[0] has a slash: no PATH search */
	EXEC_F_SECCOMP = 1 << 4,   /* load ATTR_EXEC_SECCOMP */
	EXEC_F_ALL = (1 << 5) - 1,
};

/*
 * ATTR_EXEC_FIXED payload: u32 flags, uid, gid, umask, close_from,
 * last_cap, seccomp_flags, then u64 bounding, effective, permitted,
 * inheritable, ambient.
 */
#define EXEC_FIXED_SIZE (7 * 4 + 5 * 8)

/* Error kinds of an 'X' report (direct.go: DirectKind, in the same order). */
enum {
	XK_PROTOCOL = 1,	/* index: what (0 go message, 1 too many fds) */
	XK_JOIN_CGROUP,
	XK_RLIMIT,		/* index: the rlimit */
	XK_LOOKUP_NOTFOUND,
	XK_LOOKUP_STAT,
	XK_LOOKUP_ERR,
	XK_LOOKUP_PERM,
	XK_CHDIR,		/* index: 0 the cwd, 1 a direct init's new root */
	XK_CWD_OUTSIDE,
	XK_GETCWD,
	XK_CLOSE_EXEC,
	XK_SECCOMP,
	XK_BOUNDING,
	XK_KEEPCAPS_SET,
	XK_KEEPCAPS_CLEAR,
	XK_SETGROUPS,
	XK_SETGID,
	XK_SETUID,
	XK_CAPSET,
	XK_AMBIENT,
	XK_NNP,
	XK_EXEC,		/* index: the candidate executed */
	XK_PDEATHSIG,
	XK_CAPGET,
	XK_KEYRING,		/* the session keyring: index 0 join, 1 describe, 2 setperm */
	XK_START,		/* direct init: index 0 the 'S' message, 1 exec.fifo's open, 2 its write */
	XK_STDIO_OWNER,		/* index: the fd */
};

/* Returns 1 if type is a program attribute (then parsed), 0 if not. */
int direct_exec_attr(uint16_t type, const unsigned char *p, size_t len);
/* Whether the request holds a program, after parsing: checks it whole. */
int direct_exec_requested(void);
/* Sets the program up and execve's it; reports failure on sock and exits. */
__attribute__((noreturn)) void direct_exec_run(int sock);

/*
 * nsenter.c's: err in Go's words (errno_text.h, whatever the C library),
 * with its first letter upper-cased as glibc's strerror has it when upper
 * is set; "errno N" for one Go has no words for.
 */
void nsenter_errno_text(int err, int upper, char *buf, size_t len);

/* nsenter.c's: report a malformed request and exit. */
__attribute__((noreturn, format(printf, 2, 3)))
void nsenter_die(int err, const char *fmt, ...);

#endif
