/*
 * Answering queries from the compiled zones: RFC 1034 4.3.2's algorithm
 * for an authoritative server, with RFC 2308 negative answers, RFC 4592
 * wildcards, RFC 4035 DS queries at zone cuts, RFC 6891 EDNS and RFC 8482
 * ANY.  See ingot/dns.h.
 */
#include <ingot/dns.h>
#include <stdio.h>
#include <string.h>

#include "zone.h"

#define HDR             12
#define CNAME_CHAIN_MAX 8
#define DICT_MAX        64
#define OPT_LEN         11
#define EDE_LEN         6 /* an Extended DNS Error option, no text */

enum {
	RCODE_NOERROR,
	RCODE_FORMERR,
	RCODE_SERVFAIL,
	RCODE_NXDOMAIN,
	RCODE_NOTIMP,
	RCODE_REFUSED,
	RCODE_NOTAUTH = 9,
	RCODE_BADVERS = 16
};

/* RFC 8914 Extended DNS Errors */
enum {
	EDE_PROHIBITED = 18,
	EDE_NOT_AUTHORITATIVE = 20,
	EDE_NOT_SUPPORTED = 21
};

#define FLAG_QR 0x8000
#define FLAG_AA 0x0400
#define FLAG_TC 0x0200
#define FLAG_RD 0x0100
#define FLAG_CD 0x0010

/* --- counters ------------------------------------------------------------- */

static const uint16_t counted_types[] = {
    DNS_TYPE_A,     DNS_TYPE_AAAA, DNS_TYPE_NS,  DNS_TYPE_SOA,
    DNS_TYPE_CNAME, DNS_TYPE_MX,   DNS_TYPE_TXT, DNS_TYPE_SRV,
    DNS_TYPE_PTR,   DNS_TYPE_CAA,  DNS_TYPE_DS,  DNS_TYPE_ANY,
};
static const char *const type_names[] = {"A",  "AAAA", "NS",   "SOA", "CNAME",
					 "MX", "TXT",  "SRV",  "PTR", "CAA",
					 "DS", "ANY",  "other"};
#define NTYPES (sizeof counted_types / sizeof counted_types[0])

static struct {
	uint64_t by_type[NTYPES + 1];
	uint64_t by_rcode[11], badvers;
	uint64_t truncated, referrals;
	uint64_t drop_short, drop_response;
} count;

static void count_type(uint16_t type)
{
	unsigned i = 0;
	while (i < NTYPES && counted_types[i] != type)
		i++;
	count.by_type[i]++;
}

void dns_print_counters(void)
{
	static const char *const rcodes[] = {
	    "noerror",  "formerr", "servfail", "nxdomain", "notimp", "refused",
	    "yxdomain", "yxrrset", "nxrrset",  "notauth",  "notzone"};
	printf("dns: queries by type:");
	for (unsigned i = 0; i <= NTYPES; i++)
		if (count.by_type[i])
			printf(" %s=%lu", type_names[i],
			       (unsigned long)count.by_type[i]);
	printf("\ndns: answers by rcode:");
	for (unsigned i = 0; i < 11; i++)
		if (count.by_rcode[i])
			printf(" %s=%lu", rcodes[i],
			       (unsigned long)count.by_rcode[i]);
	printf(" badvers=%lu truncated=%lu referrals=%lu\n",
	       (unsigned long)count.badvers, (unsigned long)count.truncated,
	       (unsigned long)count.referrals);
	printf("dns: dropped: short=%lu response=%lu\n",
	       (unsigned long)count.drop_short,
	       (unsigned long)count.drop_response);
}

/* --- names ---------------------------------------------------------------- */

static inline uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Length of the uncompressed wire name at p (which is complete). */
static unsigned name_len(const uint8_t *p)
{
	unsigned i = 0;
	while (p[i])
		i += 1 + p[i];
	return i + 1;
}

/* --- the query ------------------------------------------------------------ */

struct query {
	uint16_t id, flags, qtype, qclass;
	uint8_t name[255];  /* as sent */
	uint8_t lname[255]; /* lower case */
	unsigned nlen;
	uint8_t labels[128]; /* offsets of label starts in lname */
	unsigned nlabels;
	size_t qend; /* where the question ends in the query */
	bool edns, do_bit;
	uint8_t edns_version;
	uint16_t udp_size;
};

/* The question's name: uncompressed (a pointer is FORMERR, as no sane
 * client sends one there), at most 255 bytes.  0 or -1. */
static int parse_qname(const uint8_t *q, size_t len, struct query *x)
{
	size_t i = HDR;
	unsigned n = 0;
	for (;;) {
		if (i >= len)
			return -1;
		uint8_t l = q[i];
		if (l & 0xc0)
			return -1;
		if (n + 1 + l > 255 || i + 1 + l > len)
			return -1;
		x->labels[x->nlabels++] = (uint8_t)n;
		x->name[n] = x->lname[n] = l;
		for (unsigned k = 1; k <= l; k++) {
			x->name[n + k] = q[i + k];
			x->lname[n + k] = lower(q[i + k]);
		}
		n += 1 + l;
		i += 1 + l;
		if (!l)
			break;
	}
	x->nlabels--; /* the root "label" is not one */
	x->nlen = n;
	if (i + 4 > len)
		return -1;
	x->qtype = get16(q + i);
	x->qclass = get16(q + i + 2);
	x->qend = i + 4;
	return 0;
}

/* Skips a (possibly compressed) name; the offset after it, or 0. */
static size_t skip_name(const uint8_t *q, size_t len, size_t i)
{
	for (unsigned hops = 0; hops < 128; hops++) {
		if (i >= len)
			return 0;
		uint8_t l = q[i];
		if ((l & 0xc0) == 0xc0)
			return i + 2 <= len ? i + 2 : 0;
		if (l & 0xc0)
			return 0;
		i += 1 + l;
		if (!l)
			return i;
	}
	return 0;
}

/* The additional section: at most one OPT (RFC 6891 6.1.1), owned by the
 * root.  Other records are skipped.  0 or -1 (FORMERR). */
static int parse_additional(const uint8_t *q, size_t len, struct query *x,
			    unsigned arcount)
{
	size_t i = x->qend;
	for (unsigned r = 0; r < arcount; r++) {
		size_t owner = i;
		i = skip_name(q, len, i);
		if (!i || i + 10 > len)
			return -1;
		uint16_t type = get16(q + i), rdlen = get16(q + i + 8);
		if (i + 10 + rdlen > len)
			return -1;
		if (type == DNS_TYPE_OPT) {
			if (x->edns || q[owner] != 0)
				return -1;
			x->edns = true;
			x->udp_size = get16(q + i + 2);
			x->edns_version = q[i + 5];
			x->do_bit = q[i + 6] & 0x80;
		}
		i += 10 + rdlen;
	}
	return 0;
}

/* --- the response writer -------------------------------------------------- */

struct writer {
	uint8_t *p;
	size_t len, limit; /* limit: room for the sections (OPT reserved) */
	uint16_t dict[DICT_MAX]; /* offsets where names or suffixes start */
	unsigned ndict;
	uint16_t an, ns, ar;
	bool tc;
	int ede; /* an RFC 8914 info code for the OPT, or -1 */
};

/* Whether the packet's name at off equals the wire name n (ignoring case). */
static bool name_at(const uint8_t *pkt, unsigned off, const uint8_t *n)
{
	for (;;) {
		uint8_t l = pkt[off];
		while ((l & 0xc0) == 0xc0) {
			off = (unsigned)(l & 0x3f) << 8 | pkt[off + 1];
			l = pkt[off];
		}
		if (l != n[0])
			return false;
		if (!l)
			return true;
		for (unsigned k = 1; k <= l; k++)
			if (lower(pkt[off + k]) != lower(n[k]))
				return false;
		off += 1u + l;
		n += 1u + l;
	}
}

/* Writes name n (uncompressed wire), pointing into what is written where
 * a suffix of it already is.  False if it does not fit. */
static bool write_name(struct writer *w, const uint8_t *n)
{
	const uint8_t *s = n;
	for (;;) {
		if (!*s)
			break;
		for (unsigned d = 0; d < w->ndict; d++)
			if (name_at(w->p, w->dict[d], s)) {
				size_t pre = (size_t)(s - n);
				if (w->len + pre + 2 > w->limit)
					return false;
				memcpy(w->p + w->len, n, pre);
				for (size_t k = 0; k < pre; k += 1 + n[k])
					if (w->ndict < DICT_MAX &&
					    w->len + k < 0x4000)
						w->dict[w->ndict++] =
						    (uint16_t)(w->len + k);
				w->len += pre;
				put16(w->p + w->len,
				      (uint16_t)(0xc000 | w->dict[d]));
				w->len += 2;
				return true;
			}
		s += 1 + *s;
	}
	size_t l = name_len(n);
	if (w->len + l > w->limit)
		return false;
	memcpy(w->p + w->len, n, l);
	for (size_t k = 0; n[k]; k += 1 + n[k])
		if (w->ndict < DICT_MAX && w->len + k < 0x4000)
			w->dict[w->ndict++] = (uint16_t)(w->len + k);
	w->len += l;
	return true;
}

/* The owner of a record: a pointer to the question, or a name. */
struct owner {
	const uint8_t *name; /* NULL: the question's name */
};

static bool write_owner(struct writer *w, struct owner o)
{
	if (!o.name) {
		if (w->len + 2 > w->limit)
			return false;
		put16(w->p + w->len, 0xc000 | HDR);
		w->len += 2;
		return true;
	}
	return write_name(w, o.name);
}

/* One record; rdata in wire form, names uncompressed. */
static bool write_rr(struct writer *w, struct owner o, uint16_t type,
		     uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	if (!write_owner(w, o) || w->len + 10 > w->limit)
		return false;
	uint8_t *h = w->p + w->len;
	put16(h, type);
	put16(h + 2, DNS_CLASS_IN);
	put16(h + 4, (uint16_t)(ttl >> 16));
	put16(h + 6, (uint16_t)ttl);
	w->len += 10;
	size_t start = w->len;
	switch (type) {
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		if (!write_name(w, rd))
			return false;
		break;
	case DNS_TYPE_MX:
		if (w->len + 2 > w->limit)
			return false;
		memcpy(w->p + w->len, rd, 2);
		w->len += 2;
		if (!write_name(w, rd + 2))
			return false;
		break;
	case DNS_TYPE_SOA: {
		unsigned m = name_len(rd);
		if (!write_name(w, rd) || !write_name(w, rd + m) ||
		    w->len + 20 > w->limit)
			return false;
		memcpy(w->p + w->len, rd + m + name_len(rd + m), 20);
		w->len += 20;
		break;
	}
	default: /* SRV's target too: RFC 2782 forbids compressing it */
		if (w->len + rdlen > w->limit)
			return false;
		memcpy(w->p + w->len, rd, rdlen);
		w->len += rdlen;
	}
	put16(h + 8, (uint16_t)(w->len - start));
	return true;
}

/* A whole RRset, or nothing: false (and the writer as it was) if it does
 * not fit.  ttl_cap lowers the TTL (the SOA of a negative answer). */
static bool write_rrset(struct writer *w, const struct dns_zone *z,
			const struct dns_rrset *set, struct owner o,
			uint16_t *counter, uint32_t ttl_cap)
{
	size_t len = w->len;
	unsigned ndict = w->ndict;
	const uint8_t *rd = z->data + set->rdata;
	uint32_t ttl = set->ttl < ttl_cap ? set->ttl : ttl_cap;
	for (unsigned i = 0; i < set->count; i++) {
		uint16_t rdlen = get16(rd);
		if (!write_rr(w, o, set->type, ttl, rd + 2, rdlen)) {
			w->len = len;
			w->ndict = ndict;
			return false;
		}
		rd += 2 + rdlen;
	}
	*counter += set->count;
	return true;
}

/* Answer and authority data that does not fit truncates the answer. */
static void required(struct writer *w, const struct dns_zone *z,
		     const struct dns_rrset *set, struct owner o,
		     uint16_t *counter, uint32_t ttl_cap)
{
	if (!w->tc && !write_rrset(w, z, set, o, counter, ttl_cap))
		w->tc = true;
}

/* --- lookups -------------------------------------------------------------- */

static int find_node(const struct dns_zone *z, const uint8_t *name,
		     unsigned len)
{
	for (uint32_t h = dns_name_hash(name, len);; h++) {
		uint32_t v = z->hash[h & z->hash_mask];
		if (!v)
			return -1;
		const struct dns_node *n = &z->nodes[v - 1];
		if (memcmp(z->data + n->name, name, len) == 0)
			return (int)(v - 1);
	}
}

static const struct dns_rrset *find_rrset(const struct dns_zone *z, int node,
					  uint16_t type)
{
	const struct dns_node *n = &z->nodes[node];
	for (unsigned i = 0; i < n->nrrsets; i++)
		if (z->rrsets[n->rrset + i].type == type)
			return &z->rrsets[n->rrset + i];
	return NULL;
}

/* The zone holding name (lower case, len bytes) and the index of the
 * label where its apex starts; NULL if none (the longest apex wins). */
static const struct dns_zone *find_zone(const uint8_t *name, unsigned len,
					const uint8_t *labels, unsigned nlabels,
					unsigned *apex_label)
{
	for (unsigned i = 0; i <= nlabels; i++) {
		unsigned off = i < nlabels ? labels[i] : len - 1;
		for (unsigned k = 0; k < dns_nzones; k++) {
			const struct dns_zone *z = &dns_zones[k];
			const uint8_t *apex = z->data + z->nodes[z->apex].name;
			if (name_len(apex) == len - off &&
			    memcmp(apex, name + off, len - off) == 0) {
				*apex_label = i;
				return z;
			}
		}
	}
	return NULL;
}

/* Labels of an uncompressed lower-case name. */
static unsigned split(const uint8_t *name, uint8_t *labels)
{
	unsigned n = 0, i = 0;
	while (name[i]) {
		labels[n++] = (uint8_t)i;
		i += 1 + name[i];
	}
	return n;
}

/* --- the algorithm -------------------------------------------------------- */

/* The SOA that makes an answer negative (RFC 2308).  Not for QCLASS *: an
 * SOA of class IN proves nothing about the other classes (as NSD). */
static void negative(struct writer *w, const struct dns_zone *z,
		     const struct query *x)
{
	if (x->qclass == DNS_CLASS_ANY)
		return;
	const struct dns_rrset *soa = find_rrset(z, (int)z->apex, DNS_TYPE_SOA);
	const uint8_t *rd = z->data + soa->rdata + 2;
	unsigned m = name_len(rd);
	m += name_len(rd + m);
	uint32_t minimum =
	    (uint32_t)get16(rd + m + 16) << 16 | get16(rd + m + 18);
	struct owner apex = {z->data + z->nodes[z->apex].name};
	required(w, z, soa, apex, &w->ns, minimum);
}

/* Glue: the addresses of the name servers, from any zone we hold. */
static void additional_addresses(struct writer *w, const uint8_t *target)
{
	uint8_t lname[255], labels[128];
	unsigned len = name_len(target);
	for (unsigned i = 0; i < len; i++)
		lname[i] = lower(target[i]);
	unsigned apex_label, n = split(lname, labels);
	const struct dns_zone *z =
	    find_zone(lname, len, labels, n, &apex_label);
	int node = z ? find_node(z, lname, len) : -1;
	if (node < 0)
		return;
	static const uint16_t types[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
	for (unsigned t = 0; t < 2; t++) {
		const struct dns_rrset *set = find_rrset(z, node, types[t]);
		if (set)
			write_rrset(w, z, set, (struct owner){target}, &w->ar,
				    UINT32_MAX);
	}
}

/* The name servers' addresses, for a referral or an answer of NS records
 * (the one kind of additional data minimal answers keep). */
static void add_ns_addresses(struct writer *w, const struct dns_zone *z,
			     const struct dns_rrset *ns)
{
	const uint8_t *rd = z->data + ns->rdata;
	for (unsigned i = 0; i < ns->count; i++) {
		additional_addresses(w, rd + 2);
		rd += 2 + get16(rd);
	}
}

static void referral(struct writer *w, const struct dns_zone *z, int cut)
{
	const struct dns_rrset *ns = find_rrset(z, cut, DNS_TYPE_NS);
	required(w, z, ns, (struct owner){z->data + z->nodes[cut].name}, &w->ns,
		 UINT32_MAX);
	if (!w->tc)
		add_ns_addresses(w, z, ns);
	count.referrals++;
}

/* RFC 8482: one RRset answers ANY, the name's first (in zone file order,
 * as NSD does: the SOA at an apex). */
static const struct dns_rrset *any_rrset(const struct dns_zone *z, int node)
{
	const struct dns_node *n = &z->nodes[node];
	return n->nrrsets ? &z->rrsets[n->rrset] : NULL;
}

/* Answers for name (lower case) and writes the sections; returns the
 * rcode.  owner is how the answer's owner is written. */
static int resolve(struct writer *w, struct query *x, bool *aa)
{
	uint8_t name[255], labels[128];
	unsigned len = x->nlen, nlabels = x->nlabels;
	memcpy(name, x->lname, len);
	memcpy(labels, x->labels, nlabels);
	struct owner owner = {NULL};

	for (unsigned step = 0; step < CNAME_CHAIN_MAX; step++) {
		unsigned apex_label;
		const struct dns_zone *z =
		    find_zone(name, len, labels, nlabels, &apex_label);
		if (!z) {
			if (step)
				return RCODE_NOERROR; /* a CNAME to elsewhere */
			w->ede = EDE_NOT_AUTHORITATIVE;
			return RCODE_REFUSED;
		}
		/* A DS RRset at a zone's apex is the parent zone's, when we
		 * hold that too (RFC 4035 3.1.4.1). */
		if (x->qtype == DNS_TYPE_DS && apex_label == 0 && nlabels > 0) {
			unsigned up;
			const struct dns_zone *p =
			    find_zone(name, len, labels + 1, nlabels - 1, &up);
			if (p) {
				z = p;
				apex_label = up + 1;
			}
		}
		/* Our data, but QCLASS * asks for all classes' (RFC 6895
		 * 3.2), and we know one. */
		*aa = x->qclass != DNS_CLASS_ANY;
		/* A delegation on the way down: the highest cut wins.  The cut
		 * itself answers DS from this, the parent, side. */
		for (unsigned i = apex_label; i-- > 0;) {
			if (i == 0 && x->qtype == DNS_TYPE_DS)
				break;
			int cut =
			    find_node(z, name + labels[i], len - labels[i]);
			if (cut >= 0 && (z->nodes[cut].flags & DNS_NODE_CUT)) {
				/* After a CNAME, the answer so far is ours
				 * and authoritative (RFC 1034 4.3.2 step 3b,
				 * as NSD does). */
				*aa = step > 0;
				referral(w, z, cut);
				return RCODE_NOERROR;
			}
		}
		int node = find_node(z, name, len);
		if (node < 0) {
			/* The closest encloser, then its wildcard (RFC 4592).
			 */
			unsigned i = 1;
			while (i < apex_label && find_node(z, name + labels[i],
							   len - labels[i]) < 0)
				i++;
			uint8_t wild[255];
			unsigned ce = i < nlabels ? labels[i] : len - 1;
			if (len - ce + 2 <= 255) {
				wild[0] = 1;
				wild[1] = '*';
				memcpy(wild + 2, name + ce, len - ce);
				node = find_node(z, wild, len - ce + 2);
			}
			if (node < 0) {
				negative(w, z, x);
				return RCODE_NXDOMAIN;
			}
		}
		/* NSEC3 RRs live at hashed owner names (RFC 5155), never at
		 * the name asked for, whose CNAME does not apply either. */
		if (x->qtype == DNS_TYPE_NSEC3) {
			negative(w, z, x);
			return RCODE_NOERROR;
		}
		const struct dns_rrset *set =
		    x->qtype == DNS_TYPE_ANY ? any_rrset(z, node)
					     : find_rrset(z, node, x->qtype);
		if (set) {
			required(w, z, set, owner, &w->an, UINT32_MAX);
			if (set->type == DNS_TYPE_NS && !w->tc)
				add_ns_addresses(w, z, set);
			return RCODE_NOERROR;
		}
		const struct dns_rrset *cname =
		    find_rrset(z, node, DNS_TYPE_CNAME);
		if (!cname) {
			negative(w, z, x);
			return RCODE_NOERROR; /* NODATA */
		}
		required(w, z, cname, owner, &w->an, UINT32_MAX);
		if (w->tc)
			return RCODE_NOERROR;
		/* Follow the chain from the target, as written in the zone. */
		const uint8_t *target = z->data + cname->rdata + 2;
		len = name_len(target);
		for (unsigned k = 0; k < len; k++)
			name[k] = lower(target[k]);
		nlabels = split(name, labels);
		owner.name = target;
	}
	return RCODE_NOERROR; /* a chain too long (or a loop): what we have */
}

/* Classes we hold no data for: REFUSED.  Of a class we do not know we do
 * not echo the question either (as NSD). */
static int other_class(struct writer *w, struct query *x)
{
	w->ede = EDE_NOT_SUPPORTED;
	if (x->qclass != DNS_CLASS_CH) {
		w->len = HDR;
		w->ndict = 0;
		put16(w->p + 4, 0);
	}
	return RCODE_REFUSED;
}

/* We offer no zone transfers: a transfer of a zone we hold is refused, of
 * any other name we are not the authority for (RFC 2136 NOTAUTH, as NSD). */
static int no_transfer(struct writer *w, struct query *x)
{
	unsigned apex_label;
	if (find_zone(x->lname, x->nlen, x->labels, x->nlabels, &apex_label) &&
	    apex_label == 0) {
		w->ede = EDE_PROHIBITED;
		return RCODE_REFUSED;
	}
	return RCODE_NOTAUTH;
}

static size_t finish(struct writer *w, struct query *x, int rcode, bool aa)
{
	uint8_t *h = w->p;
	/* CD is cleared in an answer, which was never validated (RFC 4035
	 * 3.1.6), and kept in BADVERS, which is no answer (as NSD does). */
	uint16_t keep = rcode == RCODE_BADVERS ? FLAG_RD | FLAG_CD : FLAG_RD;
	uint16_t flags = FLAG_QR | (x->flags & (0x7800 | keep)) |
			 (aa ? FLAG_AA : 0) | (w->tc ? FLAG_TC : 0) |
			 (rcode & 0xf);
	put16(h, x->id);
	put16(h + 2, flags);
	put16(h + 6, w->an);
	put16(h + 8, w->ns);
	if (x->edns) {
		uint8_t *o = w->p + w->len; /* room was reserved */
		o[0] = 0;
		put16(o + 1, DNS_TYPE_OPT);
		put16(o + 3, DNS_UDP_MAX);
		o[5] = (uint8_t)(rcode >> 4);
		o[6] = 0; /* version 0 */
		/* DO echoed (RFC 3225 3), except to a version whose flags we
		 * do not know. */
		o[7] = x->do_bit && rcode != RCODE_BADVERS ? 0x80 : 0;
		o[8] = 0;
		put16(o + 9, 0);
		w->len += OPT_LEN;
		if (w->ede >= 0 && w->len + EDE_LEN <= w->limit + OPT_LEN) {
			put16(o + 9, EDE_LEN);
			put16(o + 11, 15); /* EDE */
			put16(o + 13, 2);
			put16(o + 15, (uint16_t)w->ede);
			w->len += EDE_LEN;
		}
		w->ar++;
	}
	put16(h + 10, w->ar);
	if (rcode == RCODE_BADVERS)
		count.badvers++;
	else
		count.by_rcode[rcode < 11 ? rcode : RCODE_SERVFAIL]++;
	if (w->tc)
		count.truncated++;
	return w->len;
}

size_t dns_answer(const uint8_t *q, size_t len, uint8_t *resp, size_t cap,
		  bool tcp)
{
	static struct query x;
	if (len < HDR || cap < 512) {
		count.drop_short++;
		return 0;
	}
	/* Not the name buffers (parse_qname fills what it uses): this is
	 * the hot path. */
	x.nlen = x.nlabels = 0;
	x.qtype = x.qclass = 0;
	x.edns = x.do_bit = false;
	x.edns_version = 0;
	x.udp_size = 0;
	x.qend = HDR;
	x.id = get16(q);
	x.flags = get16(q + 2);
	if (x.flags & FLAG_QR) {
		count.drop_response++;
		return 0;
	}
	unsigned opcode = x.flags >> 11 & 0xf;
	uint16_t qdcount = get16(q + 4), ancount = get16(q + 6),
		 nscount = get16(q + 8), arcount = get16(q + 10);
	int rcode = RCODE_NOERROR;
	bool have_question = qdcount == 1 && parse_qname(q, len, &x) == 0;
	if (have_question)
		count_type(x.qtype);
	if (opcode != 0)
		rcode = RCODE_NOTIMP;
	else if (!have_question || ancount || nscount ||
		 parse_additional(q, len, &x, arcount) < 0)
		rcode = RCODE_FORMERR;
	if (rcode != RCODE_NOERROR) {
		/* What another opcode's sections mean is not ours to say:
		 * NOTIMP, like FORMERR, is the header alone. */
		have_question = false;
		x.edns = false;
	}

	struct writer w = {.p = resp, .len = HDR, .ede = -1};
	size_t limit = tcp ? 65535 : 512;
	if (x.edns && !tcp)
		limit = x.udp_size < 512           ? 512
			: x.udp_size > DNS_UDP_MAX ? DNS_UDP_MAX
						   : x.udp_size;
	if (limit > cap)
		limit = cap;
	w.limit = limit - (x.edns ? OPT_LEN : 0);
	memset(resp + 4, 0, 8);
	if (have_question) {
		/* Echoed as sent; resp may be q, and the question stays put. */
		memmove(resp + HDR, q + HDR, x.nlen + 4);
		w.len = HDR + x.nlen + 4;
		put16(resp + 4, 1);
		for (unsigned i = 0; i < x.nlabels && w.ndict < DICT_MAX; i++)
			w.dict[w.ndict++] = (uint16_t)(HDR + x.labels[i]);
	}
	bool aa = false;
	if (rcode == RCODE_NOERROR) {
		if (x.edns && x.edns_version != 0)
			rcode = RCODE_BADVERS;
		else if (x.qclass != DNS_CLASS_IN && x.qclass != DNS_CLASS_ANY)
			rcode = other_class(&w, &x);
		else if (x.qtype == DNS_TYPE_AXFR && !tcp)
			rcode = RCODE_NOTIMP; /* a transfer needs TCP */
		else if (x.qtype == DNS_TYPE_AXFR || x.qtype == DNS_TYPE_IXFR)
			rcode = no_transfer(&w, &x);
		else
			rcode = resolve(&w, &x, &aa);
	}
	return finish(&w, &x, rcode, aa);
}
