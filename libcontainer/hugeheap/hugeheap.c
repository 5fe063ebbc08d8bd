//go:build linux && cgo

/*
 * Huge pages for the first chunks of the Go heap.
 *
 * A berth command lives a few tens of milliseconds, and most of its page
 * faults were the Go heap's: the allocator gives each size class a span of
 * its own, so even a small heap is spread over a few hundred pages, and on a
 * virtualised host each first touch of a page is one of the costliest things
 * a command does (tests/bench/WORK.md has the numbers). Marking the heap's
 * first chunks MADV_HUGEPAGE before anything touches them lets the kernel back
 * each 2 MiB of them with one huge page, in one fault, when it has one free.
 *
 * How: with cgo, the runtime maps memory through the C library's mmap
 * (runtime/cgo's x_cgo_mmap), and the package's #cgo LDFLAGS link the binary
 * with --wrap=mmap, so every such mapping passes here:
 *
 *   mapping                                         what is done
 *   anonymous, private, MAP_FIXED, read+write,      MADV_HUGEPAGE, while fewer than
 *     at least 2 MiB (the runtime's sysMap of a       HUGE_BUDGET bytes have been
 *     heap chunk: reserved first, then mapped)        advised; the range is recorded
 *   anything else                                   nothing
 *
 * The heap starts at a random page of its first 4 MiB chunk (Go's heap base
 * randomisation) and a command's heap may run into the next one, so the
 * budget is two chunks. The rest of the heap, and every other mapping, keeps
 * the kernel's default.
 *
 * berth_hugeheap_release marks the recorded ranges MADV_NOHUGEPAGE and closes
 * the budget. A process about to live on (`run`, `exec` and `restore` in the
 * foreground, `events`, `checkpoint`, a Go init) calls it, so that khugepaged
 * never fills its sparse heap chunks with huge pages: only the huge pages
 * already faulted stay. The host's transparent_hugepage "never", or Go's
 * GODEBUG=disablethp=1 (sysMap advises against them right after), turns all
 * of this off.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/mman.h>
#include <sys/types.h>

#define HUGE_PAGE (2UL << 20)
#define HUGE_BUDGET (8UL << 20)
#define MAX_RANGES (HUGE_BUDGET / HUGE_PAGE)

void *__real_mmap(void *, size_t, int, int, int, off_t);

struct range {
	void *addr;
	size_t len;
};

/*
 * The runtime maps heap chunks under its heap lock, but other mappings come
 * from any thread: the budget is claimed with an atomic add.
 */
static size_t advised;
static struct range ranges[MAX_RANGES];
static unsigned nranges;

static int is_heap_chunk(size_t len, int prot, int flags, int fd)
{
	return fd == -1 && len >= HUGE_PAGE && prot == (PROT_READ | PROT_WRITE) &&
	       (flags & (MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED)) == (MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED) &&
	       !(flags & MAP_SHARED);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = __real_mmap(addr, len, prot, flags, fd, off);
	size_t before;
	unsigned i;

	if (p == MAP_FAILED || !is_heap_chunk(len, prot, flags, fd))
		return p;
	before = __atomic_fetch_add(&advised, len, __ATOMIC_RELAXED);
	if (before >= HUGE_BUDGET)
		return p;
	if (len > HUGE_BUDGET - before)
		len = HUGE_BUDGET - before;
	/* Advice only: refused (an old kernel, a seccomp filter), it changes nothing. */
	if (madvise(p, len, MADV_HUGEPAGE) != 0)
		return p;
	i = __atomic_fetch_add(&nranges, 1, __ATOMIC_RELAXED);
	if (i < MAX_RANGES) {
		ranges[i].len = len;
		__atomic_store_n(&ranges[i].addr, p, __ATOMIC_RELEASE);
	}
	return p;
}

/* berth_hugeheap_release returns how many ranges it marked. */
int berth_hugeheap_release(void)
{
	unsigned i, n = __atomic_load_n(&nranges, __ATOMIC_RELAXED);
	int done = 0;

	/* No chunk mapped from now on is advised. */
	__atomic_store_n(&advised, HUGE_BUDGET, __ATOMIC_RELAXED);
	if (n > MAX_RANGES)
		n = MAX_RANGES;
	for (i = 0; i < n; i++) {
		void *a = __atomic_load_n(&ranges[i].addr, __ATOMIC_ACQUIRE);
		if (a != NULL && madvise(a, ranges[i].len, MADV_NOHUGEPAGE) == 0)
			done++;
	}
	return done;
}

/* berth_hugeheap_advised returns the bytes advised so far, for the test. */
size_t berth_hugeheap_advised(void)
{
	size_t n = __atomic_load_n(&advised, __ATOMIC_RELAXED);
	return n < HUGE_BUDGET ? n : HUGE_BUDGET;
}
