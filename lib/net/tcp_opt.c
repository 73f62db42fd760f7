/*
 * TCP options (RFC 9293 3.1, RFC 7323, RFC 2018): parse every option of a
 * header with each length checked against the header and the option's
 * kind, and build the ones we send.
 */
#include <string.h>

#include "tcp_internal.h"

#define OPT_EOL       0
#define OPT_NOP       1
#define OPT_MSS       2
#define OPT_WSCALE    3
#define OPT_SACK_OK   4
#define OPT_SACK      5
#define OPT_TIMESTAMP 8

bool tcp_opt_parse(const uint8_t *h, unsigned hlen, bool syn,
		   struct tcp_opts *o)
{
	memset(o, 0, sizeof *o);
	o->wscale = -1;
	const uint8_t *p = h + TCP_HLEN, *end = h + hlen;
	while (p < end) {
		uint8_t kind = p[0];
		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			p++;
			continue;
		}
		if (end - p < 2 || p[1] < 2 || p[1] > end - p)
			return false;
		uint8_t len = p[1];
		switch (kind) {
		case OPT_MSS:
			if (len != 4)
				return false;
			if (syn)
				o->mss = get16(p + 2);
			break;
		case OPT_WSCALE:
			if (len != 3)
				return false;
			/* RFC 7323 2.3: more than 14 is taken as 14. */
			if (syn)
				o->wscale = p[2] > 14 ? 14 : (int8_t)p[2];
			break;
		case OPT_SACK_OK:
			if (len != 2)
				return false;
			o->sack_ok = syn;
			break;
		case OPT_SACK:
			if (len < 10 || (len - 2) % 8 != 0)
				return false;
			for (unsigned i = 0;
			     i < (len - 2u) / 8 && o->nsack < TCP_SACK_MAX;
			     i++) {
				o->sack[o->nsack][0] = get32(p + 2 + i * 8);
				o->sack[o->nsack][1] = get32(p + 6 + i * 8);
				o->nsack++;
			}
			break;
		case OPT_TIMESTAMP:
			if (len != 10)
				return false;
			o->ts = true;
			o->tsval = get32(p + 2);
			o->tsecr = get32(p + 6);
			break;
		default:
			break; /* unknown options are skipped (RFC 9293 3.1) */
		}
		p += len;
	}
	return true;
}

unsigned tcp_opt_build(uint8_t *p, const struct tcp_opts *o)
{
	uint8_t *start = p;
	if (o->mss) {
		p[0] = OPT_MSS;
		p[1] = 4;
		put16(p + 2, o->mss);
		p += 4;
	}
	if (o->wscale >= 0) {
		p[0] = OPT_NOP;
		p[1] = OPT_WSCALE;
		p[2] = 3;
		p[3] = (uint8_t)o->wscale;
		p += 4;
	}
	if (o->sack_ok) {
		p[0] = OPT_NOP;
		p[1] = OPT_NOP;
		p[2] = OPT_SACK_OK;
		p[3] = 2;
		p += 4;
	}
	if (o->ts) {
		p[0] = OPT_NOP;
		p[1] = OPT_NOP;
		p[2] = OPT_TIMESTAMP;
		p[3] = 10;
		put32(p + 4, o->tsval);
		put32(p + 8, o->tsecr);
		p += 12;
	}
	/* 40 bytes in all: with timestamps, 3 SACK blocks fit. */
	unsigned room = (unsigned)(40 - (p - start));
	unsigned n = o->nsack, fit = room >= 12 ? (room - 4) / 8 : 0;
	if (n > fit)
		n = fit;
	if (n) {
		p[0] = OPT_NOP;
		p[1] = OPT_NOP;
		p[2] = OPT_SACK;
		p[3] = (uint8_t)(2 + 8 * n);
		for (unsigned i = 0; i < n; i++) {
			put32(p + 4 + 8 * i, o->sack[i][0]);
			put32(p + 8 + 8 * i, o->sack[i][1]);
		}
		p += 4 + 8 * n;
	}
	return (unsigned)(p - start);
}
