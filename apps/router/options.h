/*
 * Build options of the router (defaults and rules: ingot/options.h).
 */
#ifndef APPS_ROUTER_OPTIONS_H
#define APPS_ROUTER_OPTIONS_H

#define CONFIG_NET_FORWARD 1
/* TSO both ways: TCP the host coalesced is forwarded in frames of up to
 * 64 KiB, as Linux forwards GSO packets (ingot/options.h). */
#define CONFIG_NET_TSO 1
/* Two interfaces, each with rings of 512 slots both ways: four rings'
 * worth per interface (ingot/options.h), 8 MiB.  With TSO each host read
 * is offered room for a 64 KiB frame (33 slots): the RX ring's size is
 * how many reads go in one system call (14, not 7 on 256 slots) and how
 * long a burst one exit takes in.  (1024 slots cost TCP 7 % in an A/B,
 * the larger pool out of the caches.) */
#define CONFIG_NET_RING_SLOTS 512
#define CONFIG_NET_PKTS       4096
/* Fragments are reassembled only for NAT: one 64 KiB slot per datagram
 * in flight. */
#define CONFIG_NET_REASS_SLOTS 8

#endif
