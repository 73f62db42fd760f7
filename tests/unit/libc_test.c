/* Unit tests of lib/libc: strings, formatted output, conversions, sorting
 * and the allocator under a random workload with every byte checked. */
#include <ctype.h>
#include <ingot/abi.h>
#include <errno.h>
#include <ingot/libc.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Some cases are exactly what the compiler warns about. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-overflow"

static char out[256];

#define FMT(want, ...)                                                         \
	do {                                                                   \
		int n_ = snprintf(out, sizeof out, __VA_ARGS__);               \
		CHECK(strcmp(out, want) == 0 && n_ == (int)strlen(want),       \
		      "%s gave \"%s\" (%d), want \"%s\"", #__VA_ARGS__, out,   \
		      n_, want);                                               \
	} while (0)

static void test_format(void)
{
	FMT("42", "%d", 42);
	FMT("-42", "%i", -42);
	FMT("-2147483648", "%d", INT_MIN);
	FMT("-9223372036854775808", "%lld", LLONG_MIN);
	FMT("18446744073709551615", "%llu", ULLONG_MAX);
	FMT("   42|42   |00042", "%5d|%-5d|%05d", 42, 42, 42);
	FMT("+42 42", "%+d% d", 42, 42);
	FMT("  -042", "%6.3d", -42);
	FMT("-00042", "%06d", -42);
	FMT("    42", "%06.2d", 42);
	FMT("", "%.0d", 0);
	FMT("    ", "%4.0d", 0);
	FMT("0", "%d", 0);
	FMT("ff FF 0xff 0XFF 0", "%x %X %#x %#X %#x", 255, 255, 255, 255, 0);
	FMT("0x00ff", "%#06x", 255);
	FMT("17 017 0", "%o %#o %#o", 15, 15, 0);
	FMT("0017", "%#.4o", 15);
	FMT("-1 255 65535", "%hhd %hhu %hu", 255, 255, -1);
	FMT("4294967295", "%u", UINT_MAX);
	FMT("123456789012", "%zu", (size_t)123456789012ULL);
	FMT("-5", "%td", (ptrdiff_t)-5);
	FMT("-7", "%jd", (intmax_t)-7);
	FMT("abc|  abc|abc  |ab", "%s|%5s|%-5s|%.2s", "abc", "abc", "abc",
	    "abc");
	FMT("x|  y|z ", "%c|%3c|%-2c", 'x', 'y', 'z');
	FMT("    ab", "%*.*s", 6, 2, "abcdef");
	FMT("ab    |", "%*s|", -6, "ab");
	FMT("100%", "%d%%", 100);
	FMT("0x1234abcd", "%p", (void *)0x1234abcd);
	FMT("(nil)", "%p", (void *)0);
	FMT("(null)", "%s", (char *)0);

	/* Truncation: the return value is the untruncated length. */
	char small[5];
	int n = snprintf(small, sizeof small, "%s", "hello world");
	CHECK(n == 11 && strcmp(small, "hell") == 0, "truncated %d %s", n,
	      small);
	n = snprintf(NULL, 0, "%d", 12345);
	CHECK(n == 5, "snprintf(NULL, 0) gave %d", n);

	/* Long padding goes through the pad loop more than once. */
	n = snprintf(out, sizeof out, "%100d", 7);
	CHECK(n == 100 && out[98] == ' ' && out[99] == '7' && out[100] == 0,
	      "wide pad %d", n);
}

#define STRTOL(fn, s, base, want, want_end, want_errno)                        \
	do {                                                                   \
		char *end_;                                                    \
		errno = 0;                                                     \
		__typeof__(fn(s, &end_, base)) v_ = fn(s, &end_, base);        \
		CHECK(v_ == (want) && end_ - (s) == (want_end) &&              \
			  errno == (want_errno),                               \
		      #fn "(\"%s\", %d) gave %lld end %d errno %d", s, base,   \
		      (long long)v_, (int)(end_ - (s)), errno);                \
	} while (0)

static void test_strtol(void)
{
	STRTOL(strtol, "  -123xyz", 10, -123L, 6, 0);
	STRTOL(strtol, "0x1F", 0, 31L, 4, 0);
	STRTOL(strtol, "0x", 16, 0L, 1, 0);
	STRTOL(strtol, "0xg", 0, 0L, 1, 0);
	STRTOL(strtol, "017", 0, 15L, 3, 0);
	STRTOL(strtol, "z", 36, 35L, 1, 0);
	STRTOL(strtol, "", 10, 0L, 0, 0);
	STRTOL(strtol, "  +", 10, 0L, 0, 0);
	STRTOL(strtol, "9223372036854775807", 10, LONG_MAX, 19, 0);
	STRTOL(strtol, "9223372036854775808", 10, LONG_MAX, 19, ERANGE);
	STRTOL(strtol, "-9223372036854775808", 10, LONG_MIN, 20, 0);
	STRTOL(strtol, "-9223372036854775809", 10, LONG_MIN, 20, ERANGE);
	STRTOL(strtoul, "18446744073709551615", 10, ULONG_MAX, 20, 0);
	STRTOL(strtoul, "18446744073709551616", 10, ULONG_MAX, 20, ERANGE);
	STRTOL(strtoul, "-1", 10, ULONG_MAX, 2, 0);
	STRTOL(strtoull, "111", 2, 7ULL, 3, 0);
	STRTOL(strtol, "12", 1, 0L, 0, EINVAL);
	CHECK(atoi("  -77 apples") == -77, "atoi");
}

static void test_strings(void)
{
	char buf[64];

	CHECK(strlen("") == 0 && strlen("abc") == 3, "strlen");
	CHECK(strnlen("abcdef", 3) == 3 && strnlen("ab", 9) == 2, "strnlen");
	CHECK(strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0 &&
		  strcmp("x", "x") == 0,
	      "strcmp");
	CHECK(strcmp("\xff", "a") > 0, "strcmp compares as unsigned char");
	CHECK(strncmp("abcX", "abcY", 3) == 0, "strncmp");
	CHECK(strcasecmp("HeLLo", "hello") == 0 &&
		  strncasecmp("ABx", "aby", 2) == 0,
	      "strcasecmp");
	CHECK(memcmp("\x80", "\x01", 1) > 0, "memcmp is unsigned");
	const char *s = "hello, world";
	CHECK(strchr(s, 'o') == s + 4 && strrchr(s, 'o') == s + 8 &&
		  strchr(s, 0) == s + 12 && !strchr(s, 'z'),
	      "strchr/strrchr");
	CHECK(strstr(s, "world") == s + 7 && strstr(s, "") == s &&
		  !strstr(s, "worlds"),
	      "strstr");
	CHECK(strspn("aabbc", "ab") == 4 && strcspn("abc,d", ",") == 3,
	      "strspn/strcspn");
	CHECK(memchr(s, 'w', 12) == s + 7 && !memchr(s, 'w', 7), "memchr");
	CHECK(strlcpy(buf, "truncate me", 6) == 11 && !strcmp(buf, "trunc"),
	      "strlcpy");
	memset(buf, 'x', sizeof buf);
	strncpy(buf, "ab", 5);
	CHECK(!memcmp(buf, "ab\0\0\0x", 6), "strncpy pads with zeros");

	/* memmove both ways, overlapping; memcpy at every misalignment. */
	for (int i = 0; i < 64; i++)
		buf[i] = (char)i;
	memmove(buf + 3, buf, 40);
	CHECK(buf[3] == 0 && buf[42] == 39, "memmove forward");
	memmove(buf, buf + 3, 40);
	CHECK(buf[0] == 0 && buf[39] == 39, "memmove backward");
	static unsigned char src[300], dst[300];
	for (int i = 0; i < 300; i++)
		src[i] = (unsigned char)(i * 7);
	int bad = 0;
	for (int a = 0; a < 8; a++)
		for (int n = 0; n < 260; n += 13) {
			memset(dst, 0xee, sizeof dst);
			memcpy(dst + a, src + (7 - a), n);
			for (int i = 0; i < n; i++)
				bad += dst[a + i] != src[7 - a + i];
			bad += dst[a + n] != 0xee;
		}
	CHECK(bad == 0, "memcpy misaligned: %d wrong bytes", bad);

	char tok[] = "a,,b;c";
	char *save, *t1 = strtok_r(tok, ",;", &save);
	char *t2 = strtok_r(NULL, ",;", &save);
	char *t3 = strtok_r(NULL, ",;", &save);
	CHECK(t1 && t2 && t3 && !strcmp(t1, "a") && !strcmp(t2, "b") &&
		  !strcmp(t3, "c") && !strtok_r(NULL, ",;", &save),
	      "strtok_r");

	char *d = strdup("dup");
	char *nd = strndup("dupe", 2);
	CHECK(d && nd && !strcmp(d, "dup") && !strcmp(nd, "du"), "strdup");
	free(d);
	free(nd);

	CHECK(isdigit('7') && !isdigit('a') && isxdigit('F') && isspace('\t') &&
		  !isspace('x') && isalpha('Q') && toupper('a') == 'A' &&
		  tolower('Z') == 'z' && !isalpha(0xe9) && !isprint(0x7f),
	      "ctype");
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_sort(void)
{
	static int v[1000];
	for (int i = 0; i < 1000; i++)
		v[i] = (int)(next_random() % 500) - 250;
	qsort(v, 1000, sizeof v[0], cmp_int);
	int sorted = 1;
	for (int i = 1; i < 1000; i++)
		sorted &= v[i - 1] <= v[i];
	CHECK(sorted, "qsort");
	int key = v[321];
	int *hit = bsearch(&key, v, 1000, sizeof v[0], cmp_int);
	CHECK(hit && *hit == key, "bsearch hit");
	key = 1000;
	CHECK(!bsearch(&key, v, 1000, sizeof v[0], cmp_int), "bsearch miss");
	qsort(v, 0, sizeof v[0], cmp_int);
}

/* Random malloc/realloc/free with each block filled with its own pattern;
 * every byte is checked before the block is released. */
#define SLOTS 512

static struct {
	unsigned char *p;
	size_t n;
	unsigned char tag;
} slot[SLOTS];

static int block_intact(int i)
{
	for (size_t k = 0; k < slot[i].n; k++)
		if (slot[i].p[k] != (unsigned char)(slot[i].tag + k))
			return 0;
	return 1;
}

static void fill(int i)
{
	for (size_t k = 0; k < slot[i].n; k++)
		slot[i].p[k] = (unsigned char)(slot[i].tag + k);
}

static void test_malloc(void)
{
	struct libc_heap_stats before, after;
	int corrupt = 0, misaligned = 0, failed = 0;

	libc_heap_stats(&before);
	for (int step = 0; step < 20000; step++) {
		int i = next_random() % SLOTS;
		if (slot[i].p) {
			corrupt += !block_intact(i);
			if (next_random() % 3 == 0) {
				size_t n = next_random() % 3000;
				unsigned char *q = realloc(slot[i].p, n);
				if (!q) {
					failed++;
					continue;
				}
				size_t keep = n < slot[i].n ? n : slot[i].n;
				slot[i].p = q;
				slot[i].n = keep;
				corrupt += !block_intact(i);
				slot[i].n = n;
				fill(i);
				continue;
			}
			free(slot[i].p);
			slot[i].p = NULL;
			continue;
		}
		size_t n = next_random() % 8 ? next_random() % 256
					     : next_random() % 20000;
		slot[i].p = malloc(n);
		if (!slot[i].p) {
			failed++;
			continue;
		}
		misaligned += (uintptr_t)slot[i].p % 16 != 0;
		slot[i].n = n;
		slot[i].tag = (unsigned char)next_random();
		fill(i);
	}
	for (int i = 0; i < SLOTS; i++) {
		if (slot[i].p) {
			corrupt += !block_intact(i);
			free(slot[i].p);
			slot[i].p = NULL;
		}
	}
	libc_heap_stats(&after);
	CHECK(corrupt == 0, "%d blocks were overwritten", corrupt);
	CHECK(misaligned == 0, "%d blocks not 16-byte aligned", misaligned);
	CHECK(failed == 0, "%d allocations failed", failed);
	CHECK(after.allocations == before.allocations &&
		  after.in_use_bytes == before.in_use_bytes,
	      "leak: %zu blocks %zu bytes in use after freeing all",
	      after.allocations, after.in_use_bytes);
	/* Everything freed merges back: one block or the untouched top. */
	CHECK(after.largest_free + after.in_use_bytes >=
		  before.largest_free + before.in_use_bytes - 64,
	      "fragmented: largest free %zu, was %zu", after.largest_free,
	      before.largest_free);

	int *z = calloc(1000, sizeof *z);
	int nonzero = 0;
	for (int i = 0; z && i < 1000; i++)
		nonzero += z[i] != 0;
	CHECK(z && nonzero == 0, "calloc zeroes");
	free(z);
	CHECK(!calloc(SIZE_MAX / 2, 4), "calloc overflow returns NULL");
	CHECK(!malloc(SIZE_MAX - 8), "huge malloc returns NULL");
	CHECK(!malloc(after.untouched_bytes + after.free_bytes + 4096),
	      "malloc beyond the heap returns NULL");

	for (size_t align = 32; align <= 65536; align *= 4) {
		void *a = aligned_alloc(align, 100);
		CHECK(a && (uintptr_t)a % align == 0, "aligned_alloc(%zu) %p",
		      align, a);
		memset(a, 0x5a, 100);
		free(a);
	}
	void *pm = NULL;
	CHECK(posix_memalign(&pm, 3, 8) == EINVAL, "posix_memalign bad");
	CHECK(posix_memalign(&pm, 64, 8) == 0 && (uintptr_t)pm % 64 == 0,
	      "posix_memalign");
	free(pm);
	free(NULL);
}

int ingot_main(int argc, char **argv)
{
	test_format();
	test_strtol();
	test_strings();
	test_sort();
	test_malloc();
	return check_done("libc_test");
}
