/*
 * The host side of the network rings (abi.h, "Network devices"), shared by
 * ingot-kvm and the hosted target: it moves frames between a guest's rings
 * and a backend (a tap device, a socket) through callbacks, and treats all
 * it reads from the rings as untrusted.
 */
#ifndef PLATFORM_COMMON_NET_HOST_H
#define PLATFORM_COMMON_NET_HOST_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stdint.h>

struct net_host_ops {
	/* Host pointer to guest-virtual [va, va + len), or NULL if that is
	 * not all (writable) guest memory. */
	void *(*guest_ptr)(void *ctx, uint64_t va, uint64_t len,
			   bool writable);
	/* Sends one frame: 0, -EAGAIN (try again later) or another negative
	 * error (the frame is dropped). */
	int (*send)(void *ctx, const void *frame, uint32_t len);
	/* Receives one frame into buf: its length, -EAGAIN when none is
	 * waiting, -EMSGSIZE if it was longer than cap (dropped), or another
	 * negative error (receiving stops until the next service). */
	int (*recv)(void *ctx, void *buf, uint32_t cap);
	/* The guest broke the ring rules: does not return. */
	void (*violation)(void *ctx, const char *what)
	    __attribute__((noreturn));
};

struct net_host_counters {
	uint64_t frames_in, bytes_in, frames_out, bytes_out;
	uint64_t dropped_in_too_big; /* longer than the guest's buffer */
	uint64_t dropped_out_error;  /* the backend refused the frame */
	uint64_t errors_in;	     /* the backend failed to receive */
};

struct net_host_ring {
	struct ingot_net_ring *ring; /* host pointer, checked at attach */
	uint32_t size;		     /* as checked at attach */
	uint32_t used;		     /* the host's copy: never read back */
};

struct net_host_dev {
	const struct net_host_ops *ops;
	void *ctx;
	struct net_host_ring tx, rx;
	bool attached; /* rings given */
	bool tx_blocked; /* the backend said EAGAIN with frames pending */
	struct net_host_counters count;
};

/* "02:00:00:00:00:01" -> mac; the text must end there or at a comma.
 * False for a malformed or multicast address. */
bool net_parse_mac(const char *s, uint8_t mac[6]);
/* A locally administered unicast address that is stable for key (a tap
 * device's name, say). */
void net_default_mac(const char *key, uint8_t mac[6]);

/* Checks and records a ring pair for ingot_net_attach().  Returns 0 or the
 * call's negative error. */
int net_host_attach(struct net_host_dev *d, uint64_t tx_va, uint64_t rx_va);

/* Sends what the TX ring holds and fills what the RX ring offers.
 * Returns true if the guest has something new: a frame received, or room
 * on a TX ring that was full. */
bool net_host_service(struct net_host_dev *d);

/* What to wait for on the backend, as poll(2) events (Linux's values):
 * input while the guest has RX buffers posted, output while a send was
 * refused with EAGAIN.  0: nothing. */
#define NET_HOST_POLLIN 0x1
#define NET_HOST_POLLOUT 0x4
short net_host_poll_events(const struct net_host_dev *d);

#endif
