/* String to integer conversions, with C's exact rules for bases, prefixes,
 * overflow (ERANGE, clamped) and the end pointer. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

/* Parses the magnitude; *neg gets the sign.  On overflow returns
 * ULLONG_MAX, sets ERANGE and *overflow. */
static unsigned long long parse(const char *s, char **end, int base, bool *neg,
				bool *overflow)
{
	const unsigned long long limit = ULLONG_MAX;
	const char *p = s, *digits;
	unsigned long long v = 0;

	*neg = *overflow = false;
	if (base < 0 || base == 1 || base > 36) {
		errno = EINVAL;
		if (end)
			*end = (char *)s;
		return 0;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 32) == 'x' &&
	    isxdigit((unsigned char)p[2])) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = *p == '0' ? 8 : 10;
	}
	digits = p;
	for (;; p++) {
		unsigned d;
		if (isdigit((unsigned char)*p))
			d = *p - '0';
		else if (isalpha((unsigned char)*p))
			d = (*p | 32) - 'a' + 10;
		else
			break;
		if (d >= (unsigned)base)
			break;
		if (v > (limit - d) / base)
			*overflow = true;
		else
			v = v * base + d;
	}
	if (end)
		*end = (char *)(p == digits ? s : p);
	if (*overflow) {
		errno = ERANGE;
		return limit;
	}
	return v;
}

long long strtoll(const char *restrict s, char **restrict end, int base)
{
	bool neg, overflow;
	unsigned long long v = parse(s, end, base, &neg, &overflow);
	if (!neg && v > LLONG_MAX) {
		errno = ERANGE;
		return LLONG_MAX;
	}
	if (neg && v > (unsigned long long)LLONG_MAX + 1) {
		errno = ERANGE;
		return LLONG_MIN;
	}
	return neg ? (long long)(0 - v) : (long long)v;
}

unsigned long long strtoull(const char *restrict s, char **restrict end,
			    int base)
{
	bool neg, overflow;
	unsigned long long v = parse(s, end, base, &neg, &overflow);
	if (overflow)
		return v;
	return neg ? 0 - v : v;
}

long strtol(const char *restrict s, char **restrict end, int base)
{
	return strtoll(s, end, base); /* long is long long here (LP64) */
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
	return strtoull(s, end, base);
}

int atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}
long atol(const char *s)
{
	return strtol(s, NULL, 10);
}
