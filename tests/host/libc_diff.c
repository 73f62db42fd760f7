/*
 * Differential test of lib/libc's printf engine, strto* and strerror against
 * glibc: both are run on the same randomly generated conversions and strings,
 * and any difference is printed.  Built for the host, with lib/libc's
 * functions renamed so that both sets link into one program.
 *   libc_diff [ITERATIONS [SEED]]
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/libc/format.h"

long ingot_strtol(const char *, char **, int);
unsigned long ingot_strtoul(const char *, char **, int);
long long ingot_strtoll(const char *, char **, int);
unsigned long long ingot_strtoull(const char *, char **, int);
char *ingot_strerror(int);

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned pick(unsigned n)
{
	return next() % n;
}

struct buf {
	char *p;
	size_t len, cap;
};

static void to_buf(void *ctx, const char *s, size_t n)
{
	struct buf *b = ctx;
	for (size_t i = 0; i < n; i++)
		if (b->len + 1 < b->cap)
			b->p[b->len++] = s[i];
	b->p[b->len] = '\0';
}

static int ingot_snprintf(char *p, size_t cap, const char *fmt, ...)
{
	struct buf b = {p, 0, cap};
	va_list ap;
	p[0] = '\0';
	va_start(ap, fmt);
	int n = libc_format(to_buf, &b, fmt, ap);
	va_end(ap);
	return n;
}

/* An integer with interesting magnitudes: small, near powers of two,
 * near the limits of each width. */
static uint64_t interesting(void)
{
	switch (pick(4)) {
	case 0:
		return pick(20);
	case 1:
		return (1ULL << pick(64)) + pick(3) - 1;
	case 2:
		return -(uint64_t)pick(3);
	default:
		return next();
	}
}

static void add(char **f, const char *s)
{
	size_t n = strlen(s);
	memcpy(*f, s, n);
	*f += n;
}

static unsigned failures;

static void check(const char *fmt, const char *want, int wn, const char *got,
		  int gn)
{
	if (wn == gn && strcmp(want, got) == 0)
		return;
	if (failures++ < 20)
		printf("DIFF format \"%s\": glibc \"%s\" (%d), ingot \"%s\" "
		       "(%d)\n",
		       fmt, want, wn, got, gn);
}

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-security"

static void one_format(void)
{
	static const char *lengths[] = {"",   "hh", "h", "l",
					"ll", "z",  "j", "t"};
	static const char convs[] = "diuoxXcsp";
	char fmt[64], *f = fmt, want[512], got[512];
	char conv = convs[pick(sizeof convs - 1)];
	int star_w = 0, star_p = 0, w = 0, p = 0;
	int numeric = strchr("diuoxX", conv) != NULL;

	add(&f, pick(3) ? "<" : "");
	*f++ = '%';
	if (pick(2))
		*f++ = '-';
	if (numeric) {
		if (pick(3) == 0)
			*f++ = '+';
		if (pick(3) == 0)
			*f++ = ' ';
		if (pick(3) == 0 && strchr("oxX", conv))
			*f++ = '#';
		if (pick(3) == 0)
			*f++ = '0';
	}
	switch (pick(3)) {
	case 0:
		break;
	case 1:
		f += sprintf(f, "%u", pick(25));
		break;
	default:
		*f++ = '*';
		star_w = 1;
		w = (int)pick(50) - 25;
	}
	if (conv != 'c' && conv != 'p' && pick(2)) {
		*f++ = '.';
		if (pick(2)) {
			f += sprintf(f, "%u", pick(25));
		} else {
			*f++ = '*';
			star_p = 1;
			p = (int)pick(30) - 5;
		}
	}
	if (numeric)
		add(&f, lengths[pick(8)]);
	*f++ = conv;
	add(&f, pick(2) ? ">" : "");
	*f = '\0';

	uint64_t v = interesting();
	static const char *strs[] = {"", "a", "hello", "a longer string here"};
	const char *s = strs[pick(4)];
	void *ptr = pick(4) ? (void *)(uintptr_t)v : NULL;
	int wn, gn;

#define BOTH(...)                                                              \
	do {                                                                   \
		wn = snprintf(want, sizeof want, fmt, __VA_ARGS__);            \
		gn = ingot_snprintf(got, sizeof got, fmt, __VA_ARGS__);        \
	} while (0)
#define WITH_STARS(arg)                                                        \
	do {                                                                   \
		if (star_w && star_p)                                          \
			BOTH(w, p, arg);                                       \
		else if (star_w)                                               \
			BOTH(w, arg);                                          \
		else if (star_p)                                               \
			BOTH(p, arg);                                          \
		else                                                           \
			BOTH(arg);                                             \
	} while (0)

	if (conv == 's')
		WITH_STARS(s);
	else if (conv == 'p')
		WITH_STARS(ptr);
	else if (conv == 'c')
		WITH_STARS((int)(' ' + v % 90));
	else if (strstr(fmt, "l") || strstr(fmt, "z") || strstr(fmt, "j") ||
		 strstr(fmt, "t"))
		WITH_STARS((long)v);
	else
		WITH_STARS((int)v);
	check(fmt, want, wn, got, gn);
}

static void one_strtol(void)
{
	static const char alphabet[] = " \t+-0123456789xXabcfgzZ";
	static const int bases[] = {0, 2, 8, 10, 16, 36};
	char s[32];
	int n = pick(26);
	for (int i = 0; i < n; i++)
		s[i] = pick(3) ? "0123456789"[pick(10)]
			       : alphabet[pick(sizeof alphabet - 1)];
	s[n] = '\0';
	int base = pick(4) ? bases[pick(6)] : (int)pick(40);
	/* glibc leaves *end unset for a bad base (C says nothing). */
	char *we, *ge;
	int werr, gerr;

#define COMPARE(fn, ifn, T, pf)                                                \
	do {                                                                   \
		errno = 0;                                                     \
		T wv = fn(s, &we, base);                                       \
		werr = errno;                                                  \
		errno = 0;                                                     \
		T gv = ifn(s, &ge, base);                                      \
		gerr = errno;                                                  \
		if ((wv != gv || werr != gerr ||                               \
		     (we != ge && werr != EINVAL)) &&                          \
		    failures++ < 20)                                           \
			printf("DIFF " #fn "(\"%s\", %d): glibc " pf           \
			       " end %td errno %d, ingot " pf                  \
			       " end %td errno %d\n",                          \
			       s, base, wv, we - s, werr, gv, ge - s, gerr);   \
	} while (0)

	COMPARE(strtol, ingot_strtol, long, "%ld");
	COMPARE(strtoul, ingot_strtoul, unsigned long, "%lu");
	COMPARE(strtoll, ingot_strtoll, long long, "%lld");
	COMPARE(strtoull, ingot_strtoull, unsigned long long, "%llu");
}

int main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 200000;
	rng = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x1234567;
	if (iterations <= 0 || !rng) {
		fprintf(stderr, "usage: libc_diff [ITERATIONS [SEED]]\n");
		return 2;
	}
	for (long i = 0; i < iterations; i++) {
		one_format();
		one_strtol();
	}
	/* Every code lib/libc knows reads as glibc says it. */
	unsigned known = 0;
	for (int code = 0; code < 134; code++) {
		const char *ours = ingot_strerror(code);
		if (strcmp(ours, "Unknown error") == 0)
			continue;
		known++;
		if (strcmp(ours, strerror(code)) != 0) {
			printf("strerror(%d): ours \"%s\", glibc \"%s\"\n",
			       code, ours, strerror(code));
			failures++;
		}
	}
	if (known < 30) {
		printf("strerror: only %u codes known\n", known);
		failures++;
	}
	printf("libc_diff: %ld formats and %ld strtol calls compared, %u "
	       "differences\n",
	       iterations, iterations * 4, failures);
	return failures != 0;
}
