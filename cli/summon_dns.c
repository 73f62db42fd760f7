/* The DNS messages ingot summon reads and writes (RFC 1035): one question
 * in, an answer of one A record or none out. */
#include <string.h>

#include "summon.h"

#define DNS_HEADER 12
#define TYPE_A     1
#define TYPE_ANY   255
#define CLASS_IN   1

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 255;
}

int sdns_parse(const uint8_t *msg, size_t len, struct sdns_query *q)
{
	if (len < DNS_HEADER || (msg[2] & 0x80) || get16(msg + 4) != 1)
		return -1;
	size_t off = DNS_HEADER, out = 0;
	for (;;) {
		if (off >= len)
			return -1;
		uint8_t l = msg[off++];
		if (l == 0)
			break;
		/* No compression in a question, and names of at most 255. */
		if (l > 63 || off + l > len || out + l + 1 >= sizeof q->name)
			return -1;
		if (out)
			q->name[out++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			char c = (char)msg[off + i];
			q->name[out++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
		}
		off += l;
	}
	q->name[out] = 0;
	if (off + 4 > len)
		return -1;
	q->type = get16(msg + off);
	q->class = get16(msg + off + 2);
	q->end = off + 4;
	return 0;
}

size_t sdns_answer(const uint8_t *query, const struct sdns_query *q, int rcode,
		   const uint8_t addr[4], uint32_t ttl, uint8_t *out,
		   size_t size)
{
	if (q->end > size || q->end + 16 > size)
		return 0;
	memcpy(out, query, q->end);
	bool a = addr && q->class == CLASS_IN &&
		 (q->type == TYPE_A || q->type == TYPE_ANY);
	out[2] = 0x84 | (query[2] & 0x01); /* QR, AA, RD copied */
	out[3] = (uint8_t)rcode;
	put16(out + 6, a ? 1 : 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	size_t n = q->end;
	if (a) {
		put16(out + n, 0xc000 | DNS_HEADER); /* the question's name */
		put16(out + n + 2, TYPE_A);
		put16(out + n + 4, CLASS_IN);
		put16(out + n + 6, ttl >> 16);
		put16(out + n + 8, ttl & 0xffff);
		put16(out + n + 10, 4);
		memcpy(out + n + 12, addr, 4);
		n += 16;
	}
	return n;
}
