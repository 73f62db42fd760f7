/*
 * zone2c: compiles DNS zone files (RFC 1035 master format) into C data for
 * lib/dns (layout in lib/dns/zone.h), at build time.
 *   zone2c [-o OUT.c] ZONEFILE...
 * Each file's origin starts as its name without ".zone" (example.test.zone:
 * example.test.); $ORIGIN changes it; the zone's apex is its SOA's owner.
 * Understood: $ORIGIN, $TTL, $INCLUDE, relative and absolute names, @,
 * omitted owner, TTL and class, parentheses across lines, quoted strings,
 * \X and \DDD escapes, comments; SOA, NS, A, AAAA, CNAME, MX, TXT, SRV, PTR,
 * CAA and DS records; TTLs with units (1h30m).  An error names file:line and
 * what was expected, and fails the build.
 *
 * Written here rather than taken from a DNS library: the output is our own
 * layout, and the parser is small.
 *
 * text.c: errors, names and the tokenizer; parse.c: records, directives
 * and the zone's checks; emit.c: the layout and the C it is written as;
 * main.c: the command line.
 */
#ifndef TOOLS_ZONE2C_H
#define TOOLS_ZONE2C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../lib/dns/zone.h"
#include "../common/diag.h"

#define NAME_MAX_WIRE 255
#define INCLUDE_DEPTH 8

struct name {
	uint8_t len;
	uint8_t wire[NAME_MAX_WIRE];
};

struct source {
	FILE *f;
	const char *path;
	unsigned line;
	char *buf; /* the current line */
	size_t cap;
	const char *p;
	int parens;
	unsigned paren_line; /* where the open parenthesis is */
};

struct token {
	char text[4096];
	bool quoted;
	size_t len; /* of text, which may hold NULs when quoted */
};

struct record {
	struct name owner;
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t *rdata;
	const char *file;
	unsigned line;
	size_t seq; /* file order, for a stable sort */
};

struct zone {
	struct name origin; /* the apex, once the SOA is seen */
	bool has_soa;
	struct record *rrs;
	size_t nrrs, cap;
	const char *file;
};

struct parse_state {
	struct name origin;
	bool have_origin;
	long default_ttl; /* $TTL, or -1 */
	long last_ttl;    /* the last explicit TTL, or -1 */
	struct name last_owner;
	bool have_owner;
};

/* text.c */
int escape(const char **p);
void name_lower(struct name *n);
bool name_equal(const struct name *a, const struct name *b);
bool name_under(const struct name *a, const struct name *b);
struct name name_parent(const struct name *n);
struct name parse_name(const char *s, const struct name *origin);
void name_text(const struct name *n, char *out);
bool next_line(struct source *s);
bool next_token(struct source *s, struct token *t);

/* parse.c */
void parse_file(struct zone *z, const char *path, struct parse_state *st,
		int depth);
void check_zone(struct zone *z);

/* emit.c */
void emit_zone(FILE *out, unsigned zi, struct zone *z);

#endif
