/* apps/http: what its files share. */
#ifndef APPS_HTTP_APP_H
#define APPS_HTTP_APP_H

#include <ingot/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../lib/http/request.h"
#include "../../lib/http/site.h"

/* The run-time settings (build defaults, then the image's arguments). */
struct http_config {
	uint16_t port;
	uint64_t idle_ns, header_ns, send_ns, linger_ns;
};
extern struct http_config http_cfg;

/* The bytes of a head kept on the fiber's stack; a longer head moves to a
 * heap buffer of HTTP_BIG bytes while it is read. */
#define HTTP_SMALL 1024
#define HTTP_BIG   (64 + CONFIG_HTTP_LINE_MAX + CONFIG_HTTP_FIELDS_MAX + 64)

/* One connection, on its fiber's stack. */
struct http_conn {
	struct tcp_conn *tc;
	uint8_t *buf; /* small, or a heap buffer of HTTP_BIG */
	uint32_t cap; /* of buf */
	uint32_t len; /* bytes held: a head, then what followed it */
	bool closing; /* the answer says Connection: close */
	bool failed;  /* a write failed: nothing more can be sent */
	uint8_t small[HTTP_SMALL];
};

/* conn.c: a connection's fiber, and a refused connection's. */
void http_serve(void *tc);
void http_refuse(void *tc);
extern unsigned http_refusing; /* http_refuse fibers running */
/* Sends n bytes (static: from the image, never changing); false once the
 * connection has failed. */
bool http_send(struct http_conn *c, const void *p, size_t n, bool is_static);

/* respond.c: the answer to a parsed request (head: its bytes, writable);
 * an error status instead when status is not 0. */
void http_respond(struct http_conn *c, uint8_t *head, uint32_t head_len,
		  struct http_request *r);
void http_respond_error(struct http_conn *c, const struct http_request *r,
			int status);
/* IMF-fixdate of now, cached for the second. */
const char *http_date_now(void);

/* disk.c: files from the tar archive on the block device "site". */
struct kv_tar_file;
/* Indexes the archive, if the device is attached: 0, or an error after a
 * message (a malformed archive: its offset). */
int http_disk_mount(void);
/* The file at a decoded, normalised path: the disk's, else the image's;
 * NULL if neither has it. */
const struct http_file *http_find(const char *path, uint32_t len);
/* The tar file behind f, or NULL for a file of the image. */
const struct kv_tar_file *http_disk_file(const struct http_file *f);
/* len bytes of t from off into buf (all of them, or false). */
bool http_disk_read(const struct kv_tar_file *t, uint64_t off, void *buf,
		    size_t len);
/* Sends len bytes of t from off, read in chunks: false if the disk
 * failed before all were sent. */
bool http_disk_send(struct http_conn *c, const struct kv_tar_file *t,
		    uint64_t off, uint64_t len);

/* metrics.c */
struct http_counters {
	uint64_t requests[HTTP_METHOD_COUNT + 1]; /* the last: unparsable */
	uint64_t bytes_in, bytes_out;
	uint64_t conns_accepted, conns_refused, conns_dropped, conns_open,
	    conns_peak;
	uint64_t idle_timeouts, header_timeouts, send_timeouts;
};
extern struct http_counters http_count;
void http_count_status(int status);
void http_print_counters(void);
/* The counters in the Prometheus text format (0.0.4) into buf: the
 * length, at most cap - 1. */
size_t http_metrics_text(char *buf, size_t cap);

/* The response status's reason phrase ("" if unknown). */
const char *http_reason(int status);

#endif
