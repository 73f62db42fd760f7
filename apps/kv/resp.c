/* RESP2 requests and replies: see resp.h.  The error texts are Redis's. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

bool resp_to_ll(const char *s, size_t len, long long *v)
{
	size_t i = 0;
	bool neg = false;
	unsigned long long u = 0;

	if (len == 0 || len > 20)
		return false;
	if (len == 1 && s[0] == '0') {
		*v = 0;
		return true;
	}
	if (s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len || s[i] < '1' || s[i] > '9')
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (u > (ULLONG_MAX - d) / 10)
			return false;
		u = u * 10 + d;
	}
	if (neg ? u > (unsigned long long)LLONG_MAX + 1 : u > LLONG_MAX)
		return false;
	*v = neg ? (long long)(0 - u) : (long long)u;
	return true;
}

/* The line at buf, up to its "\r\n": its length, -2 if there is none
 * within RESP_LINE_MAX, -1 if it may still come. */
static long line(const char *buf, size_t len)
{
	size_t lim = len < RESP_LINE_MAX ? len : RESP_LINE_MAX;
	const char *nl = memchr(buf, '\n', lim);
	if (!nl)
		return len >= RESP_LINE_MAX ? -2 : -1;
	return (long)(nl - buf);
}

static long inline_request(const char *buf, size_t len, struct resp_cmd *c,
			   const char **err)
{
	long n = line(buf, len);
	if (n == -2) {
		*err = "Protocol error: too big inline request";
		return -1;
	}
	if (n < 0)
		return 0;
	size_t end = (size_t)n;
	if (end && buf[end - 1] == '\r')
		end--;
	c->argc = 0;
	for (size_t i = 0; i < end;) {
		while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		if (i == end)
			break;
		if (buf[i] == '"' || buf[i] == '\'') {
			/* Quoted arguments need unescaping in place, which a
			 * parser over const bytes cannot do. */
			*err = "Protocol error: unbalanced quotes in request";
			return -1;
		}
		size_t start = i;
		while (i < end && buf[i] != ' ' && buf[i] != '\t')
			i++;
		if (c->argc == RESP_ARGS_MAX) {
			*err = "Protocol error: invalid multibulk length";
			return -1;
		}
		c->argv[c->argc] = buf + start;
		c->len[c->argc++] = i - start;
	}
	return n + 1;
}

/* "*N\r\n" or "$N\r\n" at buf: the count in *v and the bytes taken, 0
 * if incomplete, -1 if malformed (err set by the caller). */
static long count(const char *buf, size_t len, long long *v, bool *too_big)
{
	long n = line(buf, len);
	*too_big = n == -2;
	if (n == -2)
		return -1;
	if (n < 0)
		return 0;
	if (n < 2 || buf[n - 1] != '\r' ||
	    !resp_to_ll(buf + 1, (size_t)n - 2, v))
		return -1;
	return n + 1;
}

long resp_parse(const char *buf, size_t len, struct resp_cmd *c,
		const char **err)
{
	long long n;
	bool too_big;

	c->argc = 0;
	if (len == 0)
		return 0;
	if (buf[0] != '*')
		return inline_request(buf, len, c, err);
	long at = count(buf, len, &n, &too_big);
	if (at <= 0 || n > RESP_ARGS_MAX) {
		if (at == 0)
			return 0;
		*err = too_big ? "Protocol error: too big mbulk count string"
			       : "Protocol error: invalid multibulk length";
		return -1;
	}
	for (long long i = 0; i < n; i++) {
		size_t pos = (size_t)at;
		if (pos >= len)
			return 0;
		if (buf[pos] != '$') {
			static char msg[64];
			char got = buf[pos];
			snprintf(msg, sizeof msg,
				 "Protocol error: expected '$', got '%c'",
				 got >= 0x20 && got < 0x7f ? got : '?');
			*err = msg;
			return -1;
		}
		long long blen;
		long k = count(buf + pos, len - pos, &blen, &too_big);
		if (k == 0)
			return 0;
		if (k < 0 || blen < 0 || blen > RESP_BULK_MAX) {
			*err = too_big ? "Protocol error: too big bulk count "
					 "string"
				       : "Protocol error: invalid bulk length";
			return -1;
		}
		pos += (size_t)k;
		if (len - pos < (size_t)blen + 2)
			return 0;
		c->argv[c->argc] = buf + pos;
		c->len[c->argc++] = (size_t)blen;
		at = (long)(pos + (size_t)blen + 2);
	}
	return at;
}

char *resp_reserve(struct resp_out *o, size_t n)
{
	if (o->failed)
		return NULL;
	if (o->cap - o->len < n) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap - o->len < n)
			cap *= 2;
		char *b = realloc(o->buf, cap);
		if (!b) {
			o->failed = true;
			return NULL;
		}
		o->buf = b;
		o->cap = cap;
	}
	return o->buf + o->len;
}

void resp_raw(struct resp_out *o, const void *p, size_t n)
{
	char *d = resp_reserve(o, n);
	if (d) {
		memcpy(d, p, n);
		o->len += n;
	}
}

static void line_out(struct resp_out *o, char type, const char *s)
{
	resp_raw(o, &type, 1);
	resp_raw(o, s, strlen(s));
	resp_raw(o, "\r\n", 2);
}

void resp_simple(struct resp_out *o, const char *s)
{
	line_out(o, '+', s);
}

void resp_error(struct resp_out *o, const char *s)
{
	line_out(o, '-', s);
}

static void number(struct resp_out *o, char type, long long v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%c%lld\r\n", type, v);
	resp_raw(o, tmp, (size_t)n);
}

void resp_int(struct resp_out *o, long long v)
{
	number(o, ':', v);
}

void resp_array(struct resp_out *o, long long n)
{
	number(o, '*', n);
}

void resp_bulk(struct resp_out *o, const void *p, size_t n)
{
	number(o, '$', (long long)n);
	resp_raw(o, p, n);
	resp_raw(o, "\r\n", 2);
}

void resp_null(struct resp_out *o)
{
	resp_raw(o, "$-1\r\n", 5);
}
