/*
 * libFuzzer harness over lib/net's receive path: frames go in through the
 * RX ring exactly as a host would put them there, the stack runs its
 * poller, a UDP echo socket on port 7 answers, and the TX ring is drained.
 * Built for the host with clang (-fsanitize=fuzzer,address,undefined);
 * the ABI and the scheduler are the fakes of fake_host.c.
 *
 * Built three times: with a static address; with -DFUZZ_DHCP, where the
 * interface is configured by DHCP and the client's fiber takes a turn
 * after every frame (so offers, acks and naks from the fuzzer reach it);
 * and with -DFUZZ_FORWARD, a router of two interfaces (wan, lan with a
 * smaller MTU) with a static route, masquerade on wan and a filter, so
 * that forwarding, fragmenting, NAT both ways and ICMP errors run.
 *
 * An input is a sequence of frames, each [advance][len: 2 bytes BE][frame]:
 * advance moves the clock by advance * 10 ms first, so that timers (ARP
 * retries, reassembly timeouts) fire too.  For the router, advance's top
 * bit picks the interface (lan) and the next marks the frame's TCP or UDP
 * checksum partial, as a host marks a frame that never left it; the clock
 * moves by the low six bits.
 *
 * After each input the harness lets the stack come to rest (no more
 * frames, the host sending everything, the clock running on until every
 * resolution waiting for ARP gave up) and then requires the packet pool to
 * be whole again: every buffer free but those posted on the RX ring.  A
 * packet still out is a leak, and aborts like any other finding.
 *   make fuzz-net              (long run, by hand)
 *   build/fuzz/net_fuzz -max_total_time=20 CORPUS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/net/net_internal.h"
#include "fake_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- the harness --------------------------------------------------------- */

static struct udp_sock *echo;

#ifdef FUZZ_FORWARD
/* Drops what the fuzzer marks (an odd IP identification): the filter's
 * drop path runs too. */
static enum net_verdict odd_ids_dropped(const struct pkt *p, int in_if,
					int out_if)
{
	(void)in_if, (void)out_if;
	return p->data[5] & 1 ? NET_DROP : NET_PASS;
}
#endif

static void setup(void)
{
#ifdef FUZZ_DHCP
	static char *argv[] = {"fuzz", "--ipv4=dhcp", NULL, NULL};
#elif defined(FUZZ_FORWARD)
	static char *argv[] = {"fuzz",
			       "--ipv4:wan=10.0.0.2/24",
			       "--ipv4:lan=10.0.1.1/24",
			       "--ipv4-gateway:wan=10.0.0.1",
			       "--route=10.0.5.0/24,via=10.0.1.9",
			       "--masquerade=wan",
			       NULL};
	net_set_filter(odd_ids_dropped);
#else
	static char *argv[] = {"fuzz", "--ipv4=10.0.0.2/24",
			       "--ipv4-gateway=10.0.0.1", NULL};
#endif
	int argc = 0;
	while (argv[argc])
		argc++;
	if (!freopen("/dev/null", "w", stdout) || net_init() < 0 ||
	    net_start(argc, argv) < 0 || !(echo = udp_open(7, NULL)))
		abort();
}

/* The fibers' turn: the echo server answers all it has, the DHCP client
 * takes dhcp_turns turns (one reply each, at most). */
static void run_fibers(int dhcp_turns)
{
	struct net_addr from;
	struct pkt *p;
	while ((p = udp_recv_pkt(echo, &from, 0)))
		udp_send_pkt(echo, p, &from);
#ifdef FUZZ_DHCP
	for (int turns = 0; turns < dhcp_turns; turns++)
		dhcp_turn(fake_now, 0);
#else
	(void)dhcp_turns;
#endif
}

/*
 * Lets the clock run, a second a turn, with no frame arriving: ARP gives
 * up on unanswered addresses (dropping what waited for them) after a few
 * seconds and the TX queue drains into the ring, so within a minute every
 * buffer must be back.  The DHCP client takes no turn meanwhile: it would
 * keep sending, and it has read every reply queued for it first.
 */
static void check_pool_whole(void)
{
	run_fibers(CONFIG_NET_UDP_QUEUE);
	for (int s = 0; s < 60 && pkt_pool_in_use() != fake_rx_posted(); s++) {
		fake_now += 1000000000ULL;
		fake_fire_timers();
		fake_host_drains_tx();
		fake_poller->poll(fake_poller->arg, fake_now);
	}
	if (pkt_pool_in_use() != fake_rx_posted()) {
		fprintf(stderr,
			"net_fuzz: %u packets in use, %u of them on the "
			"RX ring: the stack leaked %u\n",
			pkt_pool_in_use(), fake_rx_posted(),
			pkt_pool_in_use() - fake_rx_posted());
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!echo)
		setup();
	while (size >= 3) {
		size_t len = (size_t)data[1] << 8 | data[2];
#ifdef FUZZ_FORWARD
		unsigned dev = data[0] >> 7;
		bool partial = data[0] & 0x40;
		fake_now += (data[0] & 0x3f) * 10000000ULL;
#else
		unsigned dev = 0;
		bool partial = false;
		fake_now += data[0] * 10000000ULL;
#endif
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (len > INGOT_NET_FRAME_MAX)
			len = INGOT_NET_FRAME_MAX;
		fake_fire_timers();
		/* Ethernet, then a 20-byte IP header: TCP's checksum at 16,
		 * anything else's taken as UDP's at 6. */
		uint16_t off = len > 23 && data[23] == 6 ? 16 : 6;
		fake_deliver_on(dev, data, len, partial ? 34 : 0, off);
		fake_poller->poll(fake_poller->arg, fake_now);
		run_fibers(4);
		fake_host_drains_tx();
		fake_poller->poll(fake_poller->arg, fake_now);
		data += len;
		size -= len;
	}
	check_pool_whole();
	return 0;
}
