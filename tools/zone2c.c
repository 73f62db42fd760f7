/*
 * zone2c: compiles DNS zone files (RFC 1035 master format) into C data for
 * lib/dns (layout in lib/dns/zone.h), at build time.
 *   zone2c [-o OUT.c] ZONEFILE...
 * Each file's origin starts as its name without ".zone" (example.test.zone:
 * example.test.); $ORIGIN changes it; the zone's apex is its SOA's owner.
 * Understood: $ORIGIN, $TTL, $INCLUDE, relative and absolute names, @,
 * omitted owner, TTL and class, parentheses across lines, quoted strings,
 * \X and \DDD escapes, comments; SOA, NS, A, AAAA, CNAME, MX, TXT, SRV, PTR
 * and CAA records; TTLs with units (1h30m).  An error names file:line and
 * what was expected, and fails the build.
 *
 * Written here rather than taken from a DNS library: the output is our own
 * layout, and the parser is small.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/dns/zone.h"

#define NAME_MAX_WIRE 255
#define INCLUDE_DEPTH 8

/* --- errors ---------------------------------------------------------------- */

static const char *cur_file;
static unsigned cur_line;

static _Noreturn void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%u: ", cur_file, cur_line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		perror("zone2c");
		exit(1);
	}
	return p;
}

/* --- names ----------------------------------------------------------------- */

struct name {
	uint8_t len;
	uint8_t wire[NAME_MAX_WIRE];
};

static const struct name root = {1, {0}};

static void name_lower(struct name *n)
{
	for (unsigned i = 0; i < n->len;) {
		unsigned l = n->wire[i++];
		for (unsigned k = 0; k < l; k++, i++)
			n->wire[i] = (uint8_t)tolower(n->wire[i]);
	}
}

static bool name_equal(const struct name *a, const struct name *b)
{
	return a->len == b->len && memcmp(a->wire, b->wire, a->len) == 0;
}

/* Whether a is b or below it (both lower case). */
static bool name_under(const struct name *a, const struct name *b)
{
	if (a->len < b->len)
		return false;
	unsigned i = 0;
	while (a->len - i > b->len)
		i += 1 + a->wire[i];
	return a->len - i == b->len && memcmp(a->wire + i, b->wire, b->len) == 0;
}

/* The parent of n (n not the root). */
static struct name name_parent(const struct name *n)
{
	struct name p;
	unsigned skip = 1 + n->wire[0];
	p.len = (uint8_t)(n->len - skip);
	memcpy(p.wire, n->wire + skip, p.len);
	return p;
}

/* Text -> wire name, relative to origin unless it ends in a dot. */
static struct name parse_name(const char *s, const struct name *origin)
{
	struct name n = {0};
	if (strcmp(s, "@") == 0) {
		if (!origin)
			fail("'@' with no $ORIGIN");
		return *origin;
	}
	if (strcmp(s, ".") == 0)
		return root;
	unsigned pos = 0;
	bool absolute = false;
	while (*s) {
		uint8_t label[63];
		unsigned l = 0;
		while (*s && *s != '.') {
			int c = (unsigned char)*s++;
			if (c == '\\') {
				if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
				    isdigit((unsigned char)s[2])) {
					c = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
					if (c > 255)
						fail("expected \\DDD with DDD at most 255");
					s += 3;
				} else if (*s) {
					c = (unsigned char)*s++;
				} else {
					fail("expected a character after '\\'");
				}
			}
			if (l == 63)
				fail("expected labels of at most 63 bytes");
			label[l++] = (uint8_t)c;
		}
		if (!l)
			fail("expected a name, found an empty label");
		if (pos + 1 + l > NAME_MAX_WIRE - 1)
			fail("expected a name of at most 255 bytes");
		n.wire[pos++] = (uint8_t)l;
		memcpy(n.wire + pos, label, l);
		pos += l;
		if (*s == '.') {
			s++;
			if (!*s)
				absolute = true;
		}
	}
	if (absolute) {
		n.wire[pos++] = 0;
	} else {
		if (!origin)
			fail("relative name with no $ORIGIN");
		if (pos + origin->len > NAME_MAX_WIRE)
			fail("expected a name of at most 255 bytes");
		memcpy(n.wire + pos, origin->wire, origin->len);
		pos += origin->len;
	}
	n.len = (uint8_t)pos;
	return n;
}

static void name_text(const struct name *n, char *out)
{
	unsigned i = 0;
	char *o = out;
	if (n->len == 1) {
		strcpy(out, ".");
		return;
	}
	while (n->wire[i]) {
		unsigned l = n->wire[i++];
		for (unsigned k = 0; k < l; k++) {
			int c = n->wire[i++];
			if (c == '.' || c == '\\')
				*o++ = '\\';
			if (isgraph(c))
				*o++ = (char)c;
			else
				o += sprintf(o, "\\%03d", c);
		}
		*o++ = '.';
	}
	*o = '\0';
}

/* --- the tokenizer --------------------------------------------------------- */

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

/* Reads the next line; false at end of file. */
static bool next_line(struct source *s)
{
	ssize_t n = getline(&s->buf, &s->cap, s->f);
	if (n < 0) {
		if (s->parens) {
			cur_line = s->paren_line;
			fail("expected ')' to close this line's '(' before the end "
			     "of the file");
		}
		return false;
	}
	s->line++;
	cur_line = s->line;
	s->p = s->buf;
	return true;
}

/* The next token of the entry, or false at its end (end of line outside
 * parentheses).  Parentheses join lines; comments run to the line's end. */
static bool next_token(struct source *s, struct token *t)
{
	for (;;) {
		while (*s->p == ' ' || *s->p == '\t' || *s->p == '\r')
			s->p++;
		if (*s->p == ';')
			while (*s->p && *s->p != '\n')
				s->p++;
		if (*s->p == '\n' || !*s->p) {
			if (!s->parens)
				return false;
			if (!next_line(s))
				return false;
			continue;
		}
		if (*s->p == '(') {
			if (!s->parens)
				s->paren_line = s->line;
			s->parens++;
			s->p++;
			continue;
		}
		if (*s->p == ')') {
			if (!s->parens)
				fail("expected '(' before ')'");
			s->parens--;
			s->p++;
			continue;
		}
		break;
	}
	t->len = 0;
	t->quoted = *s->p == '"';
	if (t->quoted) {
		s->p++;
		while (*s->p != '"') {
			if (!*s->p || *s->p == '\n')
				fail("expected '\"' to end the string");
			int c = (unsigned char)*s->p++;
			if (c == '\\') {
				if (isdigit((unsigned char)s->p[0]) && isdigit((unsigned char)s->p[1]) &&
				    isdigit((unsigned char)s->p[2])) {
					c = (s->p[0] - '0') * 100 + (s->p[1] - '0') * 10 + (s->p[2] - '0');
					if (c > 255)
						fail("expected \\DDD with DDD at most 255");
					s->p += 3;
				} else if (*s->p && *s->p != '\n') {
					c = (unsigned char)*s->p++;
				}
			}
			if (t->len == sizeof t->text - 1)
				fail("string too long");
			t->text[t->len++] = (char)c;
		}
		s->p++;
	} else {
		while (*s->p && !strchr(" \t\r\n;()", *s->p)) {
			if (t->len == sizeof t->text - 2)
				fail("token too long");
			if (*s->p == '\\' && s->p[1] && s->p[1] != '\n')
				t->text[t->len++] = *s->p++; /* kept for parse_name */
			t->text[t->len++] = *s->p++;
		}
	}
	t->text[t->len] = '\0';
	return true;
}

/* --- records --------------------------------------------------------------- */

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

static struct zone *zones;
static size_t nzones;

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
    {"A", DNS_TYPE_A},	   {"NS", DNS_TYPE_NS},	    {"CNAME", DNS_TYPE_CNAME},
    {"SOA", DNS_TYPE_SOA}, {"PTR", DNS_TYPE_PTR},   {"MX", DNS_TYPE_MX},
    {"TXT", DNS_TYPE_TXT}, {"AAAA", DNS_TYPE_AAAA}, {"SRV", DNS_TYPE_SRV},
    {"CAA", DNS_TYPE_CAA},
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
		static const unsigned long mult[] = {1, 60, 3600, 86400, 604800};
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
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			(uint8_t)v};
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
		if (c == '\\' && i + 1 < t->len) {
			if (i + 3 < t->len && isdigit((unsigned char)t->text[i + 1]) &&
			    isdigit((unsigned char)t->text[i + 2]) &&
			    isdigit((unsigned char)t->text[i + 3])) {
				c = (t->text[i + 1] - '0') * 100 + (t->text[i + 2] - '0') * 10 +
				    (t->text[i + 3] - '0');
				if (c > 255)
					fail("expected \\DDD with DDD at most 255");
				i += 3;
			} else {
				c = (unsigned char)t->text[++i];
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

static void parse_rdata(struct source *s, uint16_t type, const struct name *origin,
			struct rdata *r)
{
	struct token t;
	r->len = 0;
	switch (type) {
	case DNS_TYPE_A: {
		struct in_addr a;
		need(s, &t, "an IPv4 address");
		if (t.quoted || inet_pton(AF_INET, t.text, &a) != 1)
			fail("expected an IPv4 address, found '%s'", t.text);
		put(r, &a, 4);
		break;
	}
	case DNS_TYPE_AAAA: {
		struct in6_addr a;
		need(s, &t, "an IPv6 address");
		if (t.quoted || inet_pton(AF_INET6, t.text, &a) != 1)
			fail("expected an IPv6 address, found '%s'", t.text);
		put(r, &a, 16);
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
			static const char *what[] = {"an SRV priority", "an SRV weight",
						     "an SRV port"};
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
				fail("expected a CAA tag of letters and digits, "
				     "found '%s'", t.text);
		uint8_t l = (uint8_t)t.len;
		put(r, &l, 1);
		put(r, t.text, t.len);
		need(s, &t, "a CAA value");
		unescape(&t);
		put(r, t.text, t.len);
		break;
	}
	case DNS_TYPE_SOA:
		need(s, &t, "the SOA's primary server name");
		put_name(r, t.text, origin);
		need(s, &t, "the SOA's mailbox name");
		put_name(r, t.text, origin);
		for (int i = 0; i < 5; i++) {
			static const char *what[] = {"an SOA serial", "an SOA refresh",
						     "an SOA retry", "an SOA expire",
						     "an SOA minimum"};
			need(s, &t, what[i]);
			long v = i ? parse_ttl(t.text) : -1;
			put32(r, i ? (v < 0 ? (fail("expected %s, found '%s'", what[i],
						       t.text), 0)
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

struct parse_state {
	struct name origin;
	bool have_origin;
	long default_ttl; /* $TTL, or -1 */
	long last_ttl;	  /* the last explicit TTL, or -1 */
	struct name last_owner;
	bool have_owner;
};

static void parse_file(struct zone *z, const char *path, struct parse_state *st,
		       int depth);

static void parse_entry(struct zone *z, struct source *s, struct parse_state *st,
			int depth)
{
	static struct rdata r;
	struct token t;
	bool owner_given = s->p[0] != ' ' && s->p[0] != '\t';
	if (!next_token(s, &t))
		return; /* blank or comment-only */
	if (!t.quoted && t.text[0] == '$') {
		if (strcmp(t.text, "$ORIGIN") == 0) {
			need(s, &t, "a domain name after $ORIGIN");
			st->origin = parse_name(t.text, st->have_origin ? &st->origin : NULL);
			st->have_origin = true;
		} else if (strcmp(t.text, "$TTL") == 0) {
			need(s, &t, "a TTL after $TTL");
			st->default_ttl = parse_ttl(t.text);
			if (st->default_ttl < 0)
				fail("expected a TTL after $TTL, found '%s'", t.text);
		} else if (strcmp(t.text, "$INCLUDE") == 0) {
			need(s, &t, "a file name after $INCLUDE");
			char file[4096];
			snprintf(file, sizeof file, "%s", t.text);
			struct parse_state inner = *st;
			if (next_token(s, &t)) {
				inner.origin = parse_name(t.text, st->have_origin ? &st->origin : NULL);
				inner.have_origin = true;
			}
			if (next_token(s, &t))
				fail("expected the end of the $INCLUDE line");
			/* Relative to the including file's folder. */
			char full[8192];
			const char *slash = strrchr(s->path, '/');
			if (file[0] != '/' && slash)
				snprintf(full, sizeof full, "%.*s/%s", (int)(slash - s->path),
					 s->path, file);
			else
				snprintf(full, sizeof full, "%s", file);
			const char *saved_file = cur_file;
			unsigned saved_line = cur_line;
			parse_file(z, strdup(full), &inner, depth + 1);
			cur_file = saved_file;
			cur_line = saved_line;
			/* The included file's origin does not leak out (RFC 1035 5.1). */
			st->last_owner = inner.last_owner;
			st->have_owner = inner.have_owner;
			st->last_ttl = inner.last_ttl;
			return;
		} else {
			fail("expected $ORIGIN, $TTL or $INCLUDE, found '%s'", t.text);
		}
		if (next_token(s, &t))
			fail("expected the end of the line, found '%s'", t.text);
		return;
	}
	struct name owner;
	if (owner_given) {
		owner = parse_name(t.text, st->have_origin ? &st->origin : NULL);
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
		} else if (strcasecmp(t.text, "CH") == 0 || strcasecmp(t.text, "HS") == 0 ||
			   strcasecmp(t.text, "CS") == 0) {
			fail("expected class IN, found '%s'", t.text);
		} else if ((v = parse_ttl(t.text)) >= 0 && ttl < 0) {
			ttl = v;
		} else if ((type = type_of(t.text)) < 0) {
			fail("expected a record type (SOA, NS, A, AAAA, CNAME, MX, TXT, "
			     "SRV, PTR or CAA), found '%s'", t.text);
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
	parse_rdata(s, (uint16_t)type, st->have_origin ? &st->origin : NULL, &r);
	if (type == DNS_TYPE_SOA) {
		if (z->has_soa)
			fail("expected one SOA record per zone, found a second");
		z->has_soa = true;
		z->origin = owner;
		name_lower(&z->origin);
	}
	add_record(z, &owner, (uint16_t)type, (uint32_t)ttl, &r, cur_file, line);
}

static void parse_file(struct zone *z, const char *path, struct parse_state *st,
		       int depth)
{
	struct source s = {.path = path};
	if (depth > INCLUDE_DEPTH)
		fail("expected $INCLUDE nested at most %d deep", INCLUDE_DEPTH);
	s.f = fopen(path, "r");
	if (!s.f) {
		if (depth)
			fail("cannot open included file %s: %s", path, strerror(errno));
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

/* --- checks and layout ----------------------------------------------------- */

static int cmp_record(const void *a, const void *b)
{
	const struct record *x = a, *y = b;
	int c = x->owner.len != y->owner.len ? (int)x->owner.len - (int)y->owner.len
					     : memcmp(x->owner.wire, y->owner.wire, x->owner.len);
	if (c)
		return c;
	if (x->type != y->type)
		return (int)x->type - (int)y->type;
	/* Same RRset: file order. */
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void check_zone(struct zone *z)
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
			fail("expected names under the zone %s, found %s", apex, text);
		if (r->type == DNS_TYPE_SOA && !name_equal(&r->owner, &z->origin))
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
		for (size_t k = i + 1; k < z->nrrs && name_equal(&z->rrs[k].owner, &r->owner); k++)
			if ((r->type == DNS_TYPE_CNAME) != (z->rrs[k].type == DNS_TYPE_CNAME) ||
			    (r->type == DNS_TYPE_CNAME && z->rrs[k].type == DNS_TYPE_CNAME)) {
				name_text(&r->owner, text);
				/* The later of the two in the file. */
				struct record *later = z->rrs[k].seq > r->seq ? &z->rrs[k] : r;
				cur_file = later->file;
				cur_line = later->line;
				fail("expected a CNAME to be the only record of %s", text);
			}
	}
}

struct node {
	struct name name;
	size_t first, n; /* records, sorted by type */
	uint8_t flags;
};

static struct node *nodes;
static size_t nnodes, nodes_cap;

static struct node *find_node(const struct name *n)
{
	for (size_t i = 0; i < nnodes; i++)
		if (name_equal(&nodes[i].name, n))
			return &nodes[i];
	return NULL;
}

static struct node *add_node(const struct name *n)
{
	struct node *x = find_node(n);
	if (x)
		return x;
	if (nnodes == nodes_cap) {
		nodes_cap = nodes_cap ? 2 * nodes_cap : 256;
		nodes = xrealloc(nodes, nodes_cap * sizeof *nodes);
	}
	x = &nodes[nnodes++];
	*x = (struct node){.name = *n};
	return x;
}

static int cmp_node(const void *a, const void *b)
{
	const struct node *x = a, *y = b;
	return x->name.len != y->name.len ? (int)x->name.len - (int)y->name.len
					  : memcmp(x->name.wire, y->name.wire, x->name.len);
}

static void emit_bytes(FILE *out, const uint8_t *p, size_t n, size_t *col)
{
	for (size_t i = 0; i < n; i++) {
		if (*col % 16 == 0)
			fputs("\n\t", out);
		fprintf(out, "%u,", p[i]);
		(*col)++;
	}
}

static void emit_zone(FILE *out, unsigned zi, struct zone *z)
{
	nnodes = 0;
	/* Nodes: every owner and every ancestor up to the apex. */
	for (size_t i = 0; i < z->nrrs; i++) {
		struct name n = z->rrs[i].owner;
		struct node *x = add_node(&n);
		if (!x->n)
			x->first = i;
		x->n++;
		while (!name_equal(&n, &z->origin)) {
			n = name_parent(&n);
			add_node(&n);
		}
	}
	qsort(nodes, nnodes, sizeof *nodes, cmp_node);

	size_t col = 0, data_len = 0;
	fprintf(out, "static const uint8_t z%u_data[] = {", zi);
	size_t *name_off = calloc(nnodes, sizeof *name_off);
	for (size_t i = 0; i < nnodes; i++) {
		name_off[i] = data_len;
		emit_bytes(out, nodes[i].name.wire, nodes[i].name.len, &col);
		data_len += nodes[i].name.len;
	}
	/* RRsets: each node's records grouped by type. */
	size_t nrrsets = 0, rrsets_cap = 256;
	struct dns_rrset *rrsets = malloc(rrsets_cap * sizeof *rrsets);
	uint16_t *node_rrset = calloc(nnodes, sizeof *node_rrset);
	uint8_t *node_nrrsets = calloc(nnodes, 1);
	for (size_t i = 0; i < nnodes; i++) {
		struct node *x = &nodes[i];
		node_rrset[i] = (uint16_t)nrrsets;
		if (nrrsets > 65000) {
			cur_file = z->file;
			cur_line = 0;
			fail("expected at most 65000 RRsets per zone");
		}
		/* The node's RRsets in the order the file first gives them
		 * (what NSD does too, which matters for ANY). */
		size_t groups[256], ngroups = 0;
		for (size_t k = x->first; k < x->first + x->n; k++)
			if ((k == x->first || z->rrs[k].type != z->rrs[k - 1].type) &&
			    ngroups < 256)
				groups[ngroups++] = k;
		for (size_t a = 1; a < ngroups; a++)
			for (size_t b = a; b > 0 && z->rrs[groups[b]].seq < z->rrs[groups[b - 1]].seq; b--) {
				size_t t = groups[b];
				groups[b] = groups[b - 1];
				groups[b - 1] = t;
			}
		for (size_t g = 0; g < ngroups; g++) {
			size_t k = groups[g];
			struct record *r = &z->rrs[k];
			if (nrrsets == rrsets_cap)
				rrsets = xrealloc(rrsets, (rrsets_cap *= 2) * sizeof *rrsets);
			struct dns_rrset *set = &rrsets[nrrsets++];
			*set = (struct dns_rrset){.type = r->type, .ttl = r->ttl,
						  .rdata = (uint32_t)data_len};
			size_t end = k;
			while (end < x->first + x->n && z->rrs[end].type == r->type)
				end++;
			for (size_t j = k; j < end; j++) {
				struct record *rr = &z->rrs[j];
				bool dup = false;
				for (size_t m = k; m < j; m++)
					dup |= z->rrs[m].rdlen == rr->rdlen &&
					       memcmp(z->rrs[m].rdata, rr->rdata, rr->rdlen) == 0;
				if (dup)
					continue; /* an RRset is a set (RFC 2181 5) */
				if (rr->ttl < set->ttl)
					set->ttl = rr->ttl; /* one TTL per RRset */
				uint8_t len[2] = {(uint8_t)(rr->rdlen >> 8), (uint8_t)rr->rdlen};
				emit_bytes(out, len, 2, &col);
				emit_bytes(out, rr->rdata, rr->rdlen, &col);
				data_len += 2 + rr->rdlen;
				set->count++;
			}
			if (r->type == DNS_TYPE_NS && !name_equal(&x->name, &z->origin))
				x->flags |= DNS_NODE_CUT;
			node_nrrsets[i]++;
		}
	}
	fprintf(out, "\n};\n\n");

	fprintf(out, "static const struct dns_rrset z%u_rrsets[] = {\n", zi);
	for (size_t i = 0; i < nrrsets; i++)
		fprintf(out, "\t{%u, %u, %u, %u},\n", rrsets[i].type, rrsets[i].count,
			rrsets[i].ttl, rrsets[i].rdata);
	if (!nrrsets)
		fprintf(out, "\t{0, 0, 0, 0},\n");
	fprintf(out, "};\n\n");

	size_t apex = 0;
	fprintf(out, "static const struct dns_node z%u_nodes[] = {\n", zi);
	for (size_t i = 0; i < nnodes; i++) {
		char text[1024];
		name_text(&nodes[i].name, text);
		if (name_equal(&nodes[i].name, &z->origin))
			apex = i;
		fprintf(out, "\t{%zu, %u, %u, %u}, /* %s */\n", name_off[i], node_rrset[i],
			node_nrrsets[i], nodes[i].flags, text);
	}
	fprintf(out, "};\n\n");

	size_t slots = 16;
	while (slots < 2 * nnodes)
		slots *= 2;
	uint32_t *hash = calloc(slots, sizeof *hash);
	for (size_t i = 0; i < nnodes; i++) {
		uint32_t h = dns_name_hash(nodes[i].name.wire, nodes[i].name.len);
		while (hash[h & (slots - 1)])
			h++;
		hash[h & (slots - 1)] = (uint32_t)i + 1;
	}
	fprintf(out, "static const uint32_t z%u_hash[] = {", zi);
	for (size_t i = 0; i < slots; i++)
		fprintf(out, "%s%u,", i % 16 ? " " : "\n\t", hash[i]);
	fprintf(out, "\n};\n\n");
	fprintf(out, "#define Z%u {z%u_data, z%u_nodes, z%u_rrsets, z%u_hash, %zu, %zu, %zu}\n\n",
		zi, zi, zi, zi, zi, slots - 1, apex, nnodes);
	free(hash);
	free(name_off);
	free(rrsets);
	free(node_rrset);
	free(node_nrrsets);
}

int main(int argc, char **argv)
{
	const char *out_path = NULL;
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "-o") == 0) {
		out_path = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: zone2c [-o OUT.c] ZONEFILE...\n");
		return 2;
	}
	zones = calloc((size_t)(argc - i), sizeof *zones);
	for (; i < argc; i++) {
		struct zone *z = &zones[nzones++];
		struct parse_state st = {.default_ttl = -1, .last_ttl = -1};
		const char *base = strrchr(argv[i], '/');
		base = base ? base + 1 : argv[i];
		size_t bl = strlen(base);
		if (bl > 5 && strcmp(base + bl - 5, ".zone") == 0) {
			char origin[1024];
			snprintf(origin, sizeof origin, "%.*s.", (int)(bl - 5), base);
			cur_file = argv[i];
			cur_line = 0;
			st.origin = parse_name(origin, NULL);
			st.have_origin = true;
		}
		z->file = argv[i];
		parse_file(z, argv[i], &st, 0);
		cur_file = argv[i];
		check_zone(z);
		for (size_t k = 0; k + 1 < nzones; k++)
			if (name_equal(&zones[k].origin, &z->origin)) {
				cur_line = 0;
				fail("expected each zone once; this one is also in %s",
				     zones[k].file);
			}
	}

	FILE *out = out_path ? fopen(out_path, "w") : stdout;
	if (!out) {
		perror(out_path);
		return 1;
	}
	fprintf(out, "/* Generated by tools/zone2c from");
	for (size_t k = 0; k < nzones; k++)
		fprintf(out, " %s", zones[k].file);
	fprintf(out, ". */\n#include \"lib/dns/zone.h\"\n\n");
	for (size_t k = 0; k < nzones; k++)
		emit_zone(out, (unsigned)k, &zones[k]);
	fprintf(out, "const struct dns_zone dns_zones[] = {");
	for (size_t k = 0; k < nzones; k++)
		fprintf(out, "Z%zu, ", k);
	fprintf(out, "};\nconst unsigned dns_nzones = %zu;\n", nzones);
	if (out != stdout && fclose(out) != 0) {
		perror(out_path);
		return 1;
	}
	return 0;
}
