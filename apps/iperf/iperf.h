/* apps/iperf internals. */
#ifndef APPS_IPERF_H
#define APPS_IPERF_H

#include <stdbool.h>
#include <stddef.h>

/* What the server acts on among a client's test parameters. */
struct iperf_params {
	long parallel;      /* data streams */
	long len;           /* block size the client asked for */
	bool reverse;       /* -R: the server sends */
	bool bidirectional; /* --bidir: not served */
	bool not_tcp;       /* -u or --sctp: not served */
};

/* Parses the client's JSON parameters: 0, or -1 if malformed. */
int iperf_parse_params(const char *json, size_t len, struct iperf_params *p);

#endif
