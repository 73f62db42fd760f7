/*
 * Formatted output to the console (ingot_console_write).  stdout is
 * buffered and flushed at each newline, when full, by fflush() and exit();
 * stderr is unbuffered.  There is no input and no files.
 *
 * Conversions: d i u o x X c s p %, with the flags - + space # 0, field
 * width and precision (also *), and the length modifiers hh h l ll z t j.
 * Guests have no floating point: a conversion outside that list (f e g a n
 * ...) consumes no argument and is printed as written.
 */
#ifndef _STDIO_H
#define _STDIO_H

#include <stdarg.h>
#include <stddef.h>

typedef struct ingot_file FILE;
typedef long ssize_t;

extern FILE *const stdout;
extern FILE *const stderr;

#define EOF (-1)

int printf(const char *restrict fmt, ...) __attribute__((format(printf, 1, 2)));
int fprintf(FILE *restrict f, const char *restrict fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sprintf(char *restrict buf, const char *restrict fmt, ...)
    __attribute__((format(printf, 2, 3)));
int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vprintf(const char *restrict fmt, va_list ap);
int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap);
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt,
	      va_list ap);
int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap);

int fputc(int c, FILE *f);
int putc(int c, FILE *f);
int putchar(int c);
int fputs(const char *restrict s, FILE *restrict f);
int puts(const char *s);
size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f);
int fflush(FILE *f);

#endif
