/* rules2c: a rule's clauses, in order, and the checks across them. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules2c.h"

struct compiled out;
char **allowed_ifs;
size_t nallowed_ifs;

/* A cursor over one line's tokens. */
struct cursor {
	const struct token *tok;
	size_t n, i;
};

static const char *peek(const struct cursor *c)
{
	return c->i < c->n ? c->tok[c->i].text : "";
}

static bool accept(struct cursor *c, const char *word)
{
	if (c->i < c->n && strcmp(c->tok[c->i].text, word) == 0) {
		c->i++;
		return true;
	}
	return false;
}

static const char *next(struct cursor *c, const char *what)
{
	if (c->i >= c->n)
		fail("expected %s at the end of the rule", what);
	return c->tok[c->i++].text;
}

/* Strict unsigned decimal, at most max. */
static bool parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	if (!isdigit((unsigned char)*s) || strlen(s) > 10)
		return false;
	char *end;
	*v = strtoul(s, &end, 10);
	return *end == '\0' && *v <= max;
}

/* --- lists ---------------------------------------------------------------- */

/* Calls item() on each item of ITEM or { ITEM [,] ITEM ... } (nested
 * braces, as a macro's list inside a list gives, are flattened). */
static void each_item(struct cursor *c, const char *what,
		      void (*item)(const char *, void *), void *arg)
{
	if (!accept(c, "{")) {
		const char *t = next(c, what);
		if (strchr("{},!=", t[0]))
			fail("expected %s, found '%s'", what, t);
		item(t, arg);
		return;
	}
	unsigned depth = 1, items = 0;
	while (depth) {
		const char *t = next(c, "'}' to close the list");
		if (strcmp(t, "{") == 0) {
			depth++;
		} else if (strcmp(t, "}") == 0) {
			depth--;
		} else if (strcmp(t, ",") == 0) {
			continue;
		} else if (strcmp(t, "!") == 0 || strcmp(t, "=") == 0) {
			fail("'%s' inside a list (negate a whole list: "
			     "!{ ... })",
			     t);
		} else {
			item(t, arg);
			items++;
		}
	}
	if (!items)
		fail("an empty list matches nothing; expected %s", what);
}

/* [!] ITEMS as a run of out.prefixes or out.ranges. */
static struct fw_list list_of(struct cursor *c, const char *what,
			      void (*item)(const char *, void *), size_t *count)
{
	struct fw_list l = {.first = 0};
	l.negate = accept(c, "!");
	size_t first = *count;
	each_item(c, what, item, NULL);
	if (*count > 0xffff)
		fail("too many addresses and ports in the rules (at most "
		     "65535 of each)");
	l.first = (uint16_t)first;
	l.count = (uint16_t)(*count - first);
	return l;
}

/* Four decimal octets, then optionally /LEN: nothing else. */
static bool parse_prefix(const char *s, uint32_t *addr, unsigned *len)
{
	char buf[TOKEN_MAX], *slash, *p, *save = NULL;
	unsigned long v;
	snprintf(buf, sizeof buf, "%s", s);
	slash = strchr(buf, '/');
	*len = 32;
	if (slash) {
		*slash = '\0';
		if (!parse_uint(slash + 1, 32, &v))
			return false;
		*len = (unsigned)v;
	}
	/* strtok_r skips empty fields: "1..2.3" must not pass. */
	size_t n = strlen(buf);
	if (!n || buf[0] == '.' || buf[n - 1] == '.' || strstr(buf, ".."))
		return false;
	*addr = 0;
	int octets = 0;
	for (p = strtok_r(buf, ".", &save); p; p = strtok_r(NULL, ".", &save)) {
		if (++octets > 4 || strlen(p) > 3 || !parse_uint(p, 255, &v))
			return false;
		*addr = *addr << 8 | (uint32_t)v;
	}
	return octets == 4;
}

static void prefix_item(const char *s, void *arg)
{
	uint32_t addr;
	unsigned len;
	if (!parse_prefix(s, &addr, &len))
		fail("expected an address or prefix (10.0.0.1, 10.0.0.0/8), "
		     "found '%s'",
		     s);
	uint32_t mask = len ? ~0u << (32 - len) : 0;
	if (addr & ~mask)
		fail("%s has bits set past its prefix length (%u.%u.%u.%u/%u "
		     "is the network)",
		     s, (addr & mask) >> 24, (addr & mask) >> 16 & 255,
		     (addr & mask) >> 8 & 255, addr & mask & 255, len);
	out.prefixes =
	    xrealloc(out.prefixes, (out.nprefixes + 1) * sizeof *out.prefixes);
	out.prefixes[out.nprefixes++] = (struct fw_prefix){addr, mask};
}

static void port_item(const char *s, void *arg)
{
	char lo_s[TOKEN_MAX], *colon;
	unsigned long lo, hi;
	snprintf(lo_s, sizeof lo_s, "%s", s);
	colon = strchr(lo_s, ':');
	if (colon)
		*colon = '\0';
	if (!parse_uint(lo_s, 65535, &lo) ||
	    !parse_uint(colon ? colon + 1 : lo_s, 65535, &hi))
		fail("expected a port (0 to 65535) or a range (1024:65535), "
		     "found '%s'",
		     s);
	if (lo > hi)
		fail("the range %s is empty (its first port is above its "
		     "last)",
		     s);
	out.ranges =
	    xrealloc(out.ranges, (out.nranges + 1) * sizeof *out.ranges);
	out.ranges[out.nranges++] =
	    (struct fw_range){(uint16_t)lo, (uint16_t)hi};
}

static struct fw_list addresses(struct cursor *c)
{
	if (accept(c, "any"))
		return (struct fw_list){0};
	return list_of(c, "an address, a prefix or a list of them", prefix_item,
		       &out.nprefixes);
}

static struct fw_list ports(struct cursor *c)
{
	if (!accept(c, "port"))
		return (struct fw_list){0};
	return list_of(c, "a port, a range or a list of them", port_item,
		       &out.nranges);
}

/* --- protocols and ICMP types --------------------------------------------- */

static void set_bit(uint32_t *bits, unsigned long n)
{
	bits[n / 32] |= 1u << (n % 32);
}

struct number_name {
	const char *name;
	unsigned number;
};

static const struct number_name proto_names[] = {{"icmp", FW_PROTO_ICMP},
						 {"tcp", FW_PROTO_TCP},
						 {"udp", FW_PROTO_UDP},
						 {NULL, 0}};

/* The ICMP types by name (RFC 792 and its successors); the same names as
 * nftables uses. */
static const struct number_name icmp_names[] = {
    {"echo-reply", 0},           {"destination-unreachable", 3},
    {"source-quench", 4},        {"redirect", 5},
    {"echo-request", 8},         {"router-advertisement", 9},
    {"router-solicitation", 10}, {"time-exceeded", 11},
    {"parameter-problem", 12},   {"timestamp-request", 13},
    {"timestamp-reply", 14},     {"info-request", 15},
    {"info-reply", 16},          {"address-mask-request", 17},
    {"address-mask-reply", 18},  {NULL, 0}};

/* s, a name of the table or a number up to 255, as a bit of bits. */
static bool set_named_bit(uint32_t *bits, const struct number_name *t,
			  const char *s)
{
	unsigned long n;
	for (; t->name; t++)
		if (strcmp(s, t->name) == 0) {
			set_bit(bits, t->number);
			return true;
		}
	if (!parse_uint(s, 255, &n))
		return false;
	set_bit(bits, n);
	return true;
}

static void proto_item(const char *s, void *arg)
{
	if (!set_named_bit(arg, proto_names, s))
		fail("expected a protocol (tcp, udp, icmp, any or a number "
		     "up to 255), found '%s'",
		     s);
}

static void icmp_item(const char *s, void *arg)
{
	if (!set_named_bit(arg, icmp_names, s))
		fail("expected an ICMP type (echo-request, echo-reply, "
		     "destination-unreachable, time-exceeded, ... or a number "
		     "up to 255), found '%s'",
		     s);
}

static bool only(const uint32_t *bits, unsigned a, unsigned b)
{
	for (unsigned n = 0; n < 256; n++)
		if ((bits[n / 32] >> (n % 32) & 1) && n != a && n != b)
			return false;
	return true;
}

/* --- interfaces ----------------------------------------------------------- */

static uint8_t interface(const char *name)
{
	if (strchr("{},!=", name[0]) || strcmp(name, "any") == 0)
		fail("expected an interface's name after 'on', found '%s'",
		     name);
	if (nallowed_ifs) {
		size_t k = 0;
		while (k < nallowed_ifs && strcmp(allowed_ifs[k], name) != 0)
			k++;
		if (k == nallowed_ifs) {
			char list[512] = "";
			for (size_t j = 0; j < nallowed_ifs; j++)
				snprintf(list + strlen(list),
					 sizeof list - strlen(list), "%s%s",
					 j ? ", " : "", allowed_ifs[j]);
			fail("no interface '%s' in the image (its network "
			     "devices: %s)",
			     name, list);
		}
	}
	for (size_t k = 0; k < out.nifs; k++)
		if (strcmp(out.ifnames[k], name) == 0)
			return (uint8_t)k;
	if (out.nifs == FW_IF_ANY)
		fail("too many interfaces (at most %d)", FW_IF_ANY);
	out.ifnames =
	    xrealloc(out.ifnames, (out.nifs + 1) * sizeof *out.ifnames);
	out.ifnames[out.nifs] = strdup(name);
	return (uint8_t)out.nifs++;
}

/* --- rules ---------------------------------------------------------------- */

/*
 * pass|block [in|out] [on IF] [proto PROTOS]
 *   [all | [from ADDRS [port PORTS]] [to ADDRS [port PORTS]]]
 *   [icmp-type TYPES] [keep state]
 */
void parse_rule(const struct line *l)
{
	struct cursor c = {l->tok, l->ntok, 0};
	struct fw_rule r = {.line = (uint16_t)l->number, .ifidx = FW_IF_ANY};
	if (l->number > 0xffff)
		fail("a rules file has at most 65535 lines");
	if (accept(&c, "pass"))
		r.action = FW_ACTION_PASS;
	else if (accept(&c, "block"))
		r.action = FW_ACTION_BLOCK;
	else
		fail("expected a rule (pass or block) or a macro (NAME = "
		     "VALUE), found '%s'",
		     peek(&c));
	if (accept(&c, "in"))
		r.dir = FW_DIR_IN;
	else if (accept(&c, "out"))
		r.dir = FW_DIR_OUT;
	if (accept(&c, "on"))
		r.ifidx = interface(next(&c, "an interface's name"));
	else if (r.dir != FW_DIR_ANY)
		fail("'%s' needs 'on INTERFACE' after it (every packet comes "
		     "in and goes out)",
		     r.dir == FW_DIR_IN ? "in" : "out");

	bool any_proto = true, has_ports = false, has_types = false;
	if (accept(&c, "proto") && !accept(&c, "any")) {
		any_proto = false;
		each_item(&c, "a protocol or a list of them", proto_item,
			  r.protos);
	}
	if (any_proto)
		memset(r.protos, 0xff, sizeof r.protos);

	if (!accept(&c, "all")) {
		if (accept(&c, "from")) {
			r.src = addresses(&c);
			r.sport = ports(&c);
		}
		if (accept(&c, "to")) {
			r.dst = addresses(&c);
			r.dport = ports(&c);
		}
		has_ports = r.sport.count || r.dport.count;
	}
	if (accept(&c, "icmp-type")) {
		each_item(&c, "an ICMP type or a list of them", icmp_item,
			  r.icmp_types);
		has_types = true;
	} else {
		memset(r.icmp_types, 0xff, sizeof r.icmp_types);
	}
	if (accept(&c, "keep")) {
		if (!accept(&c, "state"))
			fail("expected 'state' after 'keep', found '%s'",
			     peek(&c));
		r.keep_state = 1;
	}
	if (c.i < c.n)
		fail("unexpected '%s' (a rule's clauses are, in order: in|out, "
		     "on, proto, all or from/to with port, icmp-type, keep "
		     "state)",
		     peek(&c));

	if (has_ports &&
	    (any_proto || !only(r.protos, FW_PROTO_TCP, FW_PROTO_UDP)))
		fail("'port' needs 'proto tcp', 'proto udp' or 'proto { tcp "
		     "udp }'");
	if (has_types &&
	    (any_proto || !only(r.protos, FW_PROTO_ICMP, FW_PROTO_ICMP)))
		fail("'icmp-type' needs 'proto icmp'");
	if (r.keep_state && r.action != FW_ACTION_PASS)
		fail("'keep state' belongs on a pass rule");
	r.text = strdup(l->text);
	out.rules = xrealloc(out.rules, (out.nrules + 1) * sizeof *out.rules);
	out.rules[out.nrules++] = r;
}
