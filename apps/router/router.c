/*
 * router: IPv4 forwarding between two interfaces, with static routes and
 * optional source NAT (masquerade) on the way out of one of them.
 *
 *   ingot-kvm --net wan=TAP0 --net lan=TAP1 build/kvm/router.kvm
 *       --ipv4:wan=ADDR/LEN --ipv4:lan=ADDR/LEN [--ipv4-gateway:wan=ADDR]
 *       [--route=PREFIX/LEN,via=ADDR]... [--masquerade=wan]
 *
 * Routes compiled in (CONFIG_NET_ROUTES) come first, the --route
 * arguments add to them (lib/net/route.c); CONFIG_NET_MASQUERADE or
 * --masquerade names the interface whose address outgoing connections take
 * (lib/net/nat.c).  It answers ping on its own addresses and forwards
 * everything else until stopped (SIGTERM to the host); the counters print
 * at exit and on SIGUSR1.
 */
#include <ingot/abi.h>
#include <ingot/net.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <string.h>

INGOT_DEVICE(INGOT_DEVICE_NET, wan);
INGOT_DEVICE(INGOT_DEVICE_NET, lan);

static const char *const options[] = {"--ipv4", "--route=", "--masquerade="};

static int usage(const char *arg)
{
	fprintf(stderr,
		"router: unknown argument %s\n"
		"usage: router --ipv4:wan=ADDR/LEN|dhcp --ipv4:lan=ADDR/LEN "
		"[--ipv4-gateway:wan=ADDR]\n"
		"              [--route=PREFIX/LEN,via=ADDR|dev=NAME]... "
		"[--masquerade=wan|lan]\n",
		arg);
	return 2;
}

int ingot_main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		bool known = strcmp(argv[i], "--") == 0; /* net.h */
		for (size_t k = 0; k < sizeof options / sizeof *options; k++)
			known |= strncmp(argv[i], options[k],
					 strlen(options[k])) == 0;
		if (!known)
			return usage(argv[i]);
	}
	if (net_start(argc, argv) < 0)
		return 1;
	printf("router: forwarding between wan and lan\n");
	fflush(stdout);
	struct sched_waitq forever = SCHED_WAITQ_INIT;
	sched_wait(&forever, UINT64_MAX);
	return 0;
}
