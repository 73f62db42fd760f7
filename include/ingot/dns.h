/*
 * dns: an authoritative DNS server's answers (RFC 1034 4.3.2, RFC 1035)
 * from the zones compiled into the image by tools/zone2c.
 *
 * Answers are minimal (RFC 1034 allows it; NSD's minimal-responses):
 * additional data only for referrals (glue).  Also: CNAME chains inside
 * the zones, wildcards (RFC 4592), NXDOMAIN and NODATA with the SOA
 * (RFC 2308), name compression, case-insensitive matching with the
 * question echoed as sent, EDNS(0) (RFC 6891), TC when an answer does not
 * fit, REFUSED outside the zones, NOTIMP for other opcodes, FORMERR for
 * malformed queries, one RRset for ANY (RFC 8482), zone transfers to the
 * addresses the build allows.
 */
#ifndef INGOT_DNS_H
#define INGOT_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_UDP_MAX 1232 /* our EDNS payload size: no IP fragmentation */

/*
 * Answers the query q (len bytes) into resp (cap bytes, at least
 * DNS_UDP_MAX over UDP; resp may be q itself).  Returns the response's
 * length, or 0 when the query deserves no answer (a response, or shorter
 * than a header).  tcp lifts the UDP size limits.
 */
size_t dns_answer(const uint8_t *q, size_t len, uint8_t *resp, size_t cap,
		  bool tcp);

/* Prints the counters (queries by type and by rcode, drops). */
void dns_print_counters(void);

/*
 * Outgoing zone transfers (AXFR over TCP, RFC 5936) to the prefixes the
 * build allows (make ... XFR_ALLOW="10.0.0.0/24"; none by default).
 */
struct dns_xfr {
	const struct dns_zone *zone;
	uint32_t node;
	uint16_t rrset, rec;
	uint32_t off; /* of the next record in the RRset's data */
	uint8_t phase;
	uint16_t id, rd, qlen;
	uint8_t question[255 + 4];
};

/* Whether the IPv4 address peer (host order) may take transfers. */
bool dns_xfr_allowed(uint32_t peer);

/* Starts a transfer if q (len bytes) is an AXFR of a zone held here from
 * an allowed peer; otherwise false, and dns_answer answers q (REFUSED,
 * NOTAUTH, FORMERR ...). */
bool dns_xfr_start(struct dns_xfr *x, const uint8_t *q, size_t len,
		   uint32_t peer);

/* Writes the transfer's next message into resp (cap bytes, 65535 at
 * most) and returns its length; 0 once the transfer is complete. */
size_t dns_xfr_next(struct dns_xfr *x, uint8_t *resp, size_t cap);

/* Transfers started since boot. */
unsigned long dns_xfr_count(void);

#endif
