/*
 * HTTP/1.1 requests (RFC 9112) and the fields a static server acts on
 * (RFC 9110): pure functions over (buf, len) that never read past len,
 * never allocate and never recurse, so that apps/http and the fuzzer
 * (tests/fuzz/http_fuzz.c) run the same code.
 *
 * A request's head is found with http_head_end() as its bytes arrive and
 * parsed whole with http_parse_head(); the fields the server needs are
 * then read from the head by the helpers below, which iterate over every
 * line of a field, so a field sent on several lines means what its
 * combined list would (RFC 9110 5.3).
 *
 * Strictness, where RFC 9112 lets a recipient choose: a line must end in
 * CRLF (a bare LF or CR is a 400, as is obs-fold and whitespace before a
 * field's colon), the request line must have single spaces, empty lines
 * before the request line are skipped, Content-Length is digits only and
 * appears once, and a request with both Content-Length and
 * Transfer-Encoding is refused (400): no two readings of one message's
 * framing can exist, so it cannot be smuggled past a proxy.
 */
#ifndef LIB_HTTP_REQUEST_H
#define LIB_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits a server sets; the head is refused past them. */
struct http_limits {
	uint32_t line_max;     /* request line, CRLF included: 414 past it */
	uint32_t fields_max;   /* header section's bytes: 431 past it */
	uint32_t fields_count; /* header lines: 431 past it */
};

/* Where http_head_end() left off; zero it for each new head. */
struct http_scan {
	uint32_t pos;        /* bytes looked at */
	uint32_t skip;       /* bytes of empty lines before the request line */
	uint32_t line_end;   /* end of the request line (after its LF), or 0 */
	uint32_t line_start; /* start of the field line being scanned */
	uint32_t lines;      /* field lines so far */
};

/*
 * Looks for the end of a head in buf[0..len) (the same bytes and more on
 * each call, s carried between calls).  Returns the head's length (its
 * final CRLF CRLF included) when it is whole, 0 when more bytes are
 * needed, or a negative status: -400 (bytes no request begins with, a
 * NUL, a bare LF), -414 (request line too long), -431 (header section
 * too long).  Empty lines before the request line count in the length.
 */
int http_head_end(const uint8_t *buf, size_t len, struct http_scan *s,
		  const struct http_limits *lim);

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_CONNECT,
	HTTP_OPTIONS,
	HTTP_TRACE,
	HTTP_PATCH,
	HTTP_OTHER, /* a valid token this server does not know: 501 */
	HTTP_METHOD_COUNT,
};

/* The name of a method ("OTHER" for HTTP_OTHER). */
const char *http_method_name(enum http_method m);

enum http_body_kind {
	HTTP_BODY_NONE,
	HTTP_BODY_LENGTH,  /* content_length bytes */
	HTTP_BODY_CHUNKED, /* chunked transfer coding (http_chunked_feed) */
};

/* A span of the head: offset and length. */
struct http_span {
	uint32_t off, len;
};

/* A field the parser indexes: its first line's value and how many lines. */
struct http_field_ref {
	struct http_span first;
	uint16_t count;
};

enum http_field_id {
	HTTP_F_HOST,
	HTTP_F_CONNECTION,
	HTTP_F_CONTENT_LENGTH,
	HTTP_F_TRANSFER_ENCODING,
	HTTP_F_EXPECT,
	HTTP_F_ACCEPT_ENCODING,
	HTTP_F_IF_MATCH,
	HTTP_F_IF_NONE_MATCH,
	HTTP_F_IF_MODIFIED_SINCE,
	HTTP_F_IF_UNMODIFIED_SINCE,
	HTTP_F_RANGE,
	HTTP_F_IF_RANGE,
	HTTP_F_COUNT,
};

struct http_request {
	enum http_method method;
	struct http_span method_name; /* as sent */
	struct http_span target;      /* the request-target as sent */
	struct http_span path;        /* its path, still encoded */
	struct http_span query;       /* after '?', without it */
	bool has_query;               /* a '?' was there */
	uint8_t minor;                /* HTTP/1.minor: 0 or 1 (1.2+ is 1) */
	bool keep_alive;              /* by version and Connection */
	bool expect_continue;         /* Expect: 100-continue (HTTP/1.1) */
	enum http_body_kind body;
	uint64_t content_length;
	struct http_field_ref f[HTTP_F_COUNT];
};

/*
 * Parses a whole head (what http_head_end() measured).  Returns 0, or the
 * status to answer with (the connection then closes): 400 malformed,
 * 413 Content-Length above body_max, 417 an Expect other than
 * 100-continue, 501 a transfer coding other than chunked, 505 an HTTP
 * major version other than 1.  A method other than GET and HEAD is not an
 * error here (the server answers 405 or 501).
 */
int http_parse_head(const uint8_t *head, size_t len, uint64_t body_max,
		    struct http_request *r);

/*
 * Iterates over the members of a list field, every line of it in order
 * (RFC 9110 5.6.1): zero *it, then each call gives the next member,
 * trimmed of whitespace (parameters included, never empty), until it
 * returns false.  Commas inside quoted strings do not split members.
 */
struct http_list_iter {
	uint32_t pos, end;  /* the rest of the current line's value */
	uint32_t next_line; /* where to look for the field's next line */
	uint16_t lines;     /* lines of the field begun so far */
};
bool http_list_next(const uint8_t *head, size_t len,
		    const struct http_request *r, enum http_field_id id,
		    struct http_list_iter *it, struct http_span *member);

/*
 * Decodes the path (percent-escapes) and removes dot-segments and empty
 * segments (RFC 3986 5.2.4) in place, over the path's own bytes: buf is
 * the head, writable.  The result starts with "/" and keeps a trailing
 * "/" (a last "." or ".." segment leaves one too).  Returns its length,
 * or -400: an escape that is not two hex digits, a NUL or another control
 * byte once decoded, or ".." above the root.
 */
int http_normalize_path(uint8_t *buf, struct http_span path);

/* --- the fields of a static server (RFC 9110) ------------------------------
 */

/* Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime, RFC 9110 5.6.7);
 * returns true with seconds since the epoch. */
bool http_parse_date(const uint8_t *s, size_t len, int64_t *t);

/* Writes t as an IMF-fixdate, HTTP_DATE_LEN chars and a NUL (30 bytes). */
void http_format_date(int64_t t, char *out);

/*
 * Whether an If-Match/If-None-Match field (id) matches etag (quoted, as
 * site.h has it): "*" matches any; weak compares opaque tags with W/
 * ignored (If-None-Match), strong requires both tags strong (If-Match).
 */
bool http_etag_match(const uint8_t *head, size_t len,
		     const struct http_request *r, enum http_field_id id,
		     const char *etag, size_t etag_len, bool weak);

/*
 * Picks a content coding by Accept-Encoding (RFC 9110 12.5.3): available
 * has bit (1 << HTTP_ENC_x) for each coding the file has (identity
 * always).  The highest q wins, ties going to the smaller coding (br,
 * then gzip, then identity); with no Accept-Encoding field, identity.
 * When every coding is refused, identity all the same (the server
 * ignores the field rather than answer 406).
 */
int http_pick_encoding(const uint8_t *head, size_t len,
		       const struct http_request *r, unsigned available);

enum http_range_result {
	HTTP_RANGE_NONE,          /* serve the whole representation */
	HTTP_RANGE_OK,            /* serve [first, last] */
	HTTP_RANGE_UNSATISFIABLE, /* 416 */
};

/*
 * Reads a Range field against a representation of size bytes: one
 * byte-range ("bytes=a-b", "a-", "-n") gives OK or UNSATISFIABLE; a
 * field that is absent, malformed, repeated, of another unit or with
 * several ranges gives NONE (RFC 9110 14.2 lets a server ignore it).
 */
enum http_range_result http_parse_range(const uint8_t *head, size_t len,
					const struct http_request *r,
					uint64_t size, uint64_t *first,
					uint64_t *last);

/* --- chunked bodies (RFC 9112 7.1), read to be discarded -------------------
 */

struct http_chunked {
	uint8_t state;
	uint8_t digits;
	uint32_t line;  /* bytes of the current extension or trailer line */
	uint64_t left;  /* of the current chunk */
	uint64_t total; /* data bytes so far */
};

/*
 * Feeds n bytes of a chunked body.  Returns 0 when all were taken and
 * more are needed, 1 when the body ended (*used: the bytes of it in p),
 * or -400 (malformed) or -413 (data above max).
 */
int http_chunked_feed(struct http_chunked *c, const uint8_t *p, size_t n,
		      size_t *used, uint64_t max);

#endif
