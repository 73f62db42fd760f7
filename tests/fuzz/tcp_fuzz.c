/*
 * libFuzzer harness over TCP's input path (lib/net/tcp_*.c) with
 * connections in every state: the input is a program of operations, most
 * of them segments built valid enough to reach the state machine (right
 * addresses, ports and checksum, sequence and acknowledgment numbers near
 * the connection's own) with the flags, options, window and payload the
 * fuzzer chooses; the others are what an application does between them
 * (accept, read, write, shutdown, close, nodelay), the clock advancing,
 * and raw frames.  A listener on port 7 takes the connections.
 *
 * After each input every connection is closed and the clock runs on for
 * half an hour of guest time: every connection must be free again and the
 * packet pool whole (every buffer back but those posted on the RX ring).
 *
 * `make fuzzers` builds it (make test runs it for 20 s, make fuzz-tcp for
 * an hour).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/net/tcp_internal.h"

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

#define US_IP   0x0a000002u
#define PEER_IP 0x0a000001u
#define APP_MAX 8

static struct tcp_listener *listener;
static struct tcp_conn *app[APP_MAX];
static const uint8_t us_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x01};

static void setup(void)
{
	static char *argv[] = {"fuzz", "--ipv4=10.0.0.2/24", NULL};
	if (!freopen("/dev/null", "w", stdout) || net_init() < 0 ||
	    net_start(2, argv) < 0 || !(listener = tcp_listen(7, 4, NULL)))
		abort();
}

static void host_drains_tx(void)
{
	for (uint32_t i = tx_ring->used; i != tx_ring->avail; i++) {
		const struct ingot_net_slot *s =
		    &tx_ring->slot[i & (tx_ring->size - 1)];
		if (s->len < 14 || s->len > INGOT_NET_FRAME_MAX)
			abort();
		volatile const uint8_t *f = (const uint8_t *)(uintptr_t)s->addr;
		(void)f[0], (void)f[s->len - 1];
	}
	tx_ring->used = tx_ring->avail;
}

static void deliver(const uint8_t *frame, size_t len)
{
	if (rx_ring->used == rx_ring->avail)
		return;
	struct ingot_net_slot *s =
	    &rx_ring->slot[rx_ring->used & (rx_ring->size - 1)];
	if (len > s->len)
		len = s->len;
	memcpy((void *)(uintptr_t)s->addr, frame, len);
	s->len = (uint32_t)len;
	rx_ring->used++;
}

static void turn(void)
{
	fire_timers();
	poller->poll(poller->arg, now);
	host_drains_tx();
	poller->poll(poller->arg, now);
}

/* The input, read a field at a time; zeros once it runs out. */
struct input {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct input *in, unsigned bytes)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		v = v << 8 | (in->n ? *in->p : 0);
		if (in->n) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

/* A segment from peer port 1000 + k, numbers relative to the
 * connection's when it exists. */
static void segment(struct input *in)
{
	uint8_t f[ETH_HLEN + IP_HLEN + 60 + 1500];
	uint16_t sport = (uint16_t)(1000 + take(in, 1) % 4);
	uint8_t flags = (uint8_t)take(in, 1);
	int16_t dseq = (int16_t)take(in, 2), dack = (int16_t)take(in, 2);
	uint16_t wnd = (uint16_t)take(in, 2);
	unsigned olen = take(in, 1) % 41 & ~3u;
	unsigned plen = take(in, 2) % 1461;
	struct tcp_conn *c = tcp_conn_lookup(US_IP, 7, PEER_IP, sport);
	uint32_t seq = c ? c->rcv_nxt + dseq : (uint32_t)dseq * 65537u;
	uint32_t ack = c ? c->snd_una + dack : (uint32_t)dack * 65537u;

	memcpy(f, us_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, ETH_P_IP);
	uint8_t *ip = f + ETH_HLEN, *th = ip + IP_HLEN;
	unsigned tlen = TCP_HLEN + olen + plen;
	memset(ip, 0, IP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP_HLEN + tlen));
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	put32(ip + 12, PEER_IP);
	put32(ip + 16, US_IP);
	put16(ip + 10, net_csum_fold(net_csum_add(0, ip, IP_HLEN)));
	put16(th, sport);
	put16(th + 2, 7);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = (uint8_t)((TCP_HLEN + olen) / 4 << 4);
	th[13] = flags;
	put16(th + 14, wnd);
	put16(th + 16, 0);
	put16(th + 18, 0);
	for (unsigned i = 0; i < olen + plen; i++)
		th[TCP_HLEN + i] = (uint8_t)take(in, 1);
	uint32_t sum = net_csum_pseudo(PEER_IP, US_IP, IPPROTO_TCP, tlen);
	put16(th + 16, net_csum_fold(net_csum_add(sum, th, tlen)));
	deliver(f, ETH_HLEN + IP_HLEN + tlen);
}

static void app_close(unsigned i)
{
	if (app[i]) {
		tcp_close(app[i]);
		app[i] = NULL;
	}
}

static void op(struct input *in)
{
	static uint8_t buf[65536];
	unsigned o = take(in, 1) % 10, i = take(in, 1) % APP_MAX;
	struct tcp_conn *c = app[i];
	switch (o) {
	case 0:
	case 1:
	case 2:
		segment(in);
		break;
	case 3:
		now += take(in, 1) * 10000000ULL;
		break;
	case 4:
		for (unsigned k = 0; k < APP_MAX; k++)
			if (!app[k])
				app[k] = tcp_accept(listener, 0, NULL);
		break;
	case 5:
		if (c)
			tcp_read(c, buf, take(in, 2) % sizeof buf + 1, 0);
		break;
	case 6:
		if (c)
			tcp_write(c, buf, take(in, 2) % sizeof buf + 1, 0);
		break;
	case 7:
		if (c)
			tcp_shutdown(c);
		break;
	case 8:
		app_close(i);
		break;
	case 9:
		if (c)
			tcp_set_nodelay(c, take(in, 1) & 1);
		break;
	}
	turn();
}

/* Buffers the host holds, posted for frames to come. */
static unsigned rx_posted(void)
{
	return rx_ring->avail - rx_ring->used;
}

static void check_all_released(void)
{
	struct tcp_conn *c;
	for (unsigned i = 0; i < APP_MAX; i++)
		app_close(i);
	/* What no one accepted stays on the listener's queue: take it. */
	while ((c = tcp_accept(listener, 0, NULL)))
		tcp_close(c);
	for (int s = 0; s < 200; s++) {
		now += 10000000000ULL;
		turn();
	}
	for (unsigned i = 0; i < CONFIG_NET_TCP_CONNS; i++)
		if (tcp_conns[i].in_use) {
			fprintf(stderr,
				"tcp_fuzz: connection %u left in state %u\n", i,
				tcp_conns[i].state);
			abort();
		}
	if (pkt_pool_in_use() != rx_posted()) {
		fprintf(stderr,
			"tcp_fuzz: %u packets in use, %u on the RX ring\n",
			pkt_pool_in_use(), rx_posted());
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!listener)
		setup();
	struct input in = {data, size};
	while (in.n)
		op(&in);
	check_all_released();
	return 0;
}
