/*
 * Build options of the router (defaults and rules: ingot/options.h).
 */
#ifndef APPS_ROUTER_OPTIONS_H
#define APPS_ROUTER_OPTIONS_H

#define CONFIG_NET_FORWARD 1
/* TSO both ways: TCP the host coalesced is forwarded in frames of up to
 * 64 KiB, as Linux forwards GSO packets (ingot/options.h). */
#define CONFIG_NET_TSO 1
/* Two interfaces, each with rings of 256 slots both ways: four rings'
 * worth per interface (ingot/options.h), 4 MiB. */
#define CONFIG_NET_PKTS 2048
/* Fragments are reassembled only for NAT: one 64 KiB slot per datagram
 * in flight. */
#define CONFIG_NET_REASS_SLOTS 8

#endif
