//go:build linux && cgo

/*
 * Namespace setup that must run before the Go runtime starts threads:
 * setns(2) into user and mount namespaces is refused in a multi-threaded
 * process, and unshare(CLONE_NEWUSER) likewise.  The constructor below runs
 * in every process of a binary that links this package, so its fast path is
 * a single getenv(): nothing else happens unless _BERTH_NSENTER_FD is set.
 *
 * Protocol (keep in sync with nsenter.go).  The socket is one end of an
 * AF_UNIX SOCK_SEQPACKET socketpair, so every send is exactly one message.
 * Integers are in host byte order (both ends run on the same machine).
 *
 *   parent -> child, one message, at most 64 KiB:
 *     u32 magic 0x424e5331, u32 total length (header included, must equal
 *     the message size), then attributes back to back, no padding:
 *       u16 type, u16 payload length, payload
 *     JOIN    (1): u32 CLONE_NEW* type, then the path (1..PATH_MAX-1 bytes,
 *                  no NUL); at most one per namespace type
 *     UNSHARE (2): u32 CLONE_NEW* flags; at most once
 *     TIMENS  (3): text for /proc/self/timens_offsets (1..255 bytes);
 *                  at most once, only with CLONE_NEWTIME in UNSHARE
 *     OOM     (4): text for /proc/self/oom_score_adj (1..15 bytes);
 *                  at most once
 *     STACKROOT (5): no payload; at most once, only with CLONE_NEWNS in
 *                  UNSHARE: "/" is its mount namespace's root mount (an
 *                  initramfs); before any join or unshare, stack a clone
 *                  of "/" on it in a mount namespace of the caller's user
 *                  namespace (stack_root_clone)
 *     EXEC_* (16..23): a direct exec's program (direct.h,
 *                  direct_exec.c); only with joins, never with UNSHARE
 *     Any other type, a short or overrunning attribute is an error.
 *   child -> parent, one message each, first byte is the kind:
 *     'M'          unshared a user namespace: write my uid_map/gid_map
 *                  (and setgroups) now; the pid is the started process
 *     'P' + i32    done, no fork: this pid continues into Go
 *     'C' + i32    done, forked: i32 is the child's pid (in the parent's
 *                  pid namespace); the sender exits 0 right after
 *     'E' + text   failed (text without NUL); the sender exits 1
 *   parent -> child:
 *     'A'          ack of 'M', the maps are written
 *   With a program, the process that continues does not go into Go: it
 *   waits for 'G' [+ fds] and reports EOF or 'X' (direct_exec.c).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "direct.h"
#include "errno_text.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

#define NSENTER_ENV "_BERTH_NSENTER_FD"
#define REQ_MAGIC 0x424e5331u
#define REQ_MAX (64 * 1024)
#define TIMENS_MAX 256
#define OOM_MAX 16

enum { ATTR_JOIN = 1, ATTR_UNSHARE = 2, ATTR_TIMENS = 3, ATTR_OOM = 4, ATTR_STACKROOT = 5 };

/*
 * Join order.  All files are opened before the first setns, so a joined
 * mount namespace cannot change what a later path resolves to; the user
 * namespace comes first so that the capabilities it grants cover the
 * namespaces it owns, and mnt comes last.
 */
static const uint32_t ns_order[] = {
	CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET,
	CLONE_NEWCGROUP, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWNS,
};
#define NS_COUNT (sizeof(ns_order) / sizeof(ns_order[0]))
#define NS_ALL (CLONE_NEWUSER | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | \
		CLONE_NEWCGROUP | CLONE_NEWPID | CLONE_NEWTIME | CLONE_NEWNS)

struct request {
	uint32_t join_mask;
	char join_path[NS_COUNT][PATH_MAX];
	int have_unshare;
	uint32_t unshare;
	size_t timens_len;
	char timens[TIMENS_MAX];
	size_t oom_len;
	char oom[OOM_MAX];
	/* The request holds an exec process's program (direct.h). */
	int direct;
	int stackroot;
};

/* Only touched on the slow path; zeroed data out of the way (COLD_BSS)
 * costs nothing until then. */
static unsigned char req_buf[REQ_MAX] COLD_BSS;
static struct request req COLD_BSS;
static int sock = -1;

#define die nsenter_die

void nsenter_errno_text(int err, int upper, char *buf, size_t len)
{
	if (err > 0 && (size_t)err < sizeof(errno_texts) / sizeof(errno_texts[0]) && errno_texts[err])
		snprintf(buf, len, "%s", errno_texts[err]);
	else
		snprintf(buf, len, "errno %d", err);
	if (upper && buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
}

/* Report an error to the parent (or stderr before the socket is known), exit. */
void nsenter_die(int err, const char *fmt, ...)
{
	char msg[PATH_MAX + 256];
	char text[128];
	size_t len;
	va_list ap;

	msg[0] = 'E';
	va_start(ap, fmt);
	vsnprintf(msg + 1, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	len = 1 + strlen(msg + 1);
	if (err != 0) {
		nsenter_errno_text(err, 1, text, sizeof(text));
		snprintf(msg + len, sizeof(msg) - len, ": %s", text);
	}
	len += strlen(msg + len);
	if (sock < 0 || send(sock, msg, len, MSG_NOSIGNAL) < 0)
		dprintf(STDERR_FILENO, "nsenter: %.*s\n", (int)(len - 1), msg + 1);
	_exit(1);
}

static int ns_index(uint32_t type)
{
	size_t i;

	for (i = 0; i < NS_COUNT; i++)
		if (ns_order[i] == type)
			return (int)i;
	return -1;
}

static void parse_join(const unsigned char *p, size_t len)
{
	uint32_t type;
	size_t path_len;
	int idx;

	if (len < 5)
		die(0, "request: join attribute too short (%zu bytes)", len);
	type = get_u32(p);
	idx = ns_index(type);
	if (idx < 0)
		die(0, "request: bad namespace type %#x", type);
	if (req.join_mask & type)
		die(0, "request: namespace type %#x joined twice", type);
	path_len = len - 4;
	if (path_len >= PATH_MAX)
		die(0, "request: join path too long (%zu bytes)", path_len);
	if (memchr(p + 4, '\0', path_len) != NULL)
		die(0, "request: join path contains NUL");
	memcpy(req.join_path[idx], p + 4, path_len);
	req.join_path[idx][path_len] = '\0';
	req.join_mask |= type;
}

static void parse_request(size_t n)
{
	size_t off = 8;

	if (n < 8)
		die(0, "request: short header (%zu bytes)", n);
	if (get_u32(req_buf) != REQ_MAGIC)
		die(0, "request: bad magic %#x", get_u32(req_buf));
	if (get_u32(req_buf + 4) != n)
		die(0, "request: header length %u, message length %zu",
		    get_u32(req_buf + 4), n);

	while (off < n) {
		const unsigned char *payload;
		uint16_t type, len;

		if (n - off < 4)
			die(0, "request: truncated attribute at offset %zu", off);
		type = get_u16(req_buf + off);
		len = get_u16(req_buf + off + 2);
		if (len > n - off - 4)
			die(0, "request: attribute %u at offset %zu overruns the request",
			    type, off);
		payload = req_buf + off + 4;
		off += 4 + (size_t)len;

		switch (type) {
		case ATTR_JOIN:
			parse_join(payload, len);
			break;
		case ATTR_UNSHARE:
			if (len != 4 || req.have_unshare)
				die(0, "request: bad or repeated unshare attribute");
			req.unshare = get_u32(payload);
			req.have_unshare = 1;
			if (req.unshare & ~(uint32_t)NS_ALL)
				die(0, "request: bad unshare flags %#x", req.unshare);
			break;
		case ATTR_TIMENS:
			if (len == 0 || len >= TIMENS_MAX || req.timens_len != 0)
				die(0, "request: bad or repeated time offsets attribute");
			memcpy(req.timens, payload, len);
			req.timens_len = len;
			break;
		case ATTR_OOM:
			if (len == 0 || len >= OOM_MAX || req.oom_len != 0)
				die(0, "request: bad or repeated oom_score_adj attribute");
			memcpy(req.oom, payload, len);
			req.oom_len = len;
			break;
		case ATTR_STACKROOT:
			if (len != 0 || req.stackroot)
				die(0, "request: bad or repeated stack-root attribute");
			req.stackroot = 1;
			break;
		default:
			if (!direct_exec_attr(type, payload, len))
				die(0, "request: unknown attribute type %u", type);
		}
	}
	if (req.timens_len != 0 && !(req.unshare & CLONE_NEWTIME))
		die(0, "request: time offsets without a new time namespace");
	if (req.stackroot && !(req.unshare & CLONE_NEWNS))
		die(0, "request: stack-root without a new mount namespace");
	req.direct = direct_exec_requested();
	if (req.direct && req.unshare != 0)
		die(0, "request: a direct exec only joins namespaces");
}

/*
 * An initramfs host's "/" is its mount namespace's root mount, which
 * pivot_root(2) cannot move; init pivots from a clone of "/" stacked on
 * it instead (libcontainer/rootfs/initramfs.go). With a user namespace
 * that clone is made here, in a mount namespace of the caller's user
 * namespace, before this process enters the container's: the container's
 * mount namespace, copied from this one into a less privileged user
 * namespace, then has the clone locked (MNT_LOCKED), and pivot_root hands
 * that lock to the container's root. Made in the container's own mount
 * namespace, the root would be unlocked: a container with CAP_SYS_ADMIN
 * in its user namespace could detach it and, joining its own mount
 * namespace again, stand on the host's initramfs. Every mount here is
 * made a slave first, so nothing reaches the caller's namespace.
 */
static void stack_root_clone(void)
{
	int tree;

	if (unshare(CLONE_NEWNS) < 0)
		die(errno, "initramfs root: unshare mount namespace");
	if (mount("", "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		die(errno, "initramfs root: make / slave");
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, "/",
			    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		die(errno, "initramfs root: clone /");
	if (fchdir(tree) < 0)
		die(errno, "initramfs root: chdir to the clone of /");
	if (syscall(SYS_move_mount, tree, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		die(errno, "initramfs root: stack the clone of / on the initramfs");
	if (chroot(".") < 0)
		die(errno, "initramfs root: chroot to the clone of /");
	if (chdir("/") < 0)
		die(errno, "initramfs root: chdir /");
	close(tree);
}

static int send_pid(char kind, pid_t pid)
{
	unsigned char msg[5];
	int32_t v = (int32_t)pid;

	msg[0] = (unsigned char)kind;
	memcpy(msg + 1, &v, sizeof(v));
	return send(sock, msg, sizeof(msg), MSG_NOSIGNAL) == (ssize_t)sizeof(msg) ? 0 : -1;
}

/*
 * process.oomScoreAdj, written while this process is still dumpable and
 * in the caller's namespaces, as runc's nsexec does: once not dumpable,
 * /proc/self belongs to host root, out of an unprivileged caller's reach
 * (rootless), and inside a user namespace the kernel no longer sees the
 * caller's CAP_SYS_RESOURCE, which lowering the value needs. Every later
 * process of the container (init's children, the program) inherits it.
 */
static void write_oom_score_adj(void)
{
	int fd, err;
	ssize_t n;

	if (req.oom_len == 0)
		return;
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die(errno, "open /proc/self/oom_score_adj");
	n = write(fd, req.oom, req.oom_len);
	err = errno;
	close(fd);
	if (n == (ssize_t)req.oom_len)
		return;
	if (n >= 0)
		die(0, "set oom_score_adj to %.*s: short write", (int)req.oom_len, req.oom);
	if (err == EACCES || err == EPERM)
		die(0, "set oom_score_adj to %.*s: permission denied (lowering it needs CAP_SYS_RESOURCE)",
		    (int)req.oom_len, req.oom);
	die(err, "set oom_score_adj to %.*s", (int)req.oom_len, req.oom);
}

static void nsenter(const char *fd_text)
{
	int join_fd[NS_COUNT];
	int timens_fd = -1;
	uint32_t rest;
	char *end;
	ssize_t n;
	size_t i;
	long fd;

	errno = 0;
	fd = strtol(fd_text, &end, 10);
	if (errno != 0 || end == fd_text || *end != '\0' || fd < 3 || fd > INT_MAX)
		die(0, "bad %s value \"%.32s\"", NSENTER_ENV, fd_text);
	sock = (int)fd;

	n = recv(sock, req_buf, sizeof(req_buf), MSG_TRUNC);
	if (n < 0)
		die(errno, "read request");
	if ((size_t)n > sizeof(req_buf))
		die(0, "request: too large (%zd bytes)", n);
	parse_request((size_t)n);
	write_oom_score_adj();

	/*
	 * Opened now, while /proc is still the caller's: a joined mount
	 * namespace may have no /proc, or one of another pid namespace. And
	 * while this process is still dumpable: a non-dumpable process's
	 * /proc/self files are root's, which an unprivileged caller (rootless)
	 * may not open. The write's check is the opener's capability over the
	 * new time namespace's user namespace, which such a caller owns.
	 */
	if (req.timens_len != 0) {
		timens_fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (timens_fd < 0)
			die(errno, "open /proc/self/timens_offsets");
	}

	/*
	 * Until exec, this process may hold host fds: keep others out of it.
	 * Dumpable up to here, as it came from execve: it has opened nothing
	 * but its own timens_offsets and joined nothing yet.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die(errno, "prctl(PR_SET_DUMPABLE)");

	for (i = 0; i < NS_COUNT; i++) {
		join_fd[i] = -1;
		if (!(req.join_mask & ns_order[i]))
			continue;
		join_fd[i] = open(req.join_path[i], O_RDONLY | O_CLOEXEC);
		if (join_fd[i] < 0)
			die(errno, "open %s", req.join_path[i]);
	}
	if (req.stackroot)
		stack_root_clone();
	for (i = 0; i < NS_COUNT; i++) {
		if (join_fd[i] < 0)
			continue;
		if (setns(join_fd[i], (int)ns_order[i]) < 0)
			die(errno, "setns %s", req.join_path[i]);
		close(join_fd[i]);
	}

	/*
	 * The new user namespace gives this process a full capability set in
	 * it; the parent writes the id maps because only it holds the
	 * capabilities over the parent namespace that the mapping needs.
	 */
	if (req.unshare & CLONE_NEWUSER) {
		char ack = 'M';
		/*
		 * An unprivileged parent (rootless) can open our uid_map and
		 * gid_map, and newuidmap accepts us as its caller's process,
		 * only while /proc/self is ours rather than root's: dumpable,
		 * for just the map writing. Only processes of the same user,
		 * which could trace the runtime itself, gain by it.
		 */
		int rootless = geteuid() != 0;

		if (unshare(CLONE_NEWUSER) < 0)
			die(errno, "unshare user namespace");
		if (rootless && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
			die(errno, "prctl(PR_SET_DUMPABLE)");
		if (send(sock, &ack, 1, MSG_NOSIGNAL) != 1)
			die(errno, "send map request");
		n = recv(sock, &ack, 1, 0);
		if (n < 0)
			die(errno, "read map ack");
		if (n != 1 || ack != 'A')
			die(0, "no ack for the id maps");
		if (rootless && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			die(errno, "prctl(PR_SET_DUMPABLE)");
	}
	rest = req.unshare & ~(uint32_t)CLONE_NEWUSER;
	if (rest != 0 && unshare((int)rest) < 0)
		die(errno, "unshare %#x", rest);

	/* Offsets are only writable until the first process enters the namespace. */
	if (timens_fd >= 0) {
		if (write(timens_fd, req.timens, req.timens_len) != (ssize_t)req.timens_len)
			die(errno, "write /proc/self/timens_offsets");
		close(timens_fd);
	}

	/* New pid and time namespaces apply to children only. */
	if ((req.unshare | req.join_mask) & (CLONE_NEWPID | CLONE_NEWTIME)) {
		pid_t child = fork();

		if (child < 0)
			die(errno, "fork");
		if (child > 0) {
			if (send_pid('C', child) < 0) {
				kill(child, SIGKILL);
				_exit(1);
			}
			_exit(0);
		}
		/*
		 * The process leads a session of its own, as runc's do: CRIU
		 * refuses to checkpoint a tree whose session leader is outside
		 * it (the parent above, gone). A session leader already (never
		 * after fork) would fail harmlessly.
		 */
		(void)setsid();
	} else if (send_pid('P', getpid()) < 0) {
		die(errno, "send pid");
	}
	if (req.direct)
		direct_exec_run(sock);

	close(sock);
	unsetenv(NSENTER_ENV);
}

__attribute__((constructor)) static void nsenter_constructor(void)
{
	const char *fd_text = getenv(NSENTER_ENV);

	if (fd_text != NULL)
		nsenter(fd_text);
}
