/* The printf engine, shared by the string and console outputs. */
#ifndef LIBC_FORMAT_H
#define LIBC_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*libc_format_out)(void *ctx, const char *s, size_t n);

/* Formats fmt with ap through out; returns the number of bytes produced. */
int libc_format(libc_format_out out, void *ctx, const char *fmt, va_list ap);

#endif
