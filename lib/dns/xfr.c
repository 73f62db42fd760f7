/*
 * Outgoing zone transfers (AXFR, RFC 5936) of the compiled zones, to the
 * prefixes the build allows (zone2c -t): the zone's SOA, every RRset of
 * every name (glue included, the apex SOA once), the SOA again, in as many
 * messages as it takes.  Names go out uncompressed: simpler, and a
 * secondary reads them all the same.
 */
#include <ingot/dns.h>
#include <string.h>

#include "zone.h"

#define HDR     12
#define FLAG_QR 0x8000
#define FLAG_AA 0x0400
#define FLAG_RD 0x0100

enum { XFR_SOA_FIRST, XFR_RECORDS, XFR_SOA_LAST, XFR_DONE };

static unsigned long transfers;

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned wire_len(const uint8_t *n)
{
	unsigned i = 0;
	while (n[i])
		i += 1u + n[i];
	return i + 1;
}

bool dns_xfr_allowed(uint32_t peer)
{
	for (unsigned i = 0; i < dns_xfr_nallow; i++)
		if ((peer & dns_xfr_allow[i].mask) == dns_xfr_allow[i].addr)
			return true;
	return false;
}

/* The zone whose apex is the wire-format name n (any case), or NULL. */
static const struct dns_zone *zone_at(const uint8_t *n, unsigned len)
{
	for (unsigned k = 0; k < dns_nzones; k++) {
		const struct dns_zone *z = &dns_zones[k];
		const uint8_t *apex = z->data + z->nodes[z->apex].name;
		if (wire_len(apex) != len)
			continue;
		unsigned i = 0;
		while (i < len) {
			uint8_t c = n[i];
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			if (c != apex[i])
				break;
			i++;
		}
		if (i == len)
			return z;
	}
	return NULL;
}

bool dns_xfr_start(struct dns_xfr *x, const uint8_t *q, size_t len,
		   uint32_t peer)
{
	if (len < HDR + 5 || (get16(q + 2) & (FLAG_QR | 0x7800)) ||
	    get16(q + 4) != 1)
		return false;
	size_t i = HDR;
	while (i < len && q[i] && q[i] < 64 && i - HDR < 255)
		i += 1u + q[i];
	if (i >= len || q[i] || i + 5 > len)
		return false;      /* dns_answer says what is wrong with it */
	size_t qlen = i + 5 - HDR; /* name, type, class */
	if (get16(q + i + 1) != DNS_TYPE_AXFR ||
	    get16(q + i + 3) != DNS_CLASS_IN || !dns_xfr_allowed(peer))
		return false;
	const struct dns_zone *z = zone_at(q + HDR, (unsigned)(i + 1 - HDR));
	if (!z)
		return false;
	memset(x, 0, sizeof *x);
	x->zone = z;
	x->id = get16(q);
	x->rd = get16(q + 2) & FLAG_RD;
	x->qlen = (uint16_t)qlen;
	memcpy(x->question, q + HDR, qlen);
	transfers++;
	return true;
}

/* Appends one record; false if it does not fit. */
static bool put_rr(uint8_t *resp, size_t cap, size_t *at, const uint8_t *owner,
		   const struct dns_rrset *rs, const uint8_t *rr)
{
	unsigned nl = wire_len(owner);
	uint16_t rdlen = get16(rr);
	if (*at + nl + 10 + rdlen > cap)
		return false;
	uint8_t *p = resp + *at;
	memcpy(p, owner, nl);
	p += nl;
	put16(p, rs->type);
	put16(p + 2, DNS_CLASS_IN);
	put16(p + 4, (uint16_t)(rs->ttl >> 16));
	put16(p + 6, (uint16_t)rs->ttl);
	memcpy(p + 8, rr, 2u + rdlen);
	*at += nl + 10 + rdlen;
	return true;
}

static const struct dns_rrset *apex_soa(const struct dns_zone *z)
{
	const struct dns_node *n = &z->nodes[z->apex];
	for (unsigned r = 0; r < n->nrrsets; r++)
		if (z->rrsets[n->rrset + r].type == DNS_TYPE_SOA)
			return &z->rrsets[n->rrset + r];
	return NULL; /* zone2c guarantees one */
}

size_t dns_xfr_next(struct dns_xfr *x, uint8_t *resp, size_t cap)
{
	const struct dns_zone *z = x->zone;
	const uint8_t *apex = z->data + z->nodes[z->apex].name;
	const struct dns_rrset *soa = apex_soa(z);
	size_t at = HDR;
	unsigned an = 0;

	if (x->phase == XFR_DONE || cap < HDR + (size_t)x->qlen)
		return 0;
	memset(resp, 0, HDR);
	if (x->phase == XFR_SOA_FIRST) { /* the question, once (2.2.1) */
		memcpy(resp + at, x->question, x->qlen);
		at += x->qlen;
		put16(resp + 4, 1);
	}
	for (;;) {
		if (x->phase == XFR_SOA_FIRST || x->phase == XFR_SOA_LAST) {
			if (!put_rr(resp, cap, &at, apex, soa,
				    z->data + soa->rdata))
				break;
			an++;
			x->phase =
			    x->phase == XFR_SOA_FIRST ? XFR_RECORDS : XFR_DONE;
			if (x->phase == XFR_DONE)
				break;
			continue;
		}
		if (x->node == z->nnodes) {
			x->phase = XFR_SOA_LAST;
			continue;
		}
		const struct dns_node *n = &z->nodes[x->node];
		if (x->rrset == n->nrrsets) {
			x->node++;
			x->rrset = x->rec = x->off = 0;
			continue;
		}
		const struct dns_rrset *rs = &z->rrsets[n->rrset + x->rrset];
		if (x->rec == rs->count || rs == soa) {
			x->rrset++;
			x->rec = x->off = 0;
			continue;
		}
		const uint8_t *rr = z->data + rs->rdata + x->off;
		if (!put_rr(resp, cap, &at, z->data + n->name, rs, rr))
			break;
		an++;
		x->off += 2u + get16(rr);
		x->rec++;
	}
	if (!an)
		return 0; /* a record larger than cap: never in practice */
	put16(resp, x->id);
	put16(resp + 2, FLAG_QR | FLAG_AA | x->rd);
	put16(resp + 6, (uint16_t)an);
	return at;
}

unsigned long dns_xfr_count(void)
{
	return transfers;
}
