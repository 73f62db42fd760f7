/*
 * RESP2, the Redis protocol: requests (arrays of bulk strings, or inline
 * lines as telnet sends them) parsed as pure functions over (buf, len),
 * and replies appended to a growing buffer.
 */
#ifndef KV_RESP_H
#define KV_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESP_ARGS_MAX 1024
#define RESP_BULK_MAX (1024 * 1024) /* one argument's bytes */
#define RESP_LINE_MAX (64 * 1024)   /* an inline request or a count line */

struct resp_cmd {
	int argc;
	const char *argv[RESP_ARGS_MAX];
	size_t len[RESP_ARGS_MAX];
};

/*
 * Parses one request at buf: the bytes it took (> 0; argc may be 0 for an
 * empty one), 0 if it is not all there yet, or -1 for a protocol error
 * (*err: Redis's message, without "-ERR ").  The arguments point into buf.
 */
long resp_parse(const char *buf, size_t len, struct resp_cmd *cmd,
		const char **err);

/* A reply being built.  An allocation failure marks it failed; the
 * connection then closes. */
struct resp_out {
	char *buf;
	size_t len, cap;
	bool failed;
};

/* Room for n more bytes: a pointer to them, or NULL (out->failed). */
char *resp_reserve(struct resp_out *o, size_t n);
void resp_raw(struct resp_out *o, const void *p, size_t n);
void resp_simple(struct resp_out *o, const char *s); /* +s */
void resp_error(struct resp_out *o, const char *s);  /* -s */
void resp_int(struct resp_out *o, long long v);      /* :v */
void resp_bulk(struct resp_out *o, const void *p, size_t n);
void resp_null(struct resp_out *o);               /* $-1 */
void resp_array(struct resp_out *o, long long n); /* *n */

/* Redis's strict integer syntax (string2ll): optional '-', no leading
 * zeros or spaces, within a long long. */
bool resp_to_ll(const char *s, size_t len, long long *v);

#endif
