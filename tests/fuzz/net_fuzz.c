/*
 * libFuzzer harness over lib/net's receive path: frames go in through the
 * RX ring exactly as a host would put them there, the stack runs its
 * poller, a UDP echo socket on port 7 answers, and the TX ring is drained.
 * Built for the host with clang (-fsanitize=fuzzer,address,undefined);
 * the ABI and the scheduler are replaced by the small fakes below.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- the ABI ------------------------------------------------------------- */

static struct ingot_boot_info boot = {
    .heap_size = 64 << 20,
    .random_seed = 1,
    .ndevices = 1,
    .devices = {{.name = "service",
		 .type = INGOT_DEVICE_NET,
		 .handle = 0,
		 .attached = true,
		 .u.net = {{0x02, 0, 0, 0, 0, 0x02}, 1500}}},
};
static struct ingot_net_ring *tx_ring, *rx_ring;

const struct ingot_boot_info *ingot_boot_info(void)
{
	return &boot;
}

int ingot_net_attach(uint32_t handle, struct ingot_net_ring *tx,
		     struct ingot_net_ring *rx)
{
	(void)handle;
	tx_ring = tx;
	rx_ring = rx;
	return 0;
}

/* --- the scheduler ------------------------------------------------------- */

#define TIMERS 64
static struct sched_timer *timers[TIMERS];
static struct sched_poller *poller;
static uint64_t now = 1000000000ULL;

uint64_t sched_now(void)
{
	return now;
}

void sched_timer_init(struct sched_timer *t, void (*fn)(struct sched_timer *),
		      void *arg)
{
	*t = (struct sched_timer){.fn = fn, .arg = arg};
}

int sched_timer_arm(struct sched_timer *t, uint64_t deadline)
{
	t->deadline = deadline;
	if (t->slot)
		return 0;
	for (unsigned i = 0; i < TIMERS; i++)
		if (!timers[i]) {
			timers[i] = t;
			t->slot = i + 1;
			return 0;
		}
	abort(); /* the stack arms a handful: more is a bug */
}

void sched_timer_cancel(struct sched_timer *t)
{
	if (t->slot)
		timers[t->slot - 1] = NULL;
	t->slot = 0;
}

bool sched_timer_armed(const struct sched_timer *t)
{
	return t->slot != 0;
}

static void fire_timers(void)
{
	for (unsigned i = 0; i < TIMERS; i++) {
		struct sched_timer *t = timers[i];
		if (t && t->deadline <= now) {
			sched_timer_cancel(t);
			t->fn(t);
		}
	}
}

int sched_wait(struct sched_waitq *q, uint64_t deadline)
{
	(void)q;
	(void)deadline;
	return -ETIMEDOUT; /* only ever asked with nothing to wait for */
}

unsigned sched_wake_one(struct sched_waitq *q)
{
	(void)q;
	return 0;
}
unsigned sched_wake_all(struct sched_waitq *q)
{
	(void)q;
	return 0;
}

int sched_spawn(void (*fn)(void *), void *arg, const char *name)
{
	(void)fn, (void)arg, (void)name;
	return 1;
}

int sched_poller_add(struct sched_poller *p)
{
	poller = p;
	return 0;
}

int sched_on_report(void (*fn)(void))
{
	(void)fn;
	return 0;
}

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

/* What a host does with the rings: sends (drops) every TX frame. */
static void host_drains_tx(void)
{
	for (uint32_t i = tx_ring->used; i != tx_ring->avail; i++) {
		const struct ingot_net_slot *s =
		    &tx_ring->slot[i & (tx_ring->size - 1)];
		if (s->len < 14 || s->len > INGOT_NET_FRAME_MAX)
			abort(); /* the guest would be stopped for this */
		volatile const uint8_t *f = (const uint8_t *)(uintptr_t)s->addr;
		(void)f[0], (void)f[s->len - 1];
	}
	tx_ring->used = tx_ring->avail;
}

static void deliver(const uint8_t *frame, size_t len)
{
	if (rx_ring->used == rx_ring->avail)
		return; /* no buffer posted: the host would wait */
	struct ingot_net_slot *s =
	    &rx_ring->slot[rx_ring->used & (rx_ring->size - 1)];
	if (len > s->len)
		len = s->len;
	memcpy((void *)(uintptr_t)s->addr, frame, len);
	s->len = (uint32_t)len;
	rx_ring->used++;
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
		dhcp_turn(now, 0);
#else
	(void)dhcp_turns;
#endif
}

/* Buffers the host holds, posted for frames to come. */
static unsigned rx_posted(void)
{
	return rx_ring->avail - rx_ring->used;
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
	for (int s = 0; s < 60 && pkt_pool_in_use() != rx_posted(); s++) {
		now += 1000000000ULL;
		fire_timers();
		host_drains_tx();
		poller->poll(poller->arg, now);
	}
	if (pkt_pool_in_use() != rx_posted()) {
		fprintf(stderr,
			"net_fuzz: %u packets in use, %u of them on the "
			"RX ring: the stack leaked %u\n",
			pkt_pool_in_use(), rx_posted(),
			pkt_pool_in_use() - rx_posted());
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!echo)
		setup();
	while (size >= 3) {
		size_t len = (size_t)data[1] << 8 | data[2];
		now += data[0] * 10000000ULL;
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (len > INGOT_NET_FRAME_MAX)
			len = INGOT_NET_FRAME_MAX;
		fire_timers();
		deliver(data, len);
		poller->poll(poller->arg, now);
		run_fibers(4);
		host_drains_tx();
		poller->poll(poller->arg, now);
		data += len;
		size -= len;
	}
	check_pool_whole();
	return 0;
}
