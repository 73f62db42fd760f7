/* The appliance's counters: printed at exit and on SIGUSR1, and served
 * as /.well-known/ingot/metrics when CONFIG_HTTP_METRICS is 1. */
#include <stdarg.h>
#include <stdio.h>

#include "http_app.h"

struct http_counters http_count;

/* The statuses this server sends; each has a counter. */
static const struct {
	int code;
	const char *reason;
} statuses[] = {
    {200, "OK"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {431, "Request Header Fields Too Large"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {505, "HTTP Version Not Supported"},
};
#define NSTATUS (sizeof statuses / sizeof statuses[0])
static uint64_t by_status[NSTATUS];

const char *http_reason(int status)
{
	for (size_t i = 0; i < NSTATUS; i++)
		if (statuses[i].code == status)
			return statuses[i].reason;
	return "";
}

void http_count_status(int status)
{
	for (size_t i = 0; i < NSTATUS; i++)
		if (statuses[i].code == status)
			by_status[i]++;
}

static const char *method_label(int m)
{
	return m == HTTP_METHOD_COUNT ? "invalid"
				      : http_method_name((enum http_method)m);
}

void http_print_counters(void)
{
	const struct http_counters *k = &http_count;
	printf("http: counters:\n  requests:");
	for (int m = 0; m <= HTTP_METHOD_COUNT; m++)
		if (k->requests[m])
			printf(" %s=%llu", method_label(m),
			       (unsigned long long)k->requests[m]);
	printf("\n  responses:");
	for (size_t i = 0; i < NSTATUS; i++)
		if (by_status[i])
			printf(" s%d=%llu", statuses[i].code,
			       (unsigned long long)by_status[i]);
	printf("\n  bytes_in=%llu bytes_out=%llu\n"
	       "  conns_accepted=%llu conns_refused=%llu conns_dropped=%llu "
	       "conns_open=%llu conns_peak=%llu\n"
	       "  idle_timeouts=%llu header_timeouts=%llu send_timeouts=%llu\n",
	       (unsigned long long)k->bytes_in,
	       (unsigned long long)k->bytes_out,
	       (unsigned long long)k->conns_accepted,
	       (unsigned long long)k->conns_refused,
	       (unsigned long long)k->conns_dropped,
	       (unsigned long long)k->conns_open,
	       (unsigned long long)k->conns_peak,
	       (unsigned long long)k->idle_timeouts,
	       (unsigned long long)k->header_timeouts,
	       (unsigned long long)k->send_timeouts);
	fflush(stdout);
}

struct text {
	char *p;
	size_t cap, n;
};

__attribute__((format(printf, 2, 3))) static void emit(struct text *t,
						       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		t->n +=
		    (size_t)k < t->cap - t->n ? (size_t)k : t->cap - t->n - 1;
}

static void family(struct text *t, const char *name, const char *type,
		   const char *help)
{
	emit(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

size_t http_metrics_text(char *buf, size_t cap)
{
	struct text t = {buf, cap, 0};
	const struct http_counters *k = &http_count;
	buf[0] = '\0';
	family(&t, "ingot_http_requests_total", "counter",
	       "Requests by method (invalid: no method could be read).");
	for (int m = 0; m <= HTTP_METHOD_COUNT; m++)
		emit(&t, "ingot_http_requests_total{method=\"%s\"} %llu\n",
		     method_label(m), (unsigned long long)k->requests[m]);
	family(&t, "ingot_http_responses_total", "counter",
	       "Responses by status code.");
	for (size_t i = 0; i < NSTATUS; i++)
		emit(&t, "ingot_http_responses_total{code=\"%d\"} %llu\n",
		     statuses[i].code, (unsigned long long)by_status[i]);
	family(&t, "ingot_http_received_bytes_total", "counter",
	       "Bytes of requests received.");
	emit(&t, "ingot_http_received_bytes_total %llu\n",
	     (unsigned long long)k->bytes_in);
	family(&t, "ingot_http_sent_bytes_total", "counter",
	       "Bytes of responses sent, heads included.");
	emit(&t, "ingot_http_sent_bytes_total %llu\n",
	     (unsigned long long)k->bytes_out);
	family(&t, "ingot_http_connections_total", "counter",
	       "Connections by outcome at accept.");
	emit(&t,
	     "ingot_http_connections_total{result=\"accepted\"} %llu\n"
	     "ingot_http_connections_total{result=\"refused\"} %llu\n"
	     "ingot_http_connections_total{result=\"dropped\"} %llu\n",
	     (unsigned long long)k->conns_accepted,
	     (unsigned long long)k->conns_refused,
	     (unsigned long long)k->conns_dropped);
	family(&t, "ingot_http_connections_open", "gauge",
	       "Connections being served.");
	emit(&t, "ingot_http_connections_open %llu\n",
	     (unsigned long long)k->conns_open);
	family(&t, "ingot_http_connections_peak", "gauge",
	       "Most connections served at once.");
	emit(&t, "ingot_http_connections_peak %llu\n",
	     (unsigned long long)k->conns_peak);
	family(&t, "ingot_http_timeouts_total", "counter",
	       "Connections closed by a timeout, by kind.");
	emit(&t,
	     "ingot_http_timeouts_total{kind=\"idle\"} %llu\n"
	     "ingot_http_timeouts_total{kind=\"header\"} %llu\n"
	     "ingot_http_timeouts_total{kind=\"send\"} %llu\n",
	     (unsigned long long)k->idle_timeouts,
	     (unsigned long long)k->header_timeouts,
	     (unsigned long long)k->send_timeouts);
	return t.n;
}
