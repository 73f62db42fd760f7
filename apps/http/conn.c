/*
 * A connection's life: heads read as they arrive (slowloris meets the
 * header deadline), bodies of GET and HEAD read and dropped, answers in
 * order (pipelining is requests already held in the buffer), and a close
 * that drains what the peer still sends, so that a reset does not destroy
 * the last answer before the peer has read it (RFC 9112 9.6).
 *
 * The head is read into the connection's buffer: 1 KiB on the fiber's
 * stack, which holds every ordinary request; a longer head moves to a
 * heap buffer of HTTP_BIG bytes, given back once the held bytes fit the
 * stack again, so an idle connection holds no heap.
 */
#include <errno.h>
#include <ingot/sched.h>
#include <stdlib.h>
#include <string.h>

#include "http_app.h"

static const struct http_limits limits = {
    CONFIG_HTTP_LINE_MAX,
    CONFIG_HTTP_FIELDS_MAX,
    CONFIG_HTTP_FIELDS_COUNT,
};

unsigned http_refusing;

bool http_send(struct http_conn *c, const void *p, size_t n, bool is_static)
{
	const uint8_t *b = p;
	while (n && !c->failed) {
		uint64_t dl = sched_now() + http_cfg.send_ns;
		int k = is_static ? tcp_write_static(c->tc, b, n, dl)
				  : tcp_write(c->tc, b, n, dl);
		if (k <= 0) {
			if (k == -ETIMEDOUT)
				http_count.send_timeouts++;
			c->failed = true;
			break;
		}
		http_count.bytes_out += (uint64_t)k;
		b += k;
		n -= (size_t)k;
	}
	return !c->failed;
}

static bool grow(struct http_conn *c)
{
	if (c->buf != c->small)
		return false;
	uint8_t *big = malloc(HTTP_BIG);
	if (!big)
		return false;
	memcpy(big, c->small, c->len);
	c->buf = big;
	c->cap = HTTP_BIG;
	return true;
}

static void shrink(struct http_conn *c)
{
	if (c->buf != c->small && c->len <= HTTP_SMALL) {
		memcpy(c->small, c->buf, c->len);
		free(c->buf);
		c->buf = c->small;
		c->cap = HTTP_SMALL;
	}
}

/* Drops the first n bytes held (a request answered). */
static void consume(struct http_conn *c, uint32_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	shrink(c);
}

/* Reads until a whole head is held.  Returns its length; 0 when the
 * connection ended or stayed idle too long (closed quietly); or minus the
 * status to answer before closing (408 at the header deadline). */
static int read_head(struct http_conn *c)
{
	struct http_scan s = {0};
	uint64_t deadline =
	    sched_now() + (c->len ? http_cfg.header_ns : http_cfg.idle_ns);
	for (;;) {
		if (c->len) {
			int n = http_head_end(c->buf, c->len, &s, &limits);
			if (n)
				return n;
		}
		if (c->len == c->cap && !grow(c))
			return -431;
		int n =
		    tcp_read(c->tc, c->buf + c->len, c->cap - c->len, deadline);
		if (n == -ETIMEDOUT) {
			if (!c->len) {
				http_count.idle_timeouts++;
				return 0;
			}
			http_count.header_timeouts++;
			return -408;
		}
		if (n <= 0)
			return 0;
		if (!c->len)
			deadline = sched_now() + http_cfg.header_ns;
		c->len += (uint32_t)n;
		http_count.bytes_in += (uint64_t)n;
	}
}

/* Reads and drops the body of the request whose head is hl bytes: 0, a
 * status to answer (400, 408, 413), or -1 if the connection ended.  The
 * bytes after the body (the next request) stay held after the head. */
static int discard_body(struct http_conn *c, uint32_t hl,
			const struct http_request *r)
{
	struct http_chunked ch = {0};
	uint64_t left = r->content_length;
	uint64_t deadline = sched_now() + http_cfg.header_ns;
	for (;;) {
		uint32_t avail = c->len - hl;
		size_t used;
		bool done;
		if (r->body == HTTP_BODY_LENGTH) {
			used = avail < left ? avail : (size_t)left;
			left -= used;
			done = !left;
		} else {
			int rc = http_chunked_feed(&ch, c->buf + hl, avail,
						   &used, CONFIG_HTTP_BODY_MAX);
			if (rc < 0)
				return -rc;
			done = rc == 1;
		}
		memmove(c->buf + hl, c->buf + hl + used, avail - used);
		c->len -= (uint32_t)used;
		if (done)
			return 0;
		if (c->cap - c->len < 256 && !grow(c))
			return 431;
		size_t want = c->cap - c->len;
		if (r->body == HTTP_BODY_LENGTH && want > left)
			want = (size_t)left;
		int n = tcp_read(c->tc, c->buf + c->len, want, deadline);
		if (n == -ETIMEDOUT) {
			http_count.header_timeouts++;
			return 408;
		}
		if (n <= 0)
			return -1;
		c->len += (uint32_t)n;
		http_count.bytes_in += (uint64_t)n;
	}
}

/* Closes after an answer that said Connection: close: our FIN, then
 * whatever the peer still sends is read and dropped until its FIN or
 * the linger time. */
static void linger_close(struct http_conn *c)
{
	if (!c->failed && http_cfg.linger_ns && tcp_shutdown(c->tc) == 0) {
		uint64_t dl = sched_now() + http_cfg.linger_ns;
		while (tcp_read(c->tc, c->buf, c->cap, dl) > 0)
			;
	}
	tcp_close(c->tc);
}

/* One request: false once the connection is to close. */
static bool serve_one(struct http_conn *c)
{
	int hl = read_head(c);
	if (hl == 0)
		return false;
	if (hl < 0) {
		http_count.requests[HTTP_METHOD_COUNT]++;
		http_respond_error(c, NULL, -hl);
		return false;
	}
	struct http_request r;
	int st = http_parse_head(c->buf, (size_t)hl, CONFIG_HTTP_BODY_MAX, &r);
	if (st == 400 || st == 505) {
		http_count.requests[HTTP_METHOD_COUNT]++;
		http_respond_error(c, NULL, st);
		return false;
	}
	http_count.requests[r.method]++;
	if (st) {
		http_respond_error(c, &r, st);
		return false;
	}
	if (r.body != HTTP_BODY_NONE) {
		if (r.method != HTTP_GET && r.method != HTTP_HEAD) {
			/* Refused unread: the answer closes the connection. */
			c->closing = true;
		} else {
			if (r.expect_continue) {
				static const char cont[] =
				    "HTTP/1.1 100 Continue\r\n\r\n";
				http_send(c, cont, sizeof cont - 1, true);
			}
			st = discard_body(c, (uint32_t)hl, &r);
			if (st < 0)
				return false;
			if (st) {
				http_respond_error(c, &r, st);
				return false;
			}
		}
	}
	if (!r.keep_alive)
		c->closing = true;
	http_respond(c, c->buf, (uint32_t)hl, &r);
	if (c->closing || c->failed)
		return false;
	consume(c, (uint32_t)hl);
	return true;
}

void http_serve(void *arg)
{
	struct http_conn c = {.tc = arg, .cap = HTTP_SMALL};
	c.buf = c.small;
	tcp_set_nodelay(c.tc, true);
	while (serve_one(&c))
		;
	if (c.closing)
		linger_close(&c);
	else
		tcp_close(c.tc);
	if (c.buf != c.small)
		free(c.buf);
	http_count.conns_open--;
}

void http_refuse(void *arg)
{
	struct http_conn c = {.tc = arg, .cap = HTTP_SMALL};
	c.buf = c.small;
	http_respond_error(&c, NULL, 503);
	linger_close(&c);
	http_refusing--;
}
