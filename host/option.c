/* Option values: see option.h. */
#include <stdio.h>

#include "option.h"

static char error[160];

/* 4194304 -> "4M", for messages. */
static const char *human(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "KMG";
	int u = -1;
	while (u < 2 && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%lu", (unsigned long)v);
	else
		snprintf(buf, size, "%lu%c", (unsigned long)v, units[u]);
	return buf;
}

const char *host_parse_size(const char *s, uint64_t min, uint64_t max,
			    uint64_t *bytes)
{
	uint64_t v = 0;
	unsigned shift = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			goto range;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	}
	if (p == s || (shift ? p[1] : p[0])) {
		snprintf(error, sizeof error,
			 "--mem: '%s' is not a size (a number, then K, M or G)",
			 s);
		return error;
	}
	if (v > (max >> shift) || (v << shift) < min)
		goto range;
	if ((v << shift) % 4096) {
		snprintf(error, sizeof error,
			 "--mem: '%s' is not a multiple of 4K", s);
		return error;
	}
	*bytes = v << shift;
	return NULL;
range:;
	char lo[24], hi[24];
	snprintf(error, sizeof error, "--mem: '%s' is outside %s..%s", s,
		 human(min, lo, sizeof lo), human(max, hi, sizeof hi));
	return error;
}
