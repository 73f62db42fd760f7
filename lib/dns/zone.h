/*
 * Compiled zones: the layout tools/zone2c emits and lib/dns reads.  Nothing
 * is parsed at run time: names are stored in DNS wire format, lower case,
 * and found through a hash table built at compile time; each name's RRsets
 * hold their records' RDATA in wire format too (names in it uncompressed),
 * ready to be copied into an answer.
 */
#ifndef LIB_DNS_ZONE_H
#define LIB_DNS_ZONE_H

#include <stdint.h>

enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_DS = 43,
	DNS_TYPE_NSEC3 = 50,
	DNS_TYPE_IXFR = 251,
	DNS_TYPE_AXFR = 252,
	DNS_TYPE_CAA = 257,
	DNS_TYPE_ANY = 255,
	DNS_CLASS_IN = 1,
	DNS_CLASS_CH = 3,
	DNS_CLASS_ANY = 255,
};

/* One RRset: count records, each [2-byte length][RDATA] at data + rdata. */
struct dns_rrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t rdata;
};

#define DNS_NODE_CUT 1 /* NS records below the apex: a delegation */

/* A name in the zone, empty non-terminals included. */
struct dns_node {
	uint32_t name;  /* offset in data of the wire-format name */
	uint16_t rrset; /* index of its first RRset */
	uint8_t nrrsets;
	uint8_t flags;
};

struct dns_zone {
	const uint8_t *data;
	const struct dns_node *nodes;
	const struct dns_rrset *rrsets;
	const uint32_t *hash; /* node index + 1 per slot, 0 empty */
	uint32_t hash_mask;   /* slots - 1, a power of two minus one */
	uint32_t apex;        /* node index of the zone's apex */
	uint32_t nnodes;
};

/* FNV-1a over a lower-case wire-format name of len bytes. */
static inline uint32_t dns_name_hash(const uint8_t *name, unsigned len)
{
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i < len; i++)
		h = (h ^ name[i]) * 16777619u;
	return h;
}

/* Every zone compiled into the image (tools/zone2c). */
extern const struct dns_zone dns_zones[];
extern const unsigned dns_nzones;

/* The prefixes zone transfers are allowed to (zone2c -t), host order. */
struct dns_xfr_acl {
	uint32_t addr, mask;
};
extern const struct dns_xfr_acl dns_xfr_allow[];
extern const unsigned dns_xfr_nallow;

#endif
