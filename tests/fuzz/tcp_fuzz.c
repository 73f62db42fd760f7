/*
 * libFuzzer harness over TCP's input path (lib/net/tcp_*.c) with
 * connections in every state: the input is a program of operations, most
 * of them segments built valid enough to reach the state machine (right
 * addresses, ports and checksum, sequence and acknowledgment numbers near
 * the connection's own) with the flags, options, window and payload the
 * fuzzer chooses; the others are what an application does between them
 * (accept, read, write, a write of image data, shutdown, close, nodelay),
 * the clock advancing, and raw frames.  A listener on port 7 takes the
 * connections; the interface has TSO or not, as the input's first byte
 * says.
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
#include "fake_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

static void turn(void)
{
	/* As the scheduler's loop: held-back output, then the host. */
	fake_poller->flush(fake_poller->arg);
	fake_fire_timers();
	fake_poller->poll(fake_poller->arg, fake_now);
	fake_host_drains_tx();
	fake_poller->poll(fake_poller->arg, fake_now);
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
	fake_deliver(f, ETH_HLEN + IP_HLEN + tlen);
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
	/* Image data (tcp_write_static): queued by reference, in segments of
	 * up to a TSO frame that the stack cuts for windows, resends and SACK
	 * blocks. */
	static const uint8_t image[256 << 10];
	unsigned o = take(in, 1) % 11, i = take(in, 1) % APP_MAX;
	struct tcp_conn *c = app[i];
	switch (o) {
	case 0:
	case 1:
	case 2:
		segment(in);
		break;
	case 3:
		fake_now += take(in, 1) * 10000000ULL;
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
	case 10:
		if (c)
			tcp_write_static(c, image,
					 take(in, 3) % sizeof image + 1, 0);
		break;
	}
	turn();
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
		fake_now += 10000000000ULL;
		turn();
	}
	for (unsigned i = 0; i < CONFIG_NET_TCP_CONNS; i++)
		if (tcp_conns[i].in_use) {
			fprintf(stderr,
				"tcp_fuzz: connection %u left in state %u\n", i,
				tcp_conns[i].state);
			abort();
		}
	if (pkt_pool_in_use() != fake_rx_posted()) {
		fprintf(stderr,
			"tcp_fuzz: %u packets in use, %u on the RX ring\n",
			pkt_pool_in_use(), fake_rx_posted());
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!listener)
		setup();
	struct input in = {data, size};
	/* The first byte: the interface with TSO or without (the host offers
	 * it, FAKE_TSO), so that both ways of queueing image data run. */
	if (take(&in, 1) & 1)
		net_ifs[0].features |= INGOT_NET_F_TSO4;
	else
		net_ifs[0].features &= ~INGOT_NET_F_TSO4;
	while (in.n)
		op(&in);
	check_all_released();
	return 0;
}
