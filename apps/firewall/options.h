/*
 * Build options of the firewall (defaults and rules: ingot/options.h).
 */
#ifndef APPS_FIREWALL_OPTIONS_H
#define APPS_FIREWALL_OPTIONS_H

#define CONFIG_NET_FORWARD 1
/* TSO both ways: TCP the host coalesced passes whole, its headers
 * filtered (include/ingot/net.h), as Linux forwards GSO packets. */
#define CONFIG_NET_TSO 1
/* Two interfaces, each with rings of 512 slots both ways: four rings'
 * worth per interface (ingot/options.h), 8 MiB.  With TSO each host read
 * is offered room for a 64 KiB frame (33 slots): the RX ring's size is
 * how many reads go in one system call (14, not 7 on 256 slots) and how
 * long a burst one exit takes in.  (1024 slots cost TCP 7 % in an A/B,
 * the larger pool out of the caches.) */
#define CONFIG_NET_RING_SLOTS 512
#define CONFIG_NET_PKTS       4096
/* The filter sees whole datagrams (fragments cannot hide ports): one
 * 64 KiB reassembly slot per fragmented datagram in flight. */
#define CONFIG_NET_REASS_SLOTS 8

#endif
