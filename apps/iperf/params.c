/*
 * The test parameters an iperf3 client sends (a flat JSON object such as
 * {"tcp":true,"time":10,"parallel":4,"reverse":true,"len":131072,...}):
 * the few members this server acts on, found by a scanner that walks the
 * object member by member and skips every value it does not need, nested
 * ones and strings with escapes included.  No JSON library exists for a
 * freestanding guest, and the server needs no more than this.
 */
#include <string.h>

#include "iperf.h"

struct cursor {
	const char *s, *end;
};

static void skip_space(struct cursor *c)
{
	while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' ||
				 *c->s == '\n' || *c->s == '\r'))
		c->s++;
}

/* A string at the cursor, its contents in [*from, *to); false if malformed. */
static bool string(struct cursor *c, const char **from, const char **to)
{
	if (c->s >= c->end || *c->s != '"')
		return false;
	*from = ++c->s;
	while (c->s < c->end && *c->s != '"') {
		if (*c->s == '\\')
			c->s++;
		c->s++;
	}
	if (c->s >= c->end)
		return false;
	*to = c->s++;
	return true;
}

/* Skips one value of any kind; nesting is bounded by its depth counter,
 * not by recursion. */
static bool skip_value(struct cursor *c)
{
	unsigned depth = 0;
	const char *a, *b;
	do {
		skip_space(c);
		if (c->s >= c->end)
			return false;
		char ch = *c->s;
		if (ch == '"') {
			if (!string(c, &a, &b))
				return false;
		} else if (ch == '{' || ch == '[') {
			depth++;
			c->s++;
		} else if (ch == '}' || ch == ']') {
			if (!depth)
				return false;
			depth--;
			c->s++;
		} else if (ch == ',' || ch == ':') {
			if (!depth)
				return false;
			c->s++;
		} else {
			while (c->s < c->end && *c->s != ',' && *c->s != '}' &&
			       *c->s != ']' && *c->s != ' ')
				c->s++;
		}
	} while (depth);
	return true;
}

static bool key_is(const char *a, const char *b, const char *key)
{
	size_t n = strlen(key);
	return (size_t)(b - a) == n && memcmp(a, key, n) == 0;
}

/* A non-negative integer or true/false at the cursor. */
static long scalar(struct cursor *c)
{
	skip_space(c);
	if (c->end - c->s >= 4 && memcmp(c->s, "true", 4) == 0)
		return 1;
	long v = 0;
	for (const char *p = c->s; p < c->end && *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (*p - '0')) > 1000000000L)
			return 1000000000L; /* far beyond any limit here */
	return v;
}

int iperf_parse_params(const char *json, size_t len, struct iperf_params *p)
{
	struct cursor c = {json, json + len};
	const char *a, *b;

	*p = (struct iperf_params){.parallel = 1};
	skip_space(&c);
	if (c.s >= c.end || *c.s++ != '{')
		return -1;
	for (;;) {
		skip_space(&c);
		if (c.s < c.end && *c.s == '}')
			return 0;
		if (!string(&c, &a, &b))
			return -1;
		skip_space(&c);
		if (c.s >= c.end || *c.s++ != ':')
			return -1;
		if (key_is(a, b, "parallel"))
			p->parallel = scalar(&c);
		else if (key_is(a, b, "reverse"))
			p->reverse = scalar(&c);
		else if (key_is(a, b, "bidirectional"))
			p->bidirectional = scalar(&c);
		else if (key_is(a, b, "udp") || key_is(a, b, "sctp"))
			p->not_tcp |= scalar(&c);
		else if (key_is(a, b, "len"))
			p->len = scalar(&c);
		if (!skip_value(&c))
			return -1;
		skip_space(&c);
		if (c.s < c.end && *c.s == ',')
			c.s++;
	}
}
