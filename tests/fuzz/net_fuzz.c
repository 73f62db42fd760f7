/*
 * libFuzzer harness over lib/net's receive path: frames go in through the
 * RX ring exactly as a host would put them there, the stack runs its
 * poller, a UDP echo socket on port 7 answers, and the TX ring is drained.
 * Built for the host with clang (-fsanitize=fuzzer,address,undefined);
 * the ABI and the scheduler are the fakes of fake_host.c.
 *
 * Built twice: with a static address, and with -DFUZZ_DHCP, where the
 * interface is configured by DHCP and the client's fiber takes a turn
 * after every frame (so offers, acks and naks from the fuzzer reach it).
 *
 * An input is a sequence of frames, each [advance][len: 2 bytes BE][frame]:
 * advance moves the clock by advance * 10 ms first, so that timers (ARP
 * retries, reassembly timeouts) fire too.
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

static void setup(void)
{
#ifdef FUZZ_DHCP
	static char *argv[] = {"fuzz", "--ipv4=dhcp", NULL, NULL};
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
		fake_now += data[0] * 10000000ULL;
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (len > INGOT_NET_FRAME_MAX)
			len = INGOT_NET_FRAME_MAX;
		fake_fire_timers();
		fake_deliver(data, len);
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
