/* HTTP/1.1 request heads (RFC 9112 2-3, 5-6): finding, parsing, paths. */
#include "request.h"

#include <string.h>

/* tchar (RFC 9110 5.6.2). */
static bool is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

/* A byte of a field value: HTAB, SP, VCHAR, obs-text. */
static bool is_field_byte(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

static bool span_ieq(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);
	if (n != k)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != (uint8_t)s[i])
			return false;
	return true;
}

int http_head_end(const uint8_t *buf, size_t len, struct http_scan *s,
		  const struct http_limits *lim)
{
	size_t i = s->pos;

	/* The request line, after any empty lines (RFC 9112 2.2). */
	while (!s->line_end) {
		if (i >= len) {
			s->pos = (uint32_t)i;
			return 0;
		}
		uint8_t c = buf[i];
		if (i == s->skip) {
			if (c == '\r') {
				if (i + 1 >= len) {
					s->pos = (uint32_t)i;
					return 0;
				}
				if (buf[i + 1] != '\n' || s->skip >= 64)
					return -400;
				s->skip += 2;
				i += 2;
				continue;
			}
			if (!is_tchar(c))
				return -400;
		}
		if (c == '\n') {
			if (buf[i - 1] != '\r')
				return -400;
			s->line_end = s->line_start = (uint32_t)(i + 1);
		} else if (c == 0) {
			return -400;
		}
		i++;
		if (i - s->skip > lim->line_max)
			return -414;
	}

	/* Field lines until an empty one. */
	for (; i < len; i++) {
		uint8_t c = buf[i];
		if (c == '\n') {
			if (buf[i - 1] != '\r')
				return -400;
			if (i - 1 == s->line_start)
				return (int)(i + 1);
			if (++s->lines > lim->fields_count)
				return -431;
			s->line_start = (uint32_t)(i + 1);
		} else if (c == 0) {
			return -400;
		}
		if (i + 1 - s->line_end > lim->fields_max)
			return -431;
	}
	s->pos = (uint32_t)i;
	return 0;
}

static const char *const method_names[HTTP_METHOD_COUNT] = {
    "GET",     "HEAD",    "POST",  "PUT",   "DELETE",
    "CONNECT", "OPTIONS", "TRACE", "PATCH", "OTHER",
};

const char *http_method_name(enum http_method m)
{
	return m < HTTP_METHOD_COUNT ? method_names[m] : "OTHER";
}

static const char *const field_names[HTTP_F_COUNT] = {
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "expect",
    "accept-encoding",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "range",
    "if-range",
};

static int field_id(const uint8_t *p, size_t n)
{
	for (int i = 0; i < HTTP_F_COUNT; i++)
		if (span_ieq(p, n, field_names[i]))
			return i;
	return -1;
}

/* The value of the field line at p (its name known to be n bytes):
 * trimmed of OWS; *next gets the start of the next line. */
static struct http_span line_value(const uint8_t *head, size_t at, size_t n,
				   size_t *next)
{
	size_t i = at + n + 1, end;
	while (head[i] == ' ' || head[i] == '\t')
		i++;
	end = i;
	while (head[end] != '\r')
		end++;
	*next = end + 2;
	while (end > i && (head[end - 1] == ' ' || head[end - 1] == '\t'))
		end--;
	return (struct http_span){(uint32_t)i, (uint32_t)(end - i)};
}

/* The request line: method SP request-target SP HTTP-version CRLF. */
static int parse_request_line(const uint8_t *h, size_t len, size_t *at,
			      struct http_request *r)
{
	size_t i = *at, start = i;
	while (i < len && is_tchar(h[i]))
		i++;
	if (i == start || i >= len || h[i] != ' ')
		return 400;
	r->method_name =
	    (struct http_span){(uint32_t)start, (uint32_t)(i - start)};
	r->method = HTTP_OTHER;
	for (int m = 0; m < HTTP_OTHER; m++)
		if (i - start == strlen(method_names[m]) &&
		    memcmp(h + start, method_names[m], i - start) == 0)
			r->method = (enum http_method)m;

	start = ++i;
	while (i < len && h[i] > 0x20 && h[i] < 0x7f)
		i++;
	if (i == start || i >= len || h[i] != ' ')
		return 400;
	r->target = (struct http_span){(uint32_t)start, (uint32_t)(i - start)};
	i++;

	if (len - i < 10 || memcmp(h + i, "HTTP/", 5) != 0 || h[i + 5] < '0' ||
	    h[i + 5] > '9' || h[i + 6] != '.' || h[i + 7] < '0' ||
	    h[i + 7] > '9' || h[i + 8] != '\r' || h[i + 9] != '\n')
		return 400;
	if (h[i + 5] != '1')
		return 505;
	r->minor = h[i + 7] == '0' ? 0 : 1;
	*at = i + 10;
	return 0;
}

/* Splits the request-target into path and query (RFC 9112 3.2). */
static int parse_target(const uint8_t *h, struct http_request *r)
{
	const uint8_t *t = h + r->target.off;
	uint32_t n = r->target.len, p = 0;
	if (memchr(t, '#', n))
		return 400;
	if (t[0] == '*' && n == 1) { /* asterisk-form: OPTIONS only */
		r->path = (struct http_span){r->target.off, 0};
		return r->method == HTTP_OPTIONS ? 0 : 400;
	}
	if (t[0] != '/') { /* absolute-form: http(s)://authority[path] */
		uint32_t s = 0;
		if (n > 7 && span_ieq(t, 7, "http://"))
			s = 7;
		else if (n > 8 && span_ieq(t, 8, "https://"))
			s = 8;
		else
			return 400;
		for (p = s; p < n && t[p] != '/' && t[p] != '?'; p++)
			if (t[p] == '@')
				return 400; /* userinfo is not sent (RFC
					       9110 4.2.4) */
		if (p == s)
			return 400;
	}
	uint32_t q = p;
	while (q < n && t[q] != '?')
		q++;
	r->path = (struct http_span){r->target.off + p, q - p};
	r->has_query = q < n;
	if (q < n)
		r->query = (struct http_span){r->target.off + q + 1, n - q - 1};
	return 0;
}

/* Host: uri-host [":" port]; empty is allowed (RFC 9112 3.2). */
static bool valid_host(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		      (lower(p[i]) >= 'a' && lower(p[i]) <= 'z') ||
		      strchr("-._~!$&'()*+,;=%:[]", p[i])))
			return false;
	return true;
}

/* Framing: Content-Length and Transfer-Encoding (RFC 9112 6). */
static int parse_framing(const uint8_t *h, size_t len, uint64_t body_max,
			 struct http_request *r)
{
	const struct http_field_ref *cl = &r->f[HTTP_F_CONTENT_LENGTH];
	const struct http_field_ref *te = &r->f[HTTP_F_TRANSFER_ENCODING];
	if (te->count) {
		if (cl->count || r->minor == 0)
			return 400;
		struct http_list_iter it = {0};
		struct http_span m;
		unsigned n = 0, chunked = 0;
		bool last_chunked = false;
		while (http_list_next(h, len, r, HTTP_F_TRANSFER_ENCODING, &it,
				      &m)) {
			n++;
			last_chunked = span_ieq(h + m.off, m.len, "chunked");
			chunked += last_chunked;
		}
		if (!n || !last_chunked || chunked > 1)
			return 400;
		if (n > 1)
			return 501;
		r->body = HTTP_BODY_CHUNKED;
		return 0;
	}
	if (!cl->count)
		return 0;
	if (cl->count > 1 || !cl->first.len)
		return 400;
	uint64_t v = 0;
	bool big = false;
	for (uint32_t i = 0; i < cl->first.len; i++) {
		uint8_t c = h[cl->first.off + i];
		if (c < '0' || c > '9')
			return 400;
		if (v > (UINT64_MAX - 9) / 10)
			big = true;
		else
			v = v * 10 + (uint64_t)(c - '0');
	}
	if (big || v > body_max)
		return 413;
	r->content_length = v;
	r->body = v ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	return 0;
}

/* Connection, Expect and Host, once the fields are indexed. */
static int parse_semantics(const uint8_t *h, size_t len, struct http_request *r)
{
	struct http_list_iter it = {0};
	struct http_span m;
	bool close = false, keep = false;
	while (http_list_next(h, len, r, HTTP_F_CONNECTION, &it, &m)) {
		close |= span_ieq(h + m.off, m.len, "close");
		keep |= span_ieq(h + m.off, m.len, "keep-alive");
	}
	r->keep_alive = !close && (r->minor >= 1 || keep);

	const struct http_field_ref *host = &r->f[HTTP_F_HOST];
	if ((r->minor >= 1 && !host->count) || host->count > 1 ||
	    (host->count && !valid_host(h + host->first.off, host->first.len)))
		return 400;

	/* Expect is HTTP/1.1's alone (RFC 9110 10.1.1). */
	if (r->minor >= 1 && r->f[HTTP_F_EXPECT].count) {
		it = (struct http_list_iter){0};
		while (http_list_next(h, len, r, HTTP_F_EXPECT, &it, &m)) {
			if (!span_ieq(h + m.off, m.len, "100-continue"))
				return 417;
			r->expect_continue = true;
		}
	}
	return 0;
}

int http_parse_head(const uint8_t *h, size_t len, uint64_t body_max,
		    struct http_request *r)
{
	memset(r, 0, sizeof *r);
	size_t i = 0;
	while (i + 1 < len && h[i] == '\r' && h[i + 1] == '\n')
		i += 2;
	int st = parse_request_line(h, len, &i, r);
	if (st)
		return st;

	/* Field lines: name ":" OWS value OWS CRLF, until an empty line. */
	for (;;) {
		if (i + 1 >= len)
			return 400;
		if (h[i] == '\r')
			break;
		size_t start = i;
		while (i < len && is_tchar(h[i]))
			i++;
		if (i == start || i >= len || h[i] != ':')
			return 400; /* obs-fold, whitespace before ':' too */
		size_t name_len = i - start;
		for (i++; i < len && h[i] != '\r'; i++)
			if (!is_field_byte(h[i]))
				return 400;
		if (i + 1 >= len || h[i + 1] != '\n')
			return 400;
		i += 2;
		int id = field_id(h + start, name_len);
		if (id >= 0) {
			size_t next;
			struct http_field_ref *f = &r->f[id];
			if (!f->count++)
				f->first =
				    line_value(h, start, name_len, &next);
		}
	}
	if (i + 2 != len || h[i + 1] != '\n')
		return 400;
	if ((st = parse_target(h, r)) || (st = parse_semantics(h, len, r)))
		return st;
	return parse_framing(h, len, body_max, r);
}

bool http_list_next(const uint8_t *h, size_t len, const struct http_request *r,
		    enum http_field_id id, struct http_list_iter *it,
		    struct http_span *member)
{
	const struct http_field_ref *f = &r->f[id];
	for (;;) {
		/* Next member of the current line. */
		while (it->pos < it->end &&
		       (h[it->pos] == ',' || h[it->pos] == ' ' ||
			h[it->pos] == '\t'))
			it->pos++;
		if (it->pos < it->end) {
			uint32_t s = it->pos, e = s;
			bool quoted = false;
			for (; e < it->end && (quoted || h[e] != ','); e++) {
				if (h[e] == '"')
					quoted = !quoted;
				else if (h[e] == '\\' && quoted &&
					 e + 1 < it->end)
					e++;
			}
			it->pos = e;
			while (e > s && (h[e - 1] == ' ' || h[e - 1] == '\t'))
				e--;
			*member = (struct http_span){s, e - s};
			return true;
		}
		/* Next line of the field. */
		if (it->lines >= f->count)
			return false;
		if (!it->lines++) {
			it->pos = f->first.off;
			it->end = f->first.off + f->first.len;
			it->next_line = it->end;
			continue;
		}
		const char *name = field_names[id];
		size_t nl = strlen(name), i = it->next_line;
		for (;;) {
			const uint8_t *eol = memchr(h + i, '\n', len - i);
			if (!eol)
				return false;
			i = (size_t)(eol - h) + 1;
			if (i + nl < len && h[i + nl] == ':' &&
			    span_ieq(h + i, nl, name))
				break;
		}
		size_t next;
		struct http_span v = line_value(h, i, nl, &next);
		it->pos = v.off;
		it->end = v.off + v.len;
		it->next_line = (uint32_t)(next - 2);
	}
}

static int hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int http_normalize_path(uint8_t *buf, struct http_span path)
{
	uint8_t *d = buf + path.off;
	uint32_t n = path.len, m = 0;
	if (!n || d[0] != '/')
		return -400;
	/* Percent-decoding, in place (never longer). */
	for (uint32_t r = 0; r < n; r++) {
		uint8_t c = d[r];
		if (c == '%') {
			int hi = r + 2 < n ? hex(d[r + 1]) : -1;
			int lo = r + 2 < n ? hex(d[r + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -400;
			c = (uint8_t)(hi << 4 | lo);
			r += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return -400;
		d[m++] = c;
	}
	/* Dot-segments and empty segments; the output (w) never passes the
	 * input (r), so both walk the same bytes. */
	uint32_t r = 0, w = 0;
	bool slash = false;
	while (r < m) {
		uint32_t s = r + 1, e = s;
		while (e < m && d[e] != '/')
			e++;
		uint32_t k = e - s;
		slash = e == m; /* set if this, the last segment, is dropped */
		if (k == 0 || (k == 1 && d[s] == '.')) {
			/* nothing */
		} else if (k == 2 && d[s] == '.' && d[s + 1] == '.') {
			if (!w)
				return -400;
			while (d[--w] != '/')
				;
		} else {
			d[w++] = '/';
			memmove(d + w, d + s, k);
			w += k;
			slash = false;
		}
		r = e;
	}
	if (slash || !w)
		d[w++] = '/';
	return (int)w;
}
