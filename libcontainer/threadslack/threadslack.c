//go:build linux && cgo

/*
 * A timer slack for the Go runtime's sysmon thread, and for no other.
 *
 * sysmon wakes every 20 us until it has been idle for 50 rounds, and only
 * then backs off towards 10 ms. A berth command lives for a few tens of
 * milliseconds, so nearly all of its life falls in the 20 us phase: sysmon's
 * sleeps were most of each command's context switches, and each costs CPU
 * (the README's speed section has the numbers). A slack lets the kernel
 * defer each of those wake-ups by up to SYSMON_SLACK_NS, so a short command
 * sees a handful of them. Nothing berth waits for depends on sysmon's
 * period: a goroutine made runnable while every P is held in a system call
 * waits up to that much longer, which is the same order as sysmon's own
 * 10 ms period once it has backed off.
 *
 * How: the package's #cgo LDFLAGS link the binary with
 * --wrap=pthread_create, and runtime/cgo makes every Go thread with
 * pthread_create, so every thread of the process starts here.
 *
 *   thread                      slack it runs with
 *   first one made (sysmon)     SYSMON_SLACK_NS
 *   made by sysmon              the process's own (read on the first call)
 *   any other                   inherited from its creator: the process's own
 *
 * runtime.main starts sysmon before any other thread and before package
 * initialisation, so the first pthread_create is sysmon's. sysmon itself
 * starts threads (when it hands a P to a new M), and a thread inherits its
 * creator's slack; those are set back explicitly. This matters beyond
 * latency: a child forked by a thread keeps that thread's slack across
 * execve, and a container's processes must run with the slack the runtime
 * was given, not with sysmon's. TestSlackOnSysmonOnly checks the table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>

#define SYSMON_SLACK_NS 1000000UL

int __real_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

struct start {
	void *(*fn)(void *);
	void *arg;
};

/* Written by the first call, before any other thread exists. */
static int sysmon_made;
static unsigned long process_slack;
static struct start sysmon_start;

static __thread int is_sysmon;

/* Threads sysmon made, for the test to know the reset path ran. */
static unsigned long sysmon_children;

unsigned long berth_sysmon_slack(void)
{
	return SYSMON_SLACK_NS;
}

unsigned long berth_sysmon_children(void)
{
	return __atomic_load_n(&sysmon_children, __ATOMIC_RELAXED);
}

static void *sysmon_entry(void *unused)
{
	(void)unused;
	is_sysmon = 1;
	prctl(PR_SET_TIMERSLACK, SYSMON_SLACK_NS, 0, 0, 0);
	return sysmon_start.fn(sysmon_start.arg);
}

static void *reset_entry(void *p)
{
	struct start s = *(struct start *)p;

	free(p);
	prctl(PR_SET_TIMERSLACK, process_slack, 0, 0, 0);
	__atomic_fetch_add(&sysmon_children, 1, __ATOMIC_RELAXED);
	return s.fn(s.arg);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	struct start *s;
	int err;

	if (!sysmon_made) {
		sysmon_made = 1;
		process_slack = (unsigned long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
		sysmon_start.fn = fn;
		sysmon_start.arg = arg;
		return __real_pthread_create(t, attr, sysmon_entry, NULL);
	}
	if (!is_sysmon)
		return __real_pthread_create(t, attr, fn, arg);

	/* Refused rather than started with sysmon's slack. */
	s = malloc(sizeof(*s));
	if (s == NULL)
		return EAGAIN;
	s->fn = fn;
	s->arg = arg;
	err = __real_pthread_create(t, attr, reset_entry, s);
	if (err != 0)
		free(s);
	return err;
}
