/*
 * Build options of the firewall (defaults and rules: ingot/options.h).
 */
#ifndef APPS_FIREWALL_OPTIONS_H
#define APPS_FIREWALL_OPTIONS_H

#define CONFIG_NET_FORWARD 1
/* TSO both ways: TCP the host coalesced passes whole, its headers
 * filtered (include/ingot/net.h), as Linux forwards GSO packets. */
#define CONFIG_NET_TSO 1
/* Two interfaces, each with rings of 256 slots both ways: four rings'
 * worth per interface (ingot/options.h), 4 MiB. */
#define CONFIG_NET_PKTS 2048
/* The filter sees whole datagrams (fragments cannot hide ports): one
 * 64 KiB reassembly slot per fragmented datagram in flight. */
#define CONFIG_NET_REASS_SLOTS 8

#endif
