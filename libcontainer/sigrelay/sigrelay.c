//go:build linux && cgo

/*
 * The handler behind sigrelay.Notify: it writes the number of each signal
 * it catches, as one byte, to a non-blocking pipe that a goroutine reads.
 * It runs on whatever thread the kernel picks, on that thread's signal
 * stack (SA_ONSTACK: the Go runtime gives every thread one), and does
 * nothing but the write: no Go, no lock, errno kept. A full pipe drops the
 * signal, as os/signal drops one for a full channel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int relay_fd = -1;

static void relay(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (write(relay_fd, &b, 1) < 0) {
		/* full (dropped) or closed: nothing a handler can do */
	}
	errno = saved;
}

/*
 * berth_sigrelay_install points each of the n signals at the handler, the
 * way the Go runtime installs its own (SA_ONSTACK, SA_RESTART, every
 * signal blocked while it runs). It returns 0, or the signal it could not
 * install; those before it are installed.
 */
int berth_sigrelay_install(int fd, const int *sigs, int n)
{
	struct sigaction sa;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = relay;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	relay_fd = fd;
	for (i = 0; i < n; i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return sigs[i];
	return 0;
}
