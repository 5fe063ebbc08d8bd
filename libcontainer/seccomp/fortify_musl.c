//go:build musl

// Debian's libseccomp.a is built against glibc with _FORTIFY_SOURCE, so its
// filter printer (seccomp_export_pfc) calls glibc's checked fprintf, which
// musl does not have. This is that entry point on musl: the check it adds
// (%n in a writable format string) does not apply to libseccomp's constant
// formats, so it prints as fprintf does.

#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *stream, int flag, const char *format, ...);

int __fprintf_chk(FILE *stream, int flag, const char *format, ...)
{
	va_list ap;
	int n;

	(void)flag;
	va_start(ap, format);
	n = vfprintf(stream, format, ap);
	va_end(ap);
	return n;
}
