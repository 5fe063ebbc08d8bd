//go:build linux && cgo

/*
 * Direct exec: the exec process's set-up (what the Go exec process does in
 * processSide's enter and execve steps) for the configs the runtime can
 * compile to a flat program (libcontainer/directexec.go decides which).
 * The process is past nsenter's joins and fork here, in every namespace of
 * the container; it runs the program below and execve's, and the Go
 * runtime never starts in it.  The runtime did everything that needs no
 * view of the container: capabilities as masks, the seccomp filter as BPF,
 * the PATH search as a list of candidate paths, the environment without
 * duplicates, the umask.
 *
 * Protocol, after the 'P' or 'C' pid report of nsenter.c (nsenter.go has
 * the whole table):
 *
 *   runtime -> process  'G' [+ fds]   go on: the runtime placed the process
 *                                     (cgroup v2, RDT, pidfd); the fds are
 *                                     the cgroup v1 "tasks" files to join
 *   process -> runtime  EOF           execve succeeded (the socket is
 *                                     close-on-exec)
 *                       'X' + u32 kind + i32 errno + u32 index
 *                                     failed (kinds in direct.h); the
 *                                     runtime words it as the Go exec
 *                                     process would; the process exits 1
 *
 * The order of the steps is finalizeAndExec's (init_linux.go), so that a
 * profile, a user or a cwd behaves the same on both paths.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include "direct.h"

/*
 * The process's end, for every exit of this file. Once the container's
 * seccomp filter is loaded, a profile may refuse exit_group and exit too
 * (defaultAction SCMP_ACT_ERRNO): musl's _exit then retries exit forever,
 * and the process spins a CPU with its runtime waiting on it. A trap ends
 * it whatever the filter allows: the kernel delivers a fault's signal
 * even when it is blocked or ignored.
 */
static _Noreturn void end_process(int code)
{
	syscall(SYS_exit_group, code);
	for (;;)
		__builtin_trap();
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define REQ_MAX (64 * 1024)
/* Every string costs an attribute header of 4 bytes at least. */
#define MAX_STRINGS (REQ_MAX / 4)
#define MAX_GROUPS (REQ_MAX / 4)
#define MAX_RLIMITS 64
#define MAX_FDS 32
/* What is read of the container's /etc/passwd (userdb.go's maxUserDB). */
#define PASSWD_MAX (4 << 20)
/* The longest passwd line Go's bufio.Scanner takes (userdb's parser). */
#define PASSWD_LINE_MAX (64 * 1024)
/* What passwd_home reads on its stack rather than on the heap. */
#define PASSWD_SMALL (16 * 1024)

struct rlim {
	uint32_t resource;
	uint64_t soft, hard;
};

/* The program; zeroed data out of the way (COLD_BSS), so it costs nothing
 * in processes that never exec. */
static struct {
	int fixed;
	uint32_t flags, uid, gid, umask, close_from, last_cap, seccomp_flags;
	uint64_t bounding, effective, permitted, inheritable, ambient;
	char *argv[MAX_STRINGS + 1];
	size_t argc;
	char *envp[MAX_STRINGS + 2];	/* + HOME, + NULL */
	size_t envc;
	char *cand[MAX_STRINGS];
	size_t ncand;
	char *cwd;
	gid_t groups[MAX_GROUPS];
	size_t ngroups;
	int have_groups;
	struct rlim rlim[MAX_RLIMITS];
	size_t nrlim;
	struct sock_filter filter[BPF_MAXINSNS];
	size_t nfilter;
	char *keyring;
	uint32_t keyring_search;
} prog COLD_BSS;

/* Strings of the program, NUL-terminated: each takes its length + 1. */
static char arena[2 * REQ_MAX] COLD_BSS;
static size_t arena_used;
static char home_env[PATH_MAX + 8];
static int report_sock = -1;

/*
 * A direct init (ATTR_EXEC_INIT): the same program, for a container's
 * init whose rootfs the runtime builds itself, on a thread of its own in
 * this process's namespaces (libcontainer/directinit.go). Until the
 * go-ahead the process serves the runtime's requests (init_serve); after
 * it, it reports ready and waits for start.
 */
static struct {
	int on;
	uint32_t flags;
} init_mode;
/* Once start came through exec.fifo, failures are written there. */
static int report_fifo = -1;

static char *arena_string(const unsigned char *p, size_t len)
{
	char *s;

	if (memchr(p, '\0', len) != NULL)
		nsenter_die(0, "request: exec string contains NUL");
	if (len + 1 > sizeof(arena) - arena_used)
		nsenter_die(0, "request: exec strings too long");
	s = arena + arena_used;
	memcpy(s, p, len);
	s[len] = '\0';
	arena_used += len + 1;
	return s;
}

int direct_exec_attr(uint16_t type, const unsigned char *p, size_t len)
{
	size_t i;

	switch (type) {
	case ATTR_EXEC_FIXED:
		if (prog.fixed || len != EXEC_FIXED_SIZE)
			nsenter_die(0, "request: bad or repeated exec attribute");
		prog.fixed = 1;
		prog.flags = get_u32(p);
		prog.uid = get_u32(p + 4);
		prog.gid = get_u32(p + 8);
		prog.umask = get_u32(p + 12);
		prog.close_from = get_u32(p + 16);
		prog.last_cap = get_u32(p + 20);
		prog.seccomp_flags = get_u32(p + 24);
		prog.bounding = get_u64(p + 28);
		prog.effective = get_u64(p + 36);
		prog.permitted = get_u64(p + 44);
		prog.inheritable = get_u64(p + 52);
		prog.ambient = get_u64(p + 60);
		if (prog.flags & ~(uint32_t)EXEC_F_ALL)
			nsenter_die(0, "request: bad exec flags %#x", prog.flags);
		if (prog.last_cap > 63 || prog.close_from < 3 || prog.umask > 0777)
			nsenter_die(0, "request: bad exec attribute values");
		return 1;
	case ATTR_EXEC_ARG:
		if (prog.argc >= MAX_STRINGS)
			nsenter_die(0, "request: too many exec arguments");
		prog.argv[prog.argc++] = arena_string(p, len);
		return 1;
	case ATTR_EXEC_ENV:
		if (prog.envc >= MAX_STRINGS)
			nsenter_die(0, "request: too many exec environment strings");
		prog.envp[prog.envc++] = arena_string(p, len);
		return 1;
	case ATTR_EXEC_CAND:
		if (prog.ncand >= MAX_STRINGS || len == 0)
			nsenter_die(0, "request: bad exec candidate");
		prog.cand[prog.ncand++] = arena_string(p, len);
		return 1;
	case ATTR_EXEC_CWD:
		if (prog.cwd != NULL || len == 0)
			nsenter_die(0, "request: bad or repeated exec cwd");
		prog.cwd = arena_string(p, len);
		return 1;
	case ATTR_EXEC_GROUPS:
		if (prog.have_groups || len % 4 != 0)
			nsenter_die(0, "request: bad or repeated exec groups");
		prog.have_groups = 1;
		for (i = 0; i < len / 4; i++)
			prog.groups[prog.ngroups++] = (gid_t)get_u32(p + 4 * i);
		return 1;
	case ATTR_EXEC_RLIMIT:
		if (len != 24 || prog.nrlim >= MAX_RLIMITS)
			nsenter_die(0, "request: bad exec rlimit");
		prog.rlim[prog.nrlim].resource = get_u32(p);
		prog.rlim[prog.nrlim].soft = get_u64(p + 8);
		prog.rlim[prog.nrlim].hard = get_u64(p + 16);
		prog.nrlim++;
		return 1;
	case ATTR_EXEC_SECCOMP:
		if (prog.nfilter != 0 || len == 0 || len % sizeof(struct sock_filter) != 0 ||
		    len / sizeof(struct sock_filter) > BPF_MAXINSNS)
			nsenter_die(0, "request: bad or repeated exec seccomp filter");
		memcpy(prog.filter, p, len);
		prog.nfilter = len / sizeof(struct sock_filter);
		return 1;
	case ATTR_EXEC_INIT:
		if (init_mode.on || len != 4)
			nsenter_die(0, "request: bad or repeated init attribute");
		init_mode.on = 1;
		init_mode.flags = get_u32(p);
		if (init_mode.flags & ~(uint32_t)INIT_F_ALL)
			nsenter_die(0, "request: bad init flags %#x", init_mode.flags);
		return 1;
	case ATTR_EXEC_KEYRING:
		if (prog.keyring != NULL || len <= 4)
			nsenter_die(0, "request: bad or repeated keyring attribute");
		prog.keyring_search = get_u32(p);
		prog.keyring = arena_string(p + 4, len - 4);
		return 1;
	}
	return 0;
}

int direct_exec_requested(void)
{
	int any = prog.argc || prog.envc || prog.ncand || prog.cwd || prog.have_groups ||
		  prog.nrlim || prog.nfilter || prog.keyring;

	any = any || init_mode.on;
	if (!prog.fixed) {
		if (any)
			nsenter_die(0, "request: exec attributes without the exec header");
		return 0;
	}
	if (prog.argc == 0 || prog.ncand == 0 || prog.cwd == NULL || !prog.have_groups)
		nsenter_die(0, "request: incomplete exec program");
	if ((prog.flags & EXEC_F_SLASH) && prog.ncand != 1)
		nsenter_die(0, "request: a program path with a slash has one candidate");
	if (!(prog.flags & EXEC_F_SECCOMP) != !prog.nfilter)
		nsenter_die(0, "request: exec seccomp flag and filter disagree");
	return 1;
}

/*
 * An init's failed execve goes to its stderr too, as the Go init's does
 * (finalizeAndExec), in Go's words: os.PathError's "exec PATH: " and the
 * errno's text.
 */
static void show_exec_error(uint32_t index, int err)
{
	char text[128];

	nsenter_errno_text(err, 0, text, sizeof(text));
	dprintf(STDERR_FILENO, "exec %s: %s\n", prog.cand[index], text);
}

/*
 * Reports a failure to the runtime and exits: on the socket, or after a
 * start through exec.fifo on the fifo, after a NUL (which no error text
 * of the Go init holds), for `berth start` to word.
 */
__attribute__((noreturn))
static void fail(uint32_t kind, int err, uint32_t index)
{
	unsigned char msg[14];
	int32_t e = err;

	msg[0] = '\0';
	msg[1] = 'X';
	memcpy(msg + 2, &kind, 4);
	memcpy(msg + 6, &e, 4);
	memcpy(msg + 10, &index, 4);
	if (init_mode.on && kind == XK_EXEC && index < prog.ncand)
		show_exec_error(index, err);
	if (report_fifo >= 0)
		(void)write(report_fifo, msg, sizeof(msg));
	else
		(void)send(report_sock, msg + 1, sizeof(msg) - 1, MSG_NOSIGNAL);
	end_process(1);
}

/*
 * One message from the runtime into buf (size bytes, its length
 * returned), with the fds it carries (close-on-exec, at most MAX_FDS) in
 * fds. EOF: the runtime is gone, and nobody is left to report to.
 */
static size_t recv_with_fds(void *buf, size_t size, int *fds, size_t *nfds)
{
	char cbuf[CMSG_SPACE(MAX_FDS * sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(report_sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		end_process(1);
	if (n < 0)
		fail(XK_PROTOCOL, errno, 0);
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (*nfds + k > MAX_FDS)
			fail(XK_PROTOCOL, 0, 1);
		memcpy(fds + *nfds, CMSG_DATA(c), k * sizeof(int));
		*nfds += k;
	}
	if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC))
		fail(XK_PROTOCOL, 0, 0);
	return (size_t)n;
}

/* The runtime's go-ahead, with the cgroup v1 "tasks" files to join. */
static void await_go(void)
{
	char kind = 0;
	int fds[MAX_FDS];
	size_t nfds, i;
	int err = 0;

	if (recv_with_fds(&kind, 1, fds, &nfds) != 1 || kind != 'G')
		fail(XK_PROTOCOL, 0, 0);
	/*
	 * They lead into the host's cgroup tree: written and closed at once
	 * (CVE-2024-21626), as the Go process's joinCgroups does.
	 */
	for (i = 0; i < nfds; i++) {
		if (err == 0 && write(fds[i], "0", 1) != 1)
			err = errno ? errno : EIO;
		close(fds[i]);
	}
	if (err != 0)
		fail(XK_JOIN_CGROUP, err, 0);
}

static void exit_on_signal(int sig)
{
	(void)sig;
	end_process(2);
}

/*
 * A direct init is pid 1 of its pid namespace, which the kernel spares
 * every signal it has no handler for (SIGKILL from outside aside). The
 * Go init's runtime catches SIGHUP, SIGINT, SIGTERM, SIGQUIT and SIGABRT
 * and exits with status 2 on them, so `berth kill` of a created
 * container with its default SIGTERM ends it: so does this, until execve
 * (which resets caught signals to their default).
 */
static void exit_on_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGABRT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = exit_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

/*
 * An exec process's SIGHUP and SIGINT get their default action when the
 * runtime's caller had them ignored (a shell's background job), as a Go
 * exec process's do (resetIgnoredHupInt) and an init's (its handlers
 * above end at execve); other ignored signals are inherited, as there.
 */
static void reset_ignored_hup_int(void)
{
	static const int sigs[] = { SIGHUP, SIGINT };
	struct sigaction old, dfl;
	size_t i;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			(void)sigaction(sigs[i], &dfl, NULL);
	}
}

/* The descriptor (3 or above) the environment variable name gives, or -1. */
static int env_fd(const char *name)
{
	const char *text = getenv(name);
	char *end;
	long fd;

	if (text == NULL)
		return -1;
	errno = 0;
	fd = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || fd < 3 || fd > INT_MAX)
		return -1;
	return (int)fd;
}

/* A request's answer: 'O' + i32 errno (0: done) + u32 index. */
static void answer(int err, uint32_t index)
{
	unsigned char msg[9];
	int32_t e = err;

	msg[0] = 'O';
	memcpy(msg + 1, &e, 4);
	memcpy(msg + 5, &index, 4);
	if (send(report_sock, msg, sizeof(msg), MSG_NOSIGNAL) != (ssize_t)sizeof(msg))
		end_process(1);
}

/* The i-th NUL-terminated string of b[0:n] from off, or NULL. */
static const char *next_string(const char *b, size_t n, size_t *off)
{
	const char *s = b + *off;
	const char *end;

	if (*off >= n)
		return NULL;
	end = memchr(s, '\0', n - *off);
	if (end == NULL)
		return NULL;
	*off += (size_t)(end - s) + 1;
	return s;
}

/*
 * init_serve answers the runtime until its go-ahead (direct init only):
 *
 *   'N' + fd       join the network namespace fd (made ahead); answer
 *   'J' + fds      write "0" to each cgroup v1 "tasks" file (index 0),
 *                  then with INIT_F_CGROUPNS unshare a cgroup namespace,
 *                  rooted in those cgroups (index 1); answer
 *   'M' + fd       u32 MS_* flags, then source, fstype and data, each
 *                  NUL-terminated: mount(2) that filesystem on the fd's
 *                  directory, for the filesystems that take their
 *                  namespace from the mounting task (proc, a cgroup
 *                  namespace's cgroup2): the runtime's thread is not in
 *                  this pid or cgroup namespace; answer
 *   'T' + fd       make the pty peer fd the session's controlling
 *                  terminal (index 0) and stdio (index 1 + the fd);
 *                  answer
 *   'G'            go on (no fds)
 *
 * Each answer is 'O' (answer()); the fds are closed at once.
 */
static void init_serve(void)
{
	char buf[4096];
	int fds[MAX_FDS];
	size_t nfds, i, n;

	for (;;) {
		int err = 0;
		uint32_t index = 0;

		n = recv_with_fds(buf, sizeof(buf), fds, &nfds);
		switch (buf[0]) {
		case 'G':
			if (n != 1 || nfds != 0)
				fail(XK_PROTOCOL, 0, 0);
			return;
		case 'N':
			if (n != 1 || nfds != 1)
				fail(XK_PROTOCOL, 0, 0);
			if (setns(fds[0], CLONE_NEWNET) < 0)
				err = errno;
			close(fds[0]);
			break;
		case 'J':
			if (n != 1)
				fail(XK_PROTOCOL, 0, 0);
			/* Into the host's cgroup tree: written and closed at once. */
			for (i = 0; i < nfds; i++) {
				if (err == 0 && write(fds[i], "0", 1) != 1)
					err = errno ? errno : EIO;
				close(fds[i]);
			}
			if (err == 0 && (init_mode.flags & INIT_F_CGROUPNS) &&
			    unshare(CLONE_NEWCGROUP) < 0) {
				err = errno;
				index = 1;
			}
			break;
		case 'T':
			if (n != 1 || nfds != 1)
				fail(XK_PROTOCOL, 0, 0);
			/* console.SetupPeer: the session's terminal, and stdio. */
			if (ioctl(fds[0], TIOCSCTTY, 0) < 0)
				err = errno;
			for (i = 0; err == 0 && i <= 2; i++) {
				if (fds[0] == (int)i) {
					if (fcntl(fds[0], F_SETFD, 0) < 0) {
						err = errno;
						index = 1 + (uint32_t)i;
					}
				} else if (dup2(fds[0], (int)i) < 0) {
					err = errno;
					index = 1 + (uint32_t)i;
				}
			}
			if (fds[0] > 2)
				close(fds[0]);
			break;
		case 'M': {
			size_t off = 5;
			const char *source, *fstype, *data;
			char target[64];
			uint32_t flags;

			if (n < 5 || nfds != 1)
				fail(XK_PROTOCOL, 0, 0);
			flags = get_u32((const unsigned char *)buf + 1);
			source = next_string(buf, n, &off);
			fstype = next_string(buf, n, &off);
			data = next_string(buf, n, &off);
			if (data == NULL || off != n)
				fail(XK_PROTOCOL, 0, 0);
			/* Before pivot_root: /proc is still the host's. */
			snprintf(target, sizeof(target), "/proc/self/fd/%d", fds[0]);
			if (mount(source, target, fstype, flags, data[0] ? data : NULL) < 0)
				err = errno;
			close(fds[0]);
			break;
		}
		default:
			fail(XK_PROTOCOL, 0, 0);
		}
		answer(err, index);
	}
}

/*
 * A procfs of this process's pid namespace that nobody else can reach: a
 * detached mount of its own, as the Go init's pathrs-lite makes, never
 * the container's /proc, which the config's mounts could have redirected
 * (CVE-2025-52881).
 */
static int private_procfs(void)
{
	int fs, mnt;

	fs = (int)syscall(SYS_fsopen, "proc", 1 /* FSOPEN_CLOEXEC */);
	if (fs < 0)
		fail(XK_START, errno, 1);
	if (syscall(SYS_fsconfig, fs, 6 /* FSCONFIG_CMD_CREATE */, NULL, NULL, 0) < 0)
		fail(XK_START, errno, 1);
	mnt = (int)syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */,
			   0x2 | 0x4 | 0x8 /* MOUNT_ATTR_NOSUID | NODEV | NOEXEC */);
	if (mnt < 0)
		fail(XK_START, errno, 1);
	close(fs);
	return mnt;
}

/*
 * The start of a direct init: 'S' on the socket (`berth run`), or
 * `berth start` opening exec.fifo, which this process reopens through
 * its handle (_BERTH_FIFO_FD, an O_PATH handle of the fifo alone) in a
 * private procfs (private_procfs), which blocks until then; then one
 * byte to it, as the Go init's waitForStart.
 */
static void await_start(void)
{
	char path[64];
	int handle, fifo, proc;
	char kind;
	ssize_t n;

	if (!(init_mode.flags & INIT_F_FIFO)) {
		do
			n = recv(report_sock, &kind, 1, 0);
		while (n < 0 && errno == EINTR);
		if (n == 0)
			end_process(1); /* the runtime is gone */
		if (n < 0)
			fail(XK_START, errno, 0);
		if (kind != 'S')
			fail(XK_PROTOCOL, 0, 3);
		return;
	}
	close(report_sock); /* the runtime is gone by now */
	handle = env_fd("_BERTH_FIFO_FD");
	if (handle < 0)
		fail(XK_START, EBADF, 1);
	proc = private_procfs();
	snprintf(path, sizeof(path), "self/fd/%d", handle);
	do
		fifo = openat(proc, path, O_WRONLY | O_CLOEXEC);
	while (fifo < 0 && errno == EINTR);
	if (fifo < 0)
		fail(XK_START, errno, 1);
	close(proc);
	close(handle);
	report_fifo = fifo;
	if (write(fifo, "0", 1) != 1)
		fail(XK_START, errno, 2);
}

/*
 * The sealed binary this process was started from (_BERTH_EXE_FD, as the
 * Go init's Init): the kernel holds it now, and a created init must hold
 * no handle of the host's while it waits for start.
 */
static void close_exe_handle(void)
{
	int fd = env_fd("_BERTH_EXE_FD");

	if (fd >= 0 && fd != report_sock)
		close(fd);
}

/*
 * The container's session keyring (libcontainer/keyring.go): join it by
 * name (made if missing) and, for an init, add prog.keyring_search to its
 * permissions, as joinSessionKeyring does. A kernel without keyrings is
 * not an error.
 */
static void join_keyring(void)
{
	/* KEYCTL_DESCRIBE: "type;uid;gid;perm;name", the name < 4096 bytes. */
	char desc[4096 + 64];
	const char *f;
	unsigned long perm;
	long id, n;
	int i;

	id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, prog.keyring);
	if (id < 0) {
		if (errno == ENOSYS)
			return;
		fail(XK_KEYRING, errno, 0);
	}
	if (prog.keyring_search == 0)
		return;
	n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof(desc));
	if (n < 0)
		fail(XK_KEYRING, errno, 1);
	if (n == 0 || (size_t)n > sizeof(desc))
		fail(XK_KEYRING, ERANGE, 1);
	desc[n - 1] = '\0';
	for (f = desc, i = 0; i < 3 && f != NULL; i++) {
		f = strchr(f, ';');
		if (f != NULL)
			f++;
	}
	if (f == NULL)
		fail(XK_KEYRING, EINVAL, 1);
	errno = 0;
	perm = strtoul(f, NULL, 16);
	if (errno != 0 || perm > 0xffffffffUL)
		fail(XK_KEYRING, EINVAL, 1);
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, (uint32_t)perm | prog.keyring_search) < 0)
		fail(XK_KEYRING, errno, 2);
}

/* os/exec's findExecutable: 0, or the error kind with *err. */
static uint32_t find_executable(const char *file, int *err)
{
	struct stat st;

	if (stat(file, &st) < 0) {
		*err = errno;
		return XK_LOOKUP_STAT;
	}
	if (S_ISDIR(st.st_mode)) {
		*err = EISDIR;
		return XK_LOOKUP_ERR;
	}
	if (faccessat(AT_FDCWD, file, X_OK, AT_EACCESS) == 0)
		return 0;
	*err = errno;
	if (*err != ENOSYS && *err != EPERM)
		return XK_LOOKUP_ERR;
	if (st.st_mode & 0111)
		return 0;
	*err = 0;
	return XK_LOOKUP_PERM;
}

/* The candidate to execute (prepareExec): its index. */
static uint32_t resolve(void)
{
	uint32_t kind;
	size_t i;
	int err = 0;

	for (i = 0; i < prog.ncand; i++) {
		kind = find_executable(prog.cand[i], &err);
		if (kind == 0)
			return (uint32_t)i;
		if (prog.flags & EXEC_F_SLASH)
			fail(kind, err, 0);
	}
	fail(XK_LOOKUP_NOTFOUND, 0, 0);
}

/* strconv.Atoi as the passwd parser uses it: 0 for anything else. */
static long long passwd_int(const char *s, size_t len)
{
	long long v = 0;
	int neg = 0;
	size_t i = 0;

	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		return 0;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (v > (LLONG_MAX - 9) / 10)
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return neg ? -v : v;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * The home of uid in the container's /etc/passwd, as lookupHome (userdb.go)
 * finds it: a regular file of at most PASSWD_MAX bytes, opened without
 * blocking, the first line whose third field is uid; NULL when there is
 * none or the file is unusable.
 */
static const char *passwd_home(uint32_t uid, char *buf, size_t bufsize)
{
	const char *found = NULL;
	struct stat st;
	/*
	 * A usual /etc/passwd is read on the stack: the process's first
	 * malloc (the C library setting up its heap, a few pages faulted) is
	 * most of the cost of this lookup, and it runs just before execve.
	 */
	char small[PASSWD_SMALL];
	char *data, *line, *end;
	ssize_t n;
	size_t size = 0;
	int fd;

	fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PASSWD_MAX) {
		close(fd);
		return NULL;
	}
	data = (size_t)st.st_size < sizeof(small) ? small : malloc((size_t)st.st_size + 1);
	if (data == NULL) {
		close(fd);
		return NULL;
	}
	while (size < (size_t)st.st_size) {
		n = read(fd, data + size, (size_t)st.st_size - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size += (size_t)n;
	}
	close(fd);
	data[size] = '\0';
	for (line = data; line < data + size; line = end + 1) {
		char *field[7] = { 0 };
		size_t flen[7] = { 0 };
		char *p, *q;
		int f = 0;

		end = memchr(line, '\n', (size_t)(data + size - line));
		if (end == NULL)
			end = data + size;
		if ((size_t)(end - line) > PASSWD_LINE_MAX) {
			/* The parser fails as a whole: no user at all. */
			found = NULL;
			break;
		}
		if (found != NULL)
			continue; /* the first match wins; the rest is only checked */
		p = line;
		q = end;
		while (p < q && is_space(*p))
			p++;
		while (q > p && is_space(q[-1]))
			q--;
		if (p == q)
			continue;
		field[0] = p;
		for (; p < q && f < 7; p++) {
			if (*p == ':') {
				flen[f] = (size_t)(p - field[f]);
				if (++f < 7)
					field[f] = p + 1;
			}
		}
		if (f < 7)
			flen[f] = (size_t)(q - field[f]);
		if (field[2] == NULL || passwd_int(field[2], flen[2]) != (long long)uid)
			continue;
		if (field[5] == NULL || flen[5] >= bufsize) {
			found = "";
			continue;
		}
		memcpy(buf, field[5], flen[5]);
		buf[flen[5]] = '\0';
		found = buf;
	}
	if (data != small)
		free(data);
	return found;
}

/* verifyCwd: the cwd just entered must be inside the container's root. */
static void verify_cwd(void)
{
	char wd[PATH_MAX];
	long r = syscall(SYS_getcwd, wd, sizeof(wd));

	if (r < 0 && errno == ENOENT)
		fail(XK_CWD_OUTSIDE, 0, 0);
	if (r < 0)
		fail(XK_GETCWD, errno, 0);
	if (wd[0] != '/')
		fail(XK_CWD_OUTSIDE, 0, 0);
}

/* enterCwdEarly: 1 when the process's own user must retry. */
static int enter_cwd_early(void)
{
	if (chdir(prog.cwd) < 0) {
		if (errno == EACCES || errno == EPERM)
			return 1;
		fail(XK_CHDIR, errno, 0);
	}
	verify_cwd();
	return 0;
}

static void close_exec_from(unsigned int from)
{
	DIR *d;
	struct dirent *e;

	if (syscall(SYS_close_range, from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	if (errno != ENOSYS && errno != EINVAL && errno != EPERM)
		fail(XK_CLOSE_EXEC, errno, 0);
	d = opendir("/proc/self/fd");
	if (d == NULL)
		fail(XK_CLOSE_EXEC, errno, 1);
	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (*end != '\0' || end == e->d_name || fd < (long)from || fd == dirfd(d))
			continue;
		(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

static void load_seccomp(void)
{
	struct sock_fprog fp = {
		.len = (unsigned short)prog.nfilter,
		.filter = prog.filter,
	};

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, prog.seccomp_flags, &fp) != 0)
		fail(XK_SECCOMP, errno, 0);
}

static void apply_bounding(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint32_t c;

	if (syscall(SYS_capget, &hdr, data) < 0)
		fail(XK_CAPGET, errno, 0);
	/* Without CAP_SETPCAP the set cannot shrink (the library's rule). */
	if (!(data[0].effective & (1u << CAP_SETPCAP)))
		return;
	for (c = 0; c <= prog.last_cap; c++) {
		if (prog.bounding & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			fail(XK_BOUNDING, errno, c);
	}
}

static void apply_final_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint32_t c;
	int i;

	for (i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(prog.effective >> (32 * i));
		data[i].permitted = (uint32_t)(prog.permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(prog.inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		fail(XK_CAPSET, errno, 0);
	if (prog.ambient == 0)
		return;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail(XK_AMBIENT, errno, 0);
	for (c = 0; c <= prog.last_cap; c++) {
		if (!(prog.ambient & (1ULL << c)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EINVAL)
			fail(XK_AMBIENT, errno, c);
	}
}

/*
 * The process's stdio becomes its user's, as under runc: a process that
 * is not root can then reopen it (/dev/stdout, /proc/self/fd/1), which a
 * pipe or file of root's with mode 0600 refuses. Only the owner changes;
 * /dev/null, what the user owns already, and what init may not chown (an
 * owner not mapped in the user namespace: EPERM; a read-only filesystem:
 * EROFS) are left as they are. Done before any filter goes in.
 */
static void own_stdio(void)
{
	struct stat st;
	int fd;

	for (fd = 0; fd < 3; fd++) {
		if (fstat(fd, &st) < 0)
			continue; /* not open: nothing to own */
		if (st.st_uid == prog.uid || (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)))
			continue;
		if (fchown(fd, prog.uid, (gid_t)-1) < 0 && errno != EPERM && errno != EROFS)
			fail(XK_STDIO_OWNER, errno, (uint32_t)fd);
	}
}

static void set_user(void)
{
	/* The raw calls: this process has one thread, no libc bookkeeping. */
	if (syscall(SYS_setgroups, prog.ngroups, prog.groups) < 0)
		fail(XK_SETGROUPS, errno, 0);
	if (syscall(SYS_setresgid, prog.gid, prog.gid, prog.gid) < 0)
		fail(XK_SETGID, errno, 0);
	if (syscall(SYS_setresuid, prog.uid, prog.uid, prog.uid) < 0)
		fail(XK_SETUID, errno, 0);
}

void direct_exec_run(int sock)
{
	uint32_t target, i;
	int retry_cwd, early;

	report_sock = sock;
	/* Its EOF tells the runtime that execve succeeded. */
	if (fcntl(sock, F_SETFD, FD_CLOEXEC) < 0)
		fail(XK_PROTOCOL, errno, 2);
	close_exe_handle();
	if (init_mode.on) {
		exit_on_signals();
		init_serve();
		/*
		 * pivot_root moved this process's root, not its cwd, which is
		 * still the runtime's, in the host's tree (CVE-2024-21626): into
		 * the container's root before anything else, as the Go init's
		 * Pivot.
		 */
		if (chdir("/") < 0)
			fail(XK_CHDIR, errno, 1);
	} else {
		await_go();
		if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
			fail(XK_PDEATHSIG, errno, 0);
		reset_ignored_hup_int();
	}
	/* The Go init's rootfs step, the Go exec's enter step. */
	if (prog.keyring != NULL)
		join_keyring();
	/* prepareProcess: the program, then the rlimits. */
	target = resolve();
	for (i = 0; i < prog.nrlim; i++) {
		struct rlimit64 lim = { prog.rlim[i].soft, prog.rlim[i].hard };

		if (prlimit64(0, (int)prog.rlim[i].resource, &lim, NULL) < 0)
			fail(XK_RLIMIT, errno, i);
	}
	if (init_mode.on) {
		/* The ready step: from here on the runtime may exit. */
		char ready = 'R';

		if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
			fail(XK_PDEATHSIG, errno, 0);
		if (send(report_sock, &ready, 1, MSG_NOSIGNAL) != 1)
			end_process(1);
		await_start();
	}
	/*
	 * finalizeAndExec. The affinity berth was started with (or set for
	 * the clone) is not the process's: every CPU, which the kernel
	 * narrows to the cgroup's cpuset (setFinalCPUAffinity).
	 */
	{
		cpu_set_t all;

		memset(&all, 0xff, sizeof(all));
		(void)sched_setaffinity(0, sizeof(all), &all);
	}
	if (prog.flags & EXEC_F_HOME) {
		const char *home = passwd_home(prog.uid, home_env + 5, sizeof(home_env) - 5);

		memcpy(home_env, "HOME=", 5);
		if (home == NULL || home[0] == '\0')
			strcpy(home_env + 5, "/");
		prog.envp[prog.envc++] = home_env;
	}
	prog.envp[prog.envc] = NULL;
	prog.argv[prog.argc] = NULL;
	retry_cwd = enter_cwd_early();
	close_exec_from(prog.close_from);
	own_stdio();
	early = (prog.flags & EXEC_F_SECCOMP) && !(prog.flags & EXEC_F_NNP);
	if (early)
		load_seccomp();
	if (prog.flags & EXEC_F_CAPS)
		apply_bounding();
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fail(XK_KEEPCAPS_SET, errno, 0);
	set_user();
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		fail(XK_KEEPCAPS_CLEAR, errno, 0);
	if (retry_cwd) {
		if (chdir(prog.cwd) < 0)
			fail(XK_CHDIR, errno, 0);
		verify_cwd();
	}
	if (prog.flags & EXEC_F_CAPS)
		apply_final_caps();
	if ((prog.flags & EXEC_F_NNP) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(XK_NNP, errno, 0);
	umask((mode_t)prog.umask);
	if ((prog.flags & EXEC_F_SECCOMP) && !early)
		load_seccomp();
	execve(prog.cand[target], prog.argv, prog.envp);
	fail(XK_EXEC, errno, target);
}
