/*
 * Answers (RFC 9110): the file a path names, in the coding the client
 * prefers, whole or one range, or 304/412 by its validators; redirects to
 * a directory's slash; error pages.  A head and the start of the body
 * leave in one write of up to HTTP_OUT bytes (a segment's worth), the
 * rest of the body straight from the image with tcp_write_static.
 */
#include <ingot/abi.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_app.h"

/* A full-sized segment with TCP timestamps on a 1500-byte MTU. */
#define HTTP_OUT 1448

struct out {
	struct http_conn *c;
	uint32_t n;
	uint64_t bytes; /* the body's, for the access log */
	bool ka10;      /* an HTTP/1.0 request kept alive */
	uint8_t buf[HTTP_OUT];
};

static void flush(struct out *o)
{
	if (o->n)
		http_send(o->c, o->buf, o->n, false);
	o->n = 0;
}

static void put(struct out *o, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		size_t k = HTTP_OUT - o->n < n ? HTTP_OUT - o->n : n;
		memcpy(o->buf + o->n, b, k);
		o->n += (uint32_t)k;
		b += k;
		n -= k;
		if (o->n == HTTP_OUT)
			flush(o);
	}
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v)
{
	char t[20];
	int i = 20;
	do
		t[--i] = (char)('0' + v % 10);
	while (v /= 10);
	put(o, t + i, (size_t)(20 - i));
}

static int64_t wall_offset;
static bool wall_known;

const char *http_date_now(void)
{
	static char date[HTTP_DATE_LEN + 1];
	static int64_t shown = -1;
	if (!wall_known) {
		wall_offset =
		    (int64_t)ingot_clock_wall() - (int64_t)sched_now();
		wall_known = true;
	}
	int64_t s = (wall_offset + (int64_t)sched_now()) / 1000000000;
	if (s != shown) {
		http_format_date(s, date);
		shown = s;
	}
	return date;
}

static void status_line(struct out *o, int status)
{
	http_count_status(status);
	puts_(o, "HTTP/1.1 ");
	put_u64(o, (uint64_t)status);
	put(o, " ", 1);
	puts_(o, http_reason(status));
	puts_(o, "\r\nServer: ingot\r\nDate: ");
	put(o, http_date_now(), HTTP_DATE_LEN);
	puts_(o, "\r\n");
}

static void end_head(struct out *o)
{
	if (o->c->closing)
		puts_(o, "Connection: close\r\n\r\n");
	else if (o->ka10)
		puts_(o, "Connection: keep-alive\r\n\r\n");
	else
		puts_(o, "\r\n");
}

/* A small HTML page saying the status, and the end of the answer. */
static void page(struct out *o, int status, bool head_only)
{
	char body[160];
	int n =
	    snprintf(body, sizeof body,
		     "<html><head><title>%d %s</title></head><body>"
		     "<h1>%d %s</h1></body></html>\n",
		     status, http_reason(status), status, http_reason(status));
	puts_(o, "Content-Type: text/html; charset=utf-8\r\nContent-Length: ");
	put_u64(o, (uint64_t)n);
	puts_(o, "\r\n");
	end_head(o);
	if (!head_only) {
		put(o, body, (size_t)n);
		o->bytes = (uint64_t)n;
	}
	flush(o);
}

static void access_log(const struct out *o, const char *method,
		       const uint8_t *path, size_t len, int minor, int status)
{
	if (!CONFIG_HTTP_ACCESS_LOG)
		return;
	char ip[16];
	net_format_ipv4(tcp_peer(o->c->tc).ip, ip);
	printf("http: %s \"%s %.*s HTTP/1.%d\" %d %llu\n", ip, method, (int)len,
	       (const char *)path, minor, status, (unsigned long long)o->bytes);
}

/* Every error answer closes the connection: after most the request's
 * framing or its end is unknown (RFC 9112 9.6). */
void http_respond_error(struct http_conn *c, const struct http_request *r,
			int status)
{
	struct out o = {.c = c};
	c->closing = true;
	status_line(&o, status);
	if (status == 503)
		puts_(&o, "Retry-After: 1\r\n");
	page(&o, status, r && r->method == HTTP_HEAD);
	access_log(&o, r ? http_method_name(r->method) : "-",
		   (const uint8_t *)"-", 1, r ? r->minor : 1, status);
}

static unsigned codings(const struct http_file *f)
{
	unsigned m = 1u << HTTP_ENC_IDENTITY; /* a disk file's has no data */
	for (int e = HTTP_ENC_IDENTITY + 1; e < HTTP_ENC_COUNT; e++)
		if (f->body[e].data)
			m |= 1u << e;
	return m;
}

/* 412, 304 or 0 (go on): RFC 9110 13.2.2's order. */
static int conditional(const uint8_t *h, uint32_t hl,
		       const struct http_request *r, const struct http_file *f,
		       const struct http_body *b)
{
	int64_t t;
	const struct http_field_ref *fr = r->f;
	if (fr[HTTP_F_IF_MATCH].count) {
		if (!http_etag_match(h, hl, r, HTTP_F_IF_MATCH, b->etag,
				     b->etag_len, false))
			return 412;
	} else if (fr[HTTP_F_IF_UNMODIFIED_SINCE].count == 1 &&
		   http_parse_date(h + fr[HTTP_F_IF_UNMODIFIED_SINCE].first.off,
				   fr[HTTP_F_IF_UNMODIFIED_SINCE].first.len,
				   &t) &&
		   f->mtime > t) {
		return 412;
	}
	if (fr[HTTP_F_IF_NONE_MATCH].count) {
		if (http_etag_match(h, hl, r, HTTP_F_IF_NONE_MATCH, b->etag,
				    b->etag_len, true))
			return 304;
	} else if (fr[HTTP_F_IF_MODIFIED_SINCE].count == 1 &&
		   http_parse_date(h + fr[HTTP_F_IF_MODIFIED_SINCE].first.off,
				   fr[HTTP_F_IF_MODIFIED_SINCE].first.len,
				   &t) &&
		   f->mtime <= t) {
		return 304;
	}
	return 0;
}

/* If-Range (RFC 9110 13.1.5): whether a Range is to be honoured. */
static bool if_range(const uint8_t *h, const struct http_request *r,
		     const struct http_file *f, const struct http_body *b)
{
	const struct http_field_ref *ir = &r->f[HTTP_F_IF_RANGE];
	if (!ir->count)
		return true;
	if (ir->count > 1)
		return false;
	const uint8_t *v = h + ir->first.off;
	int64_t t;
	if (ir->first.len && v[0] == '"')
		return ir->first.len == b->etag_len &&
		       memcmp(v, b->etag, b->etag_len) == 0;
	return http_parse_date(v, ir->first.len, &t) && t == f->mtime;
}

static void validators(struct out *o, const struct http_file *f,
		       const struct http_body *b, bool vary)
{
	puts_(o, "ETag: ");
	put(o, b->etag, b->etag_len);
	puts_(o, "\r\nLast-Modified: ");
	put(o, f->last_modified, HTTP_DATE_LEN);
	puts_(o, "\r\n");
	if (vary)
		puts_(o, "Vary: Accept-Encoding\r\n");
}

/* Location for a directory's slash: the path percent-encoded where a URI
 * needs it, then "/" and the query as sent. */
static void redirect(struct out *o, const uint8_t *h,
		     const struct http_request *r, const uint8_t *path,
		     size_t n)
{
	static const char hexd[] = "0123456789ABCDEF";
	status_line(o, 301);
	puts_(o, "Location: ");
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = path[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') ||
		    strchr("-._~!$&'()*+,;=:@/", ch)) {
			put(o, &ch, 1);
		} else {
			char e[3] = {'%', hexd[ch >> 4], hexd[ch & 15]};
			put(o, e, 3);
		}
	}
	put(o, "/", 1);
	if (r->has_query) {
		put(o, "?", 1);
		put(o, h + r->query.off, r->query.len);
	}
	puts_(o, "\r\n");
	page(o, 301, r->method == HTTP_HEAD);
}

static void metrics(struct out *o, const struct http_request *r)
{
	enum { CAP = 8192 };
	char *text = malloc(CAP);
	if (!text) {
		status_line(o, 503);
		page(o, 503, r->method == HTTP_HEAD);
		return;
	}
	status_line(o, 200);
	size_t n = http_metrics_text(text, CAP);
	puts_(o, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		 "Cache-Control: no-store\r\nContent-Length: ");
	put_u64(o, n);
	puts_(o, "\r\n");
	end_head(o);
	if (r->method != HTTP_HEAD) {
		put(o, text, n);
		o->bytes = n;
	}
	flush(o);
	free(text);
}

/* The body's bytes from off: the first into the head's write, the rest
 * from the image, or from the disk in chunks.  A disk that fails midway
 * leaves the answer short, so the connection closes. */
static void body(struct out *o, const struct http_file *f,
		 const struct http_body *b, uint64_t off, uint64_t n)
{
	const struct kv_tar_file *t = http_disk_file(f);
	size_t k = HTTP_OUT - o->n < n ? HTTP_OUT - o->n : (size_t)n;
	bool ok = true;
	if (t) {
		ok = http_disk_read(t, off, o->buf + o->n, k);
		o->n += ok ? (uint32_t)k : 0;
	} else {
		put(o, b->data + off, k);
	}
	flush(o);
	if (ok && n > k)
		ok = t ? http_disk_send(o->c, t, off + k, n - k)
		       : http_send(o->c, b->data + off + k, (size_t)(n - k),
				   true);
	if (!ok && !o->c->failed) {
		fprintf(stderr, "http: %s: reading the disk failed\n", f->path);
		o->c->failed = true;
	}
	o->bytes = n;
}

void http_respond(struct http_conn *c, uint8_t *h, uint32_t hl,
		  struct http_request *r)
{
	struct out o = {.c = c, .ka10 = r->minor == 0 && r->keep_alive};
	bool head_only = r->method == HTTP_HEAD;
	const char *mname = http_method_name(r->method);
	const uint8_t *path = (const uint8_t *)"/";
	int n = 1, status;

	if (r->method != HTTP_GET && !head_only) {
		status = r->method == HTTP_OTHER ? 501 : 405;
		status_line(&o, status);
		if (status == 405)
			puts_(&o, "Allow: GET, HEAD\r\n");
		page(&o, status, false);
		access_log(&o, r->method == HTTP_OTHER ? "-" : mname,
			   h + r->target.off, r->target.len, r->minor, status);
		return;
	}
	if (r->path.len) {
		n = http_normalize_path(h, r->path);
		if (n < 0) {
			http_respond_error(c, r, 400);
			return;
		}
		path = h + r->path.off;
	}
	if (CONFIG_HTTP_METRICS && n == 26 &&
	    memcmp(path, "/.well-known/ingot/metrics", 26) == 0) {
		metrics(&o, r);
		access_log(&o, mname, path, (size_t)n, r->minor, 200);
		return;
	}
	const struct http_file *f = http_find((const char *)path, (uint32_t)n);
	if (!f) {
		/* A directory without its slash: the byte after the path
		 * (the '?' or ' ' that ended it, or a decoded escape's)
		 * is ours to write. */
		status = 404;
		if (path[n - 1] != '/' && r->path.len) {
			h[r->path.off + n] = '/';
			if (http_find((const char *)path, (uint32_t)n + 1))
				status = 301;
		}
		if (status == 301) {
			redirect(&o, h, r, path, (size_t)n);
		} else {
			status_line(&o, 404);
			page(&o, 404, head_only);
		}
		access_log(&o, mname, path, (size_t)n, r->minor, status);
		return;
	}

	unsigned avail = codings(f);
	const struct http_body *b =
	    &f->body[http_pick_encoding(h, hl, r, avail)];
	bool vary = avail != 1;
	status = conditional(h, hl, r, f, b);
	if (status == 412) {
		status_line(&o, 412);
		page(&o, 412, head_only);
	} else if (status == 304) {
		status_line(&o, 304);
		validators(&o, f, b, vary);
		end_head(&o);
		flush(&o);
	}
	if (status) {
		access_log(&o, mname, path, (size_t)n, r->minor, status);
		return;
	}

	uint64_t first = 0, last = 0, len = b->len;
	status = 200;
	if (r->f[HTTP_F_RANGE].count && if_range(h, r, f, b)) {
		switch (http_parse_range(h, hl, r, b->len, &first, &last)) {
		case HTTP_RANGE_UNSATISFIABLE:
			status_line(&o, 416);
			puts_(&o, "Content-Range: bytes */");
			put_u64(&o, b->len);
			puts_(&o, "\r\n");
			page(&o, 416, head_only);
			access_log(&o, mname, path, (size_t)n, r->minor, 416);
			return;
		case HTTP_RANGE_OK:
			status = 206;
			len = last - first + 1;
			break;
		case HTTP_RANGE_NONE:
			break;
		}
	}
	status_line(&o, status);
	puts_(&o, "Content-Type: ");
	put(&o, f->type, f->type_len);
	puts_(&o, "\r\nContent-Length: ");
	put_u64(&o, len);
	if (status == 206) {
		puts_(&o, "\r\nContent-Range: bytes ");
		put_u64(&o, first);
		put(&o, "-", 1);
		put_u64(&o, last);
		put(&o, "/", 1);
		put_u64(&o, b->len);
	}
	if (b != &f->body[HTTP_ENC_IDENTITY])
		puts_(&o, b == &f->body[HTTP_ENC_GZIP]
			      ? "\r\nContent-Encoding: gzip"
			      : "\r\nContent-Encoding: br");
	puts_(&o, "\r\nAccept-Ranges: bytes\r\n");
	validators(&o, f, b, vary);
	end_head(&o);
	if (!head_only && len)
		body(&o, f, b, first, len);
	else
		flush(&o);
	access_log(&o, mname, path, (size_t)n, r->minor, status);
}
