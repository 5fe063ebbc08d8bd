//go:build linux && cgo

/*
 * Map the running binary's code, read-only data, initialised data and the
 * first part of its zeroed data in a call each, before anything runs (see
 * prefault.go for why).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PREFAULT_ENV "BERTH_PREFAULT"
/*
 * How much of the zeroed data (bss) is populated. The linker lays out
 * the Go runtime's and the C library's variables first, and the runtime
 * writes many of them as it starts (its heap's central lists, its
 * semaphore table, memstats): in berth they fill the first ~230 KiB,
 * where a command faulted ~30 pages one by one. Right after them lies the
 * Go FIPS module's 32 MiB random-bit buffer, which a command never
 * touches, and after that the init code's large buffers (COLD_BSS in
 * libcontainer/nsenter/direct.h). Each page populated and never touched
 * is memory the command holds for nothing: the bound leaves the
 * variables some room to grow, no more.
 */
#define BSS_HOT (320UL << 10)

/* Bytes the constructor populated, for the test. */
static size_t populated;

size_t berth_prefault_populated(void)
{
	return populated;
}

size_t berth_prefault_bss_hot(void)
{
	return BSS_HOT;
}

__attribute__((constructor)) static void berth_prefault(void)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	size_t n = getauxval(AT_PHNUM), i;
	uintptr_t bias = 0, relro_end = 0, page = (uintptr_t)sysconf(_SC_PAGESIZE);
	const char *env = getenv(PREFAULT_ENV);

	if (ph == NULL || (env != NULL && strcmp(env, "off") == 0))
		return;
	/* A position-independent binary is loaded away from its addresses. */
	for (i = 0; i < n; i++)
		if (ph[i].p_type == PT_PHDR)
			bias = (uintptr_t)ph - ph[i].p_vaddr;
	for (i = 0; i < n; i++)
		if (ph[i].p_type == PT_GNU_RELRO)
			relro_end = bias + ph[i].p_vaddr + ph[i].p_memsz;
	for (i = 0; i < n; i++) {
		uintptr_t start, end;
		int advice = MADV_POPULATE_READ;

		if (ph[i].p_type != PT_LOAD)
			continue;
		start = bias + ph[i].p_vaddr;
		end = bias + ph[i].p_vaddr + ph[i].p_filesz;
		if (ph[i].p_flags & PF_W) {
			/*
			 * The initialised data, which the Go runtime writes
			 * as it starts: each page copied now rather than at
			 * its first write; and the first BSS_HOT of the
			 * zeroed data after it, each page zeroed now. Not
			 * what may be read-only after relocation, nor the
			 * rest of the zeroed data, most of which is never
			 * touched.
			 */
			advice = MADV_POPULATE_WRITE;
			if (start < relro_end)
				start = relro_end;
			start = (start + page - 1) & ~(page - 1);
			end = bias + ph[i].p_vaddr + ph[i].p_memsz;
			if (end > bias + ph[i].p_vaddr + ph[i].p_filesz + BSS_HOT)
				end = bias + ph[i].p_vaddr + ph[i].p_filesz + BSS_HOT;
			end = (end + page - 1) & ~(page - 1);
		} else {
			start &= ~(page - 1);
		}
		/* Before Linux 5.14, EINVAL: the pages fault in as before. */
		if (end > start && madvise((void *)start, end - start, advice) == 0)
			populated += end - start;
	}
}
