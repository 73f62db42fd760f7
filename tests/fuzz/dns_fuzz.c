/*
 * libFuzzer harness over lib/dns's query handler: any bytes in, and the
 * answer (if any) must be a well-formed DNS message: every section parses
 * to its end, compression pointers point backwards, names in RDATA fill it
 * exactly, the size stays within what the client can take, the ID and the
 * question match the query.  Anything else aborts.  Built for the host
 * with clang over the sample zone (apps/dns/example.test.zone).
 *   make fuzz-dns              (long run, by hand)
 */
#include <ingot/dns.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/dns/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

/* A name at off; returns the offset after it. */
static size_t check_name(const uint8_t *m, size_t len, size_t off)
{
	size_t end = 0, total = 0;
	for (unsigned hops = 0;; hops++) {
		CHECK(off < len && hops < 128);
		uint8_t l = m[off];
		if ((l & 0xc0) == 0xc0) {
			CHECK(off + 2 <= len);
			size_t to = (size_t)(l & 0x3f) << 8 | m[off + 1];
			CHECK(to < off); /* backwards only: no loops */
			if (!end)
				end = off + 2;
			off = to;
			continue;
		}
		CHECK(!(l & 0xc0));
		total += 1 + l;
		CHECK(total <= 255 && off + 1 + l <= len);
		if (!l)
			return end ? end : off + 1;
		off += 1 + l;
	}
}

static size_t check_rr(const uint8_t *m, size_t len, size_t off)
{
	off = check_name(m, len, off);
	CHECK(off + 10 <= len);
	uint16_t type = get16(m + off), rdlen = get16(m + off + 8);
	off += 10;
	CHECK(off + rdlen <= len);
	size_t end = off + rdlen, p = off;
	switch (type) {
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		CHECK(check_name(m, end, p) == end);
		break;
	case DNS_TYPE_MX:
		CHECK(rdlen > 2 && check_name(m, end, p + 2) == end);
		break;
	case DNS_TYPE_SOA:
		p = check_name(m, end, p);
		p = check_name(m, end, p);
		CHECK(p + 20 == end);
		break;
	case DNS_TYPE_A:
		CHECK(rdlen == 4);
		break;
	case DNS_TYPE_AAAA:
		CHECK(rdlen == 16);
		break;
	}
	return end;
}

/* A zone transfer's messages (the fuzz build allows every peer): each
 * parses to its end, and the transfer ends. */
static void check_transfer(const uint8_t *data, size_t size, uint8_t *resp,
			   size_t cap)
{
	static struct dns_xfr x;
	size_t m, msgs = 0;
	if (!dns_xfr_start(&x, data, size, 0x0a000001))
		return;
	while ((m = dns_xfr_next(&x, resp, cap))) {
		CHECK(m >= 12 && m <= cap && memcmp(resp, data, 2) == 0);
		size_t off = 12;
		if (get16(resp + 4)) {
			off = check_name(resp, m, off) + 4;
			CHECK(off <= m);
		}
		for (unsigned i = 0; i < get16(resp + 6); i++)
			off = check_rr(resp, m, off);
		CHECK(off == m && ++msgs < 1000);
	}
	CHECK(msgs >= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t resp[65536];
	check_transfer(data, size, resp, 65535);
	size_t n = dns_answer(data, size, resp, DNS_UDP_MAX, false);
	if (!n)
		return 0;
	CHECK(n >= 12 && n <= DNS_UDP_MAX);
	CHECK(memcmp(resp, data, 2) == 0 && (resp[2] & 0x80));
	size_t off = 12;
	unsigned qd = get16(resp + 4);
	CHECK(qd <= 1);
	if (qd) {
		off = check_name(resp, n, off);
		CHECK(off + 4 <= n);
		/* The question echoed byte for byte. */
		CHECK(size >= off + 4 &&
		      memcmp(resp + 12, data + 12, off + 4 - 12) == 0);
		off += 4;
	}
	unsigned rrs = get16(resp + 6) + get16(resp + 8) + get16(resp + 10);
	for (unsigned i = 0; i < rrs; i++)
		off = check_rr(resp, n, off);
	CHECK(off == n);
	/* Without an OPT record the answer fits 512 bytes. */
	CHECK(get16(resp + 10) || n <= 512);
	return 0;
}
