/* ingot summon: a DNS front end that boots guests on demand (summon.c)
 * and its DNS messages (summon_dns.c). */
#ifndef CLI_SUMMON_H
#define CLI_SUMMON_H

#include "cli.h"

struct sdns_query {
	char name[256]; /* lower case, no final dot */
	uint16_t type, class;
	size_t end; /* the question's end in the message */
};

/* A query with one question; -1 if it is not one. */
int sdns_parse(const uint8_t *msg, size_t len, struct sdns_query *q);
/* The answer to query q: rcode, and an A record for addr when given and
 * asked for.  Returns its length, 0 if it does not fit. */
size_t sdns_answer(const uint8_t *query, const struct sdns_query *q, int rcode,
		   const uint8_t addr[4], uint32_t ttl, uint8_t *out,
		   size_t size);

#endif
