/* printf formatting: integers, characters, strings and pointers, with C's
 * flags, width, precision and length modifiers (see stdio.h). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "format.h"

enum {
	F_LEFT = 1,
	F_PLUS = 2,
	F_SPACE = 4,
	F_ALT = 8,
	F_ZERO = 16,
};

struct spec {
	unsigned flags;
	int width;
	int prec;    /* -1: none */
	char length; /* 'H' hh, 'h', 'l', 'L' ll, 'z', 't', 'j', or 0 */
	char conv;
};

struct sink {
	libc_format_out out;
	void *ctx;
	int total;
};

static void emit(struct sink *k, const char *s, size_t n)
{
	if (n) {
		k->out(k->ctx, s, n);
		k->total += n;
	}
}

static void pad(struct sink *k, char c, int n)
{
	char buf[32];
	memset(buf, c, sizeof buf);
	for (; n > 0; n -= sizeof buf)
		emit(k, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf);
}

/* prefix (sign or 0x), zeros to reach the precision, digits, padded. */
static void emit_number(struct sink *k, const struct spec *sp,
			const char *prefix, const char *digits, int ndigits)
{
	int plen = strlen(prefix);
	int zeros = sp->prec > ndigits ? sp->prec - ndigits : 0;
	int len = plen + zeros + ndigits;
	int fill = sp->width > len ? sp->width - len : 0;

	if (!(sp->flags & F_LEFT) && (sp->flags & F_ZERO) && sp->prec < 0) {
		zeros += fill;
		fill = 0;
	}
	if (!(sp->flags & F_LEFT))
		pad(k, ' ', fill);
	emit(k, prefix, plen);
	pad(k, '0', zeros);
	emit(k, digits, ndigits);
	if (sp->flags & F_LEFT)
		pad(k, ' ', fill);
}

static void format_int(struct sink *k, const struct spec *sp, uintmax_t v,
		       bool negative)
{
	static const char lower[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";
	const char *set = sp->conv == 'X' ? upper : lower;
	unsigned base = sp->conv == 'o' ? 8 : (sp->conv | 32) == 'x' ? 16 : 10;
	char buf[24], *d = buf + sizeof buf;
	const char *prefix = "";
	bool zero = v == 0;

	while (v) {
		*--d = set[v % base];
		v /= base;
	}
	if (zero && sp->prec != 0)
		*--d = '0';
	int n = buf + sizeof buf - d;

	bool is_signed = sp->conv == 'd' || sp->conv == 'i';
	if (negative)
		prefix = "-";
	else if (is_signed && (sp->flags & F_PLUS))
		prefix = "+";
	else if (is_signed && (sp->flags & F_SPACE))
		prefix = " ";
	if (sp->flags & F_ALT) {
		if (base == 16 && !zero)
			prefix = sp->conv == 'X' ? "0X" : "0x";
		else if (base == 8 && (n == 0 || *d != '0') && sp->prec <= n) {
			*--d = '0';
			n++;
		}
	}
	emit_number(k, sp, prefix, d, n);
}

static void format_str(struct sink *k, const struct spec *sp, const char *s,
		       size_t n)
{
	int fill = sp->width > (int)n ? sp->width - (int)n : 0;
	if (!(sp->flags & F_LEFT))
		pad(k, ' ', fill);
	emit(k, s, n);
	if (sp->flags & F_LEFT)
		pad(k, ' ', fill);
}

static uintmax_t get_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H':
		return (unsigned char)va_arg(*ap, unsigned);
	case 'h':
		return (unsigned short)va_arg(*ap, unsigned);
	case 'l':
	case 'L':
	case 'z':
	case 't':
	case 'j':
		return va_arg(*ap, unsigned long);
	default:
		return va_arg(*ap, unsigned);
	}
}

static intmax_t get_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H':
		return (signed char)va_arg(*ap, int);
	case 'h':
		return (short)va_arg(*ap, int);
	case 'l':
	case 'L':
	case 'z':
	case 't':
	case 'j':
		return va_arg(*ap, long);
	default:
		return va_arg(*ap, int);
	}
}

/* Parses the conversion after '%'; returns the character after it. */
static const char *parse_spec(const char *p, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){.prec = -1};
	for (;; p++) {
		const char *f = strchr("-+ #0", *p);
		if (!*p || !f)
			break;
		sp->flags |= 1u << (f - "-+ #0");
	}
	if (*p == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->flags |= F_LEFT;
			sp->width = -sp->width;
		}
		p++;
	} else {
		while (*p >= '0' && *p <= '9')
			sp->width = sp->width * 10 + (*p++ - '0');
	}
	if (*p == '.') {
		p++;
		sp->prec = 0;
		if (*p == '*') {
			sp->prec = va_arg(*ap, int);
			if (sp->prec < 0)
				sp->prec = -1;
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				sp->prec = sp->prec * 10 + (*p++ - '0');
		}
	}
	if (p[0] == 'h' && p[1] == 'h') {
		sp->length = 'H';
		p += 2;
	} else if (p[0] == 'l' && p[1] == 'l') {
		sp->length = 'L';
		p += 2;
	} else if (*p && strchr("hlztj", *p)) {
		sp->length = *p++;
	}
	sp->conv = *p;
	return *p ? p + 1 : p;
}

int libc_format(libc_format_out out, void *ctx, const char *fmt, va_list ap0)
{
	struct sink k = {out, ctx, 0};
	struct spec sp;
	va_list ap;

	va_copy(ap, ap0);
	while (*fmt) {
		const char *pct = strchr(fmt, '%');
		if (!pct) {
			emit(&k, fmt, strlen(fmt));
			break;
		}
		emit(&k, fmt, pct - fmt);
		const char *next = parse_spec(pct + 1, &sp, &ap);
		switch (sp.conv) {
		case 'd':
		case 'i': {
			intmax_t v = get_signed(&sp, &ap);
			format_int(&k, &sp,
				   v < 0 ? -(uintmax_t)v : (uintmax_t)v, v < 0);
			break;
		}
		case 'u':
		case 'o':
		case 'x':
		case 'X':
			format_int(&k, &sp, get_unsigned(&sp, &ap), false);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			format_str(&k, &sp, &c, 1);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			format_str(&k, &sp, s,
				   sp.prec >= 0 ? strnlen(s, sp.prec)
						: strlen(s));
			break;
		}
		case 'p': {
			void *p = va_arg(ap, void *);
			if (!p) {
				format_str(&k, &sp, "(nil)", 5);
				break;
			}
			sp.conv = 'x';
			sp.flags |= F_ALT;
			format_int(&k, &sp, (uintptr_t)p, false);
			break;
		}
		case '%':
			emit(&k, "%", 1);
			break;
		default:
			/* Unsupported (floating point, %n) or malformed:
			 * printed as written, no argument consumed. */
			emit(&k, pct, next - pct);
			break;
		}
		fmt = next;
	}
	va_end(ap);
	return k.total;
}
