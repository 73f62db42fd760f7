/* zone2c: records, directives and files, and the checks a zone must pass. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "zone2c.h"

/* --- records -------------------------------------------------------------- */

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
    {"A", DNS_TYPE_A},     {"NS", DNS_TYPE_NS},     {"CNAME", DNS_TYPE_CNAME},
    {"SOA", DNS_TYPE_SOA}, {"PTR", DNS_TYPE_PTR},   {"MX", DNS_TYPE_MX},
    {"TXT", DNS_TYPE_TXT}, {"AAAA", DNS_TYPE_AAAA}, {"SRV", DNS_TYPE_SRV},
    {"CAA", DNS_TYPE_CAA}, {"DS", DNS_TYPE_DS},
};

static int type_of(const char *s)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(s, types[i].name) == 0)
			return types[i].type;
	return -1;
}

/* "3600", "1h30m", "2w"; -1 if s is not a TTL. */
static long parse_ttl(const char *s)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	unsigned long long total = 0, v = 0;
	bool unit_seen = false, digits = false;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			v = v * 10 + (unsigned)(*s - '0');
			digits = true;
			if (v > 0xffffffffULL)
				return -2;
			continue;
		}
		static const char units[] = "smhdw";
		static const unsigned long mult[] = {1, 60, 3600, 86400,
						     604800};
		const char *u = strchr(units, tolower((unsigned char)*s));
		if (!u || !digits)
			return -1;
		total += v * mult[u - units];
		v = 0;
		digits = false;
		unit_seen = true;
	}
	if (digits && unit_seen)
		return -1; /* "1h30": a number after units must have one */
	total += v;
	return total > 0x7fffffffULL ? -2 : (long)total;
}

static uint32_t parse_u32(const char *s, const char *what, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end || errno || v > max)
		fail("expected %s (0 to %llu), found '%s'", what,
		     (unsigned long long)max, s);
	return (uint32_t)v;
}

struct rdata {
	uint8_t buf[65535];
	size_t len;
};

static void put(struct rdata *r, const void *p, size_t n)
{
	if (r->len + n > sizeof r->buf)
		fail("record data longer than 65535 bytes");
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

static void put16(struct rdata *r, uint32_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(r, b, 2);
}

static void put32(struct rdata *r, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};
	put(r, b, 4);
}

static void put_name(struct rdata *r, const char *s, const struct name *origin)
{
	struct name n = parse_name(s, origin);
	put(r, n.wire, n.len);
}

static void need(struct source *s, struct token *t, const char *what)
{
	if (!next_token(s, t))
		fail("expected %s", what);
}

/* An unquoted token keeps its backslashes (for parse_name); as a string
 * its escapes are resolved here. */
static void unescape(struct token *t)
{
	if (t->quoted)
		return;
	size_t o = 0;
	for (size_t i = 0; i < t->len; i++) {
		int c = (unsigned char)t->text[i];
		if (c == '\\') {
			const char *after = t->text + i + 1;
			int e = escape(&after);
			if (e >= 0) {
				c = e;
				i = (size_t)(after - t->text) - 1;
			}
		}
		t->text[o++] = (char)c;
	}
	t->len = o;
	t->text[o] = '\0';
}

static void put_charstring(struct rdata *r, struct token *t)
{
	unescape(t);
	if (t->len > 255)
		fail("expected a string of at most 255 bytes");
	uint8_t l = (uint8_t)t->len;
	put(r, &l, 1);
	put(r, t->text, t->len);
}

/* DNSSEC algorithm mnemonics (RFC 4034 A.1 and the IANA registry). */
static const struct {
	const char *name;
	uint8_t number;
} algorithms[] = {
    {"RSAMD5", 1},
    {"DH", 2},
    {"DSA", 3},
    {"RSASHA1", 5},
    {"DSA-NSEC3-SHA1", 6},
    {"RSASHA1-NSEC3-SHA1", 7},
    {"RSASHA256", 8},
    {"RSASHA512", 10},
    {"ECC-GOST", 12},
    {"ECDSAP256SHA256", 13},
    {"ECDSAP384SHA384", 14},
    {"ED25519", 15},
    {"ED448", 16},
    {"INDIRECT", 252},
    {"PRIVATEDNS", 253},
    {"PRIVATEOID", 254},
};

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* RFC 4034 5.3: key tag, algorithm (number or mnemonic), digest type, and
 * the digest in hex, which may be split by white space. */
static void parse_ds(struct source *s, struct rdata *r)
{
	struct token t;
	need(s, &t, "a DS key tag");
	put16(r, parse_u32(t.text, "a DS key tag", 65535));
	need(s, &t, "a DS algorithm");
	int alg = -1;
	for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++)
		if (strcasecmp(t.text, algorithms[i].name) == 0)
			alg = algorithms[i].number;
	uint8_t b =
	    (uint8_t)(alg >= 0 ? (uint32_t)alg
			       : parse_u32(t.text, "a DS algorithm", 255));
	put(r, &b, 1);
	need(s, &t, "a DS digest type");
	uint8_t dtype = (uint8_t)parse_u32(t.text, "a DS digest type", 255);
	put(r, &dtype, 1);
	need(s, &t, "a DS digest in hex");
	size_t start = r->len;
	int high = -1;
	do {
		for (size_t i = 0; i < t.len; i++) {
			int d =
			    t.quoted ? -1 : hex_digit((unsigned char)t.text[i]);
			if (d < 0)
				fail("expected a DS digest in hex, found '%s'",
				     t.text);
			if (high < 0) {
				high = d;
				continue;
			}
			b = (uint8_t)(high << 4 | d);
			put(r, &b, 1);
			high = -1;
		}
	} while (next_token(s, &t));
	if (high >= 0)
		fail("expected a DS digest of whole bytes (an even number of "
		     "hex digits)");
	/* The digest types whose length is known (RFC 4509, 5933, 6605). */
	static const size_t want[] = {0, 20, 32, 32, 48};
	size_t got = r->len - start;
	if (dtype >= 1 && dtype <= 4 && got != want[dtype])
		fail("expected a digest of %zu bytes for DS digest type %u, "
		     "found %zu",
		     want[dtype], dtype, got);
}

static void parse_rdata(struct source *s, uint16_t type,
			const struct name *origin, struct rdata *r)
{
	struct token t;
	r->len = 0;
	switch (type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA: {
		bool v4 = type == DNS_TYPE_A;
		const char *what = v4 ? "an IPv4 address" : "an IPv6 address";
		uint8_t a[16];
		need(s, &t, what);
		if (t.quoted ||
		    inet_pton(v4 ? AF_INET : AF_INET6, t.text, a) != 1)
			fail("expected %s, found '%s'", what, t.text);
		put(r, a, v4 ? 4 : 16);
		break;
	}
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		need(s, &t, "a domain name");
		put_name(r, t.text, origin);
		break;
	case DNS_TYPE_MX:
		need(s, &t, "an MX preference");
		put16(r, parse_u32(t.text, "an MX preference", 65535));
		need(s, &t, "a mail exchange name");
		put_name(r, t.text, origin);
		break;
	case DNS_TYPE_SRV:
		for (int i = 0; i < 3; i++) {
			static const char *what[] = {
			    "an SRV priority", "an SRV weight", "an SRV port"};
			need(s, &t, what[i]);
			put16(r, parse_u32(t.text, what[i], 65535));
		}
		need(s, &t, "an SRV target name");
		put_name(r, t.text, origin);
		break;
	case DNS_TYPE_TXT:
		need(s, &t, "a TXT string");
		do
			put_charstring(r, &t);
		while (next_token(s, &t));
		return; /* the entry's end is consumed */
	case DNS_TYPE_CAA: {
		need(s, &t, "CAA flags");
		uint8_t flags = (uint8_t)parse_u32(t.text, "CAA flags", 255);
		put(r, &flags, 1);
		need(s, &t, "a CAA tag");
		if (!t.len || t.len > 255)
			fail("expected a CAA tag of 1 to 255 characters");
		for (size_t i = 0; i < t.len; i++)
			if (!isalnum((unsigned char)t.text[i]))
				fail(
				    "expected a CAA tag of letters and digits, "
				    "found '%s'",
				    t.text);
		uint8_t l = (uint8_t)t.len;
		put(r, &l, 1);
		put(r, t.text, t.len);
		need(s, &t, "a CAA value");
		unescape(&t);
		put(r, t.text, t.len);
		break;
	}
	case DNS_TYPE_DS:
		parse_ds(s, r);
		return; /* the digest runs to the entry's end */
	case DNS_TYPE_SOA:
		need(s, &t, "the SOA's primary server name");
		put_name(r, t.text, origin);
		need(s, &t, "the SOA's mailbox name");
		put_name(r, t.text, origin);
		for (int i = 0; i < 5; i++) {
			static const char *what[] = {
			    "an SOA serial", "an SOA refresh", "an SOA retry",
			    "an SOA expire", "an SOA minimum"};
			need(s, &t, what[i]);
			long v = i ? parse_ttl(t.text) : -1;
			put32(r, i ? (v < 0 ? (fail("expected %s, found '%s'",
						    what[i], t.text),
					       0)
					    : (uint32_t)v)
				   : parse_u32(t.text, what[i], 0xffffffffULL));
		}
		break;
	}
	if (next_token(s, &t))
		fail("expected the end of the record, found '%s'", t.text);
}

static void add_record(struct zone *z, const struct name *owner, uint16_t type,
		       uint32_t ttl, const struct rdata *r, const char *file,
		       unsigned line)
{
	if (z->nrrs == z->cap) {
		z->cap = z->cap ? 2 * z->cap : 256;
		z->rrs = xrealloc(z->rrs, z->cap * sizeof *z->rrs);
	}
	struct record *rec = &z->rrs[z->nrrs++];
	rec->owner = *owner;
	name_lower(&rec->owner);
	rec->type = type;
	rec->ttl = ttl;
	rec->rdlen = (uint16_t)r->len;
	rec->rdata = malloc(r->len ? r->len : 1);
	memcpy(rec->rdata, r->buf, r->len);
	rec->file = file;
	rec->line = line;
	rec->seq = z->nrrs;
}

static void parse_entry(struct zone *z, struct source *s,
			struct parse_state *st, int depth)
{
	static struct rdata r;
	struct token t;
	bool owner_given = s->p[0] != ' ' && s->p[0] != '\t';
	if (!next_token(s, &t))
		return; /* blank or comment-only */
	if (!t.quoted && t.text[0] == '$') {
		if (strcmp(t.text, "$ORIGIN") == 0) {
			need(s, &t, "a domain name after $ORIGIN");
			st->origin = parse_name(
			    t.text, st->have_origin ? &st->origin : NULL);
			st->have_origin = true;
		} else if (strcmp(t.text, "$TTL") == 0) {
			need(s, &t, "a TTL after $TTL");
			st->default_ttl = parse_ttl(t.text);
			if (st->default_ttl < 0)
				fail("expected a TTL after $TTL, found '%s'",
				     t.text);
		} else if (strcmp(t.text, "$INCLUDE") == 0) {
			need(s, &t, "a file name after $INCLUDE");
			char file[4096];
			snprintf(file, sizeof file, "%s", t.text);
			struct parse_state inner = *st;
			if (next_token(s, &t)) {
				inner.origin = parse_name(
				    t.text,
				    st->have_origin ? &st->origin : NULL);
				inner.have_origin = true;
			}
			if (next_token(s, &t))
				fail("expected the end of the $INCLUDE line");
			/* Relative to the including file's folder. */
			char full[8192];
			const char *slash = strrchr(s->path, '/');
			if (file[0] != '/' && slash)
				snprintf(full, sizeof full, "%.*s/%s",
					 (int)(slash - s->path), s->path, file);
			else
				snprintf(full, sizeof full, "%s", file);
			const char *saved_file = cur_file;
			unsigned saved_line = cur_line;
			parse_file(z, strdup(full), &inner, depth + 1);
			cur_file = saved_file;
			cur_line = saved_line;
			/* The included file's origin does not leak out (RFC
			 * 1035 5.1). */
			st->last_owner = inner.last_owner;
			st->have_owner = inner.have_owner;
			st->last_ttl = inner.last_ttl;
			return;
		} else {
			fail("expected $ORIGIN, $TTL or $INCLUDE, found '%s'",
			     t.text);
		}
		if (next_token(s, &t))
			fail("expected the end of the line, found '%s'",
			     t.text);
		return;
	}
	struct name owner;
	if (owner_given) {
		owner =
		    parse_name(t.text, st->have_origin ? &st->origin : NULL);
		st->last_owner = owner;
		st->have_owner = true;
		need(s, &t, "a TTL, a class or a type");
	} else {
		if (!st->have_owner)
			fail("expected an owner name on the first record");
		owner = st->last_owner;
	}
	long ttl = -1;
	int type = -1;
	for (int i = 0; i < 3 && type < 0; i++) {
		long v;
		if (strcasecmp(t.text, "IN") == 0) {
		} else if (strcasecmp(t.text, "CH") == 0 ||
			   strcasecmp(t.text, "HS") == 0 ||
			   strcasecmp(t.text, "CS") == 0) {
			fail("expected class IN, found '%s'", t.text);
		} else if ((v = parse_ttl(t.text)) >= 0 && ttl < 0) {
			ttl = v;
		} else if ((type = type_of(t.text)) < 0) {
			fail("expected a record type (SOA, NS, A, AAAA, CNAME, "
			     "MX, TXT, SRV, PTR, CAA or DS), found '%s'",
			     t.text);
		}
		if (type < 0)
			need(s, &t, "a record type");
	}
	if (type < 0)
		fail("expected a record type, found '%s'", t.text);
	if (ttl >= 0)
		st->last_ttl = ttl;
	else if (st->default_ttl >= 0)
		ttl = st->default_ttl;
	else if (st->last_ttl >= 0)
		ttl = st->last_ttl;
	else
		fail("expected a TTL: give one or set $TTL");
	unsigned line = s->line;
	parse_rdata(s, (uint16_t)type, st->have_origin ? &st->origin : NULL,
		    &r);
	if (type == DNS_TYPE_SOA) {
		if (z->has_soa)
			fail(
			    "expected one SOA record per zone, found a second");
		z->has_soa = true;
		z->origin = owner;
		name_lower(&z->origin);
	}
	add_record(z, &owner, (uint16_t)type, (uint32_t)ttl, &r, cur_file,
		   line);
}

void parse_file(struct zone *z, const char *path, struct parse_state *st,
		int depth)
{
	struct source s = {.path = path};
	if (depth > INCLUDE_DEPTH)
		fail("expected $INCLUDE nested at most %d deep", INCLUDE_DEPTH);
	s.f = fopen(path, "r");
	if (!s.f) {
		if (depth)
			fail("cannot open included file %s: %s", path,
			     strerror(errno));
		fprintf(stderr, "zone2c: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	cur_file = path;
	cur_line = 0;
	while (next_line(&s))
		parse_entry(z, &s, st, depth);
	fclose(s.f);
	free(s.buf);
}

/* --- checks --------------------------------------------------------------- */

static int cmp_record(const void *a, const void *b)
{
	const struct record *x = a, *y = b;
	int c = x->owner.len != y->owner.len
		    ? (int)x->owner.len - (int)y->owner.len
		    : memcmp(x->owner.wire, y->owner.wire, x->owner.len);
	if (c)
		return c;
	if (x->type != y->type)
		return (int)x->type - (int)y->type;
	/* Same RRset: file order. */
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A DS RRset lives on the parent's side of a zone cut (RFC 4035 2.4):
 * beside NS records, below the apex.  Records are sorted by owner. */
static void check_ds(const struct zone *z, size_t i)
{
	const struct record *r = &z->rrs[i];
	if (name_equal(&r->owner, &z->origin))
		fail("expected a DS record at a delegation, not at the zone's "
		     "apex (its DS belongs in the parent zone)");
	size_t k = i;
	while (k > 0 && name_equal(&z->rrs[k - 1].owner, &r->owner))
		k--;
	for (; k < z->nrrs && name_equal(&z->rrs[k].owner, &r->owner); k++)
		if (z->rrs[k].type == DNS_TYPE_NS)
			return;
	fail("expected a DS record at a delegation (a name with NS records)");
}

void check_zone(struct zone *z)
{
	char text[1024], apex[1024];
	if (!z->has_soa) {
		cur_line = 0;
		fail("expected an SOA record for the zone");
	}
	name_text(&z->origin, apex);
	bool apex_ns = false;
	for (size_t i = 0; i < z->nrrs; i++) {
		struct record *r = &z->rrs[i];
		cur_file = r->file;
		cur_line = r->line;
		name_text(&r->owner, text);
		if (!name_under(&r->owner, &z->origin))
			fail("expected names under the zone %s, found %s", apex,
			     text);
		if (r->type == DNS_TYPE_SOA &&
		    !name_equal(&r->owner, &z->origin))
			fail("expected the SOA at the zone's apex");
		if (r->type == DNS_TYPE_NS && name_equal(&r->owner, &z->origin))
			apex_ns = true;
	}
	if (!apex_ns) {
		cur_file = z->file;
		cur_line = 0;
		fail("expected NS records at the zone's apex %s", apex);
	}
	qsort(z->rrs, z->nrrs, sizeof *z->rrs, cmp_record);
	for (size_t i = 0; i < z->nrrs; i++) {
		struct record *r = &z->rrs[i];
		cur_file = r->file;
		cur_line = r->line;
		if (r->type == DNS_TYPE_DS)
			check_ds(z, i);
		for (size_t k = i + 1;
		     k < z->nrrs && name_equal(&z->rrs[k].owner, &r->owner);
		     k++)
			if ((r->type == DNS_TYPE_CNAME) !=
				(z->rrs[k].type == DNS_TYPE_CNAME) ||
			    (r->type == DNS_TYPE_CNAME &&
			     z->rrs[k].type == DNS_TYPE_CNAME)) {
				name_text(&r->owner, text);
				/* The later of the two in the file. */
				struct record *later =
				    z->rrs[k].seq > r->seq ? &z->rrs[k] : r;
				cur_file = later->file;
				cur_line = later->line;
				fail("expected a CNAME to be the only record "
				     "of %s",
				     text);
			}
	}
}
