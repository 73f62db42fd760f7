/* apps/dns internals: the TCP side (dns_tcp.c). */
#ifndef APPS_DNS_APP_H
#define APPS_DNS_APP_H

#include <stdint.h>

/* Listens on port and serves DNS over TCP from fibers of its own: 0, or a
 * negative error (the port taken, no listener or fiber free). */
int dns_tcp_start(uint16_t port);
void dns_tcp_print_counters(void);

#endif
