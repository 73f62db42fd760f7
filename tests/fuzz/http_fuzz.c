/*
 * libFuzzer harness over lib/http's request parser: any bytes in, fed to
 * http_head_end() in pieces whose sizes the input's first byte picks (the
 * result must not depend on them), then the head parsed and every field
 * helper run over it, and what follows the head fed to the chunked-body
 * reader.  Invariants: the head's length is within the bytes and the
 * limits, every span lies inside the head, a normalised path starts with
 * "/", has no "." or ".." segment nor "//", and is no longer than it was;
 * a range lies inside the representation.  Anything else aborts.
 *   make fuzz-http             (long run, by hand)
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/http/request.h"
#include "../../lib/http/site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

/* Small limits, so the fuzzer reaches them. */
static const struct http_limits lim = {256, 512, 16};

static void check_span(struct http_span s, size_t len)
{
	CHECK(s.off <= len && s.len <= len - s.off);
}

static void check_path(const uint8_t *p, int n)
{
	CHECK(n >= 1 && p[0] == '/');
	for (int i = 0; i < n; i++) {
		CHECK(p[i] >= 0x20 && p[i] != 0x7f);
		if (p[i] != '/')
			continue;
		CHECK(i + 1 == n || p[i + 1] != '/');
		int e = i + 1;
		while (e < n && p[e] != '/')
			e++;
		int k = e - i - 1;
		CHECK(!(k == 1 && p[i + 1] == '.'));
		CHECK(!(k == 2 && p[i + 1] == '.' && p[i + 2] == '.'));
	}
}

static int head_end_in_pieces(const uint8_t *d, size_t size, unsigned step)
{
	struct http_scan s = {0};
	size_t have = 0;
	int n = 0;
	while (!n && have < size) {
		have += step < size - have ? step : size - have;
		n = http_head_end(d, have, &s, &lim);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned step = data[0] % 17 + 1;
	const uint8_t *d = data + 1;
	size--;

	int n = head_end_in_pieces(d, size, step);
	CHECK(n ==
	      head_end_in_pieces(d, size, (unsigned)size ? (unsigned)size : 1));
	if (n <= 0) {
		CHECK(n == 0 || n == -400 || n == -414 || n == -431);
		return 0;
	}
	CHECK((size_t)n <= size && (size_t)n <= 64 + 256 + 512 + 4);

	uint8_t *head = malloc((size_t)n);
	memcpy(head, d, (size_t)n);
	struct http_request r;
	int st = http_parse_head(head, (size_t)n, 1000, &r);
	CHECK(st == 0 || st == 400 || st == 413 || st == 417 || st == 501 ||
	      st == 505);
	if (st) {
		free(head);
		return 0;
	}
	check_span(r.method_name, (size_t)n);
	check_span(r.target, (size_t)n);
	check_span(r.path, (size_t)n);
	check_span(r.query, (size_t)n);
	CHECK(r.method < HTTP_METHOD_COUNT);
	CHECK(r.body != HTTP_BODY_LENGTH ||
	      (r.content_length > 0 && r.content_length <= 1000));
	for (int i = 0; i < HTTP_F_COUNT; i++) {
		if (r.f[i].count)
			check_span(r.f[i].first, (size_t)n);
		struct http_list_iter it = {0};
		struct http_span m;
		unsigned k = 0;
		while (http_list_next(head, (size_t)n, &r,
				      (enum http_field_id)i, &it, &m)) {
			check_span(m, (size_t)n);
			CHECK(m.len > 0 && ++k < 10000);
		}
	}

	static const char etag[] = "\"1-abc\"";
	http_etag_match(head, (size_t)n, &r, HTTP_F_IF_NONE_MATCH, etag,
			sizeof etag - 1, true);
	http_etag_match(head, (size_t)n, &r, HTTP_F_IF_MATCH, etag,
			sizeof etag - 1, false);
	int enc = http_pick_encoding(head, (size_t)n, &r, 7);
	CHECK(enc >= 0 && enc < HTTP_ENC_COUNT);
	CHECK(http_pick_encoding(head, (size_t)n, &r, 1) == HTTP_ENC_IDENTITY);
	uint64_t sizes[] = {0, 1, 100, UINT64_MAX / 2};
	for (unsigned i = 0; i < 4; i++) {
		uint64_t a = 0, b = 0;
		if (http_parse_range(head, (size_t)n, &r, sizes[i], &a, &b) ==
		    HTTP_RANGE_OK)
			CHECK(a <= b && b < sizes[i]);
	}
	for (int i = 0; i < HTTP_F_COUNT; i++) {
		int64_t t;
		char out[HTTP_DATE_LEN + 1];
		if (r.f[i].count && http_parse_date(head + r.f[i].first.off,
						    r.f[i].first.len, &t)) {
			int64_t t2;
			http_format_date(t, out);
			CHECK(strlen(out) == HTTP_DATE_LEN);
			CHECK(http_parse_date((const uint8_t *)out,
					      HTTP_DATE_LEN, &t2) &&
			      t2 == t);
		}
	}
	if (r.path.len) {
		uint32_t before = r.path.len;
		int p = http_normalize_path(head, r.path);
		CHECK(p == -400 || (p > 0 && (uint32_t)p <= before));
		if (p > 0)
			check_path(head + r.path.off, p);
	}

	struct http_chunked ch = {0};
	size_t used = 0, rest = size - (size_t)n;
	int rc = http_chunked_feed(&ch, d + n, rest, &used, 1000);
	CHECK(rc == 0 || rc == 1 || rc == -400 || rc == -413);
	CHECK(used <= rest && ch.total <= 1000);
	free(head);
	return 0;
}
