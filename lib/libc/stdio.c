/* stdout and stderr over the console, and the printf family. */
#include <ingot/abi.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

struct ingot_file {
	char *buf; /* NULL: unbuffered */
	size_t cap, len;
};

static char stdout_buf[CONFIG_LIBC_STDOUT_BUFFER];
static struct ingot_file out_file = {stdout_buf, sizeof stdout_buf, 0};
static struct ingot_file err_file = {NULL, 0, 0};
FILE *const stdout = &out_file;
FILE *const stderr = &err_file;

int fflush(FILE *f)
{
	if (!f) {
		fflush(stdout);
		return fflush(stderr);
	}
	if (f->len) {
		ingot_console_write(f->buf, f->len);
		f->len = 0;
	}
	return 0;
}

/* Appends to f's buffer, flushing when it fills or a line ends. */
static void file_write(FILE *f, const char *s, size_t n)
{
	if (!f->buf) {
		ingot_console_write(s, n);
		return;
	}
	bool newline = memchr(s, '\n', n) != NULL;
	if (n > f->cap - f->len) {
		fflush(f);
		if (n >= f->cap) {
			ingot_console_write(s, n);
			return;
		}
	}
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	if (newline)
		fflush(f);
}

static void to_file(void *ctx, const char *s, size_t n)
{
	file_write(ctx, s, n);
}

int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
	return libc_format(to_file, f, fmt, ap);
}

int fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *restrict fmt, va_list ap)
{
	return vfprintf(stdout, fmt, ap);
}

int printf(const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return n;
}

struct strbuf {
	char *buf;
	size_t size, len;
};

static void to_string(void *ctx, const char *s, size_t n)
{
	struct strbuf *b = ctx;
	if (b->len < b->size) {
		size_t room = b->size - b->len;
		memcpy(b->buf + b->len, s, n < room ? n : room);
	}
	b->len += n;
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt,
	      va_list ap)
{
	struct strbuf b = {buf, size ? size - 1 : 0, 0};
	int n = libc_format(to_string, &b, fmt, ap);
	if (size)
		buf[b.len < b.size ? b.len : b.size] = '\0';
	return n;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
{
	return vsnprintf(buf, (size_t)-1 / 2, fmt, ap);
}

int sprintf(char *restrict buf, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsprintf(buf, fmt, ap);
	va_end(ap);
	return n;
}

size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f)
{
	if (size && n)
		file_write(f, p, size * n);
	return n;
}

int fputs(const char *restrict s, FILE *restrict f)
{
	file_write(f, s, strlen(s));
	return 0;
}

int puts(const char *s)
{
	fputs(s, stdout);
	return fputc('\n', stdout);
}

int fputc(int c, FILE *f)
{
	char ch = (char)c;
	file_write(f, &ch, 1);
	return (unsigned char)c;
}

int putc(int c, FILE *f)
{
	return fputc(c, f);
}

int putchar(int c)
{
	return fputc(c, stdout);
}
