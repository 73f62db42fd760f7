/*
 * firewall: IPv4 forwarding between two interfaces through lib/fw's
 * stateful filter, with the rules compiled in at build time (make
 * build/kvm/firewall.kvm RULES=FILE; README, "Firewall rules").
 *
 *   ingot-kvm --net outside=TAP0 --net inside=TAP1 build/kvm/firewall.kvm
 *       --ipv4:outside=ADDR/LEN --ipv4:inside=ADDR/LEN
 *       [--ipv4-gateway:outside=ADDR] [--route=PREFIX/LEN,via=ADDR]...
 *
 * Every datagram it receives passes the filter, those for the firewall
 * itself too (it answers ping where the rules let it).  The rule counters
 * and the flow table's numbers print at exit and on SIGUSR1, after the
 * interfaces' counters.
 */
#include <ingot/abi.h>
#include <ingot/fw.h>
#include <ingot/net.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

INGOT_DEVICE(INGOT_DEVICE_NET, outside);
INGOT_DEVICE(INGOT_DEVICE_NET, inside);

static int usage(const char *arg)
{
	fprintf(stderr,
		"firewall: unknown argument %s\n"
		"usage: firewall --ipv4:outside=ADDR/LEN|dhcp "
		"--ipv4:inside=ADDR/LEN [--ipv4-gateway:outside=ADDR]\n"
		"                [--route=PREFIX/LEN,via=ADDR|dev=NAME]...\n",
		arg);
	return 2;
}

static enum net_verdict filter(const struct pkt *p, int in_if, int out_if)
{
	enum fw_verdict v =
	    fw_filter(p->data, p->len, in_if, out_if, sched_now());
	return fw_passes(v) ? NET_PASS : NET_DROP;
}

/* Its own arguments are the network's (net.h): addresses, routes. */
static bool known(const char *arg)
{
	return strcmp(arg, "--") == 0 || strncmp(arg, "--ipv4", 6) == 0 ||
	       strncmp(arg, "--route=", 8) == 0;
}

int ingot_main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!known(argv[i]))
			return usage(argv[i]);
	/* The filter is in place before the interfaces start. */
	if (fw_init(&fw_rules, net_if_count(), net_if_name,
		    ingot_boot_info()->random_seed) < 0)
		return 1;
	net_set_filter(filter);
	atexit(fw_print_counters);
	sched_on_report(fw_print_counters);
	if (net_start(argc, argv) < 0)
		return 1;
	printf("firewall: filtering between outside and inside\n");
	fflush(stdout);
	/* Flows nothing looks up any more leave within a second of their
	 * end; the rest of the work is the network's pollers'. */
	for (;;) {
		sched_sleep(1000000000ULL);
		fw_expire(sched_now(), CONFIG_FW_FLOWS);
	}
}
