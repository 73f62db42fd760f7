/*
 * Breaks the network ring rules (abi.h) in the way argv[1] names, without
 * lib/net: the host must stop the guest (INGOT_EXIT_STOPPED) with the
 * message its rule gives.  "valid" sends one well-formed frame in three
 * pieces with checksum offload, and "features=N" only reports what
 * ingot_net_attach says to the offloads N, both ending with status 0.
 * The rings are attached at start of day (attach is refused once sealed).
 */
#include <ingot/abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

INGOT_DEVICE(INGOT_DEVICE_NET, service);

#define SLOTS 128

static struct {
	struct ingot_net_ring r;
	struct ingot_net_slot s[SLOTS];
} tx __attribute__((aligned(64))), rx __attribute__((aligned(64)));
static unsigned char frames[2][70000] __attribute__((aligned(64)));
static const char *mode = "";
static int attached = 1;

static int attach(void)
{
	const struct ingot_boot_info *bi = ingot_boot_info();
	if (bi->argc > 1)
		mode = bi->argv[1];
	tx.r.size = rx.r.size = SLOTS;
	if (strncmp(mode, "features=", 9) == 0)
		tx.r.features = (uint32_t)strtoul(mode + 9, NULL, 0);
	else if (strcmp(mode, "valid") == 0 ||
		 strcmp(mode, "csum_outside") == 0)
		tx.r.features = INGOT_NET_F_CSUM;
	else if (strcmp(mode, "tso_no_csum") == 0 ||
		 strcmp(mode, "tso_too_long") == 0)
		tx.r.features = INGOT_NET_F_CSUM | INGOT_NET_F_TSO4;
	for (unsigned i = 0; i < SLOTS; i++) {
		rx.r.slot[i].addr = (uintptr_t)frames[1];
		rx.r.slot[i].len = strcmp(mode, "rx_small") == 0 ? 1000 : 2048;
	}
	rx.r.avail = SLOTS;
	attached = ingot_net_attach(0, &tx.r, &rx.r);
	return 0;
}
INGOT_INIT(attach);

/* A frame: Ethernet broadcast, IPv4 type, the rest a pattern. */
static void slot(unsigned i, const void *addr, uint32_t len, uint16_t flags)
{
	tx.r.slot[i] = (struct ingot_net_slot){
	    .addr = (uintptr_t)addr, .len = len, .flags = flags};
}

int ingot_main(int argc, char **argv)
{
	(void)argc, (void)argv;
	uint64_t ready;
	if (strncmp(mode, "features=", 9) == 0) {
		printf("attach: %d\n", attached);
		return 0;
	}
	if (attached < 0) {
		printf("attach failed: %d\n", attached);
		return 3;
	}
	unsigned char *f = frames[0];
	memset(f, 0xff, 6);
	memset(f + 6, 0x02, 6);
	f[12] = 0x08, f[13] = 0x00;
	for (unsigned i = 14; i < sizeof frames[0]; i++)
		f[i] = (unsigned char)(i * 7);
	uint32_t avail = 1;
	if (strcmp(mode, "valid") == 0) {
		slot(0, f, 34, INGOT_NET_SLOT_MORE | INGOT_NET_SLOT_CSUM);
		tx.r.slot[0].csum_start = 34;
		tx.r.slot[0].csum_offset = 6;
		slot(1, f + 34, 8, INGOT_NET_SLOT_MORE);
		slot(2, f + 42, 958, 0);
		avail = 3;
	} else if (strcmp(mode, "index") == 0) {
		slot(0, f, 60, 0);
		avail = SLOTS + 1;
	} else if (strcmp(mode, "chain_past_avail") == 0) {
		slot(0, f, 60, INGOT_NET_SLOT_MORE);
	} else if (strcmp(mode, "chain_long") == 0) {
		for (unsigned i = 0; i <= INGOT_NET_CHAIN_MAX; i++)
			slot(i, f + 14 * i, 14, INGOT_NET_SLOT_MORE);
		avail = INGOT_NET_CHAIN_MAX + 1;
	} else if (strcmp(mode, "not_taken") == 0) {
		slot(0, f, 60, INGOT_NET_SLOT_CSUM);
	} else if (strcmp(mode, "offload_later") == 0) {
		slot(0, f, 40, INGOT_NET_SLOT_MORE);
		slot(1, f + 40, 40, INGOT_NET_SLOT_CSUM);
		avail = 2;
	} else if (strcmp(mode, "csum_outside") == 0) {
		slot(0, f, 60, INGOT_NET_SLOT_CSUM);
		tx.r.slot[0].csum_start = 50;
		tx.r.slot[0].csum_offset = 16;
	} else if (strcmp(mode, "tso_no_csum") == 0) {
		slot(0, f, 1000, INGOT_NET_SLOT_TSO4);
		tx.r.slot[0].gso_size = 500;
	} else if (strcmp(mode, "too_long") == 0) {
		slot(0, f, INGOT_NET_FRAME_MAX + 1, 0);
	} else if (strcmp(mode, "tso_too_long") == 0) {
		slot(0, f, 40000,
		     INGOT_NET_SLOT_MORE | INGOT_NET_SLOT_CSUM |
			 INGOT_NET_SLOT_TSO4);
		tx.r.slot[0].gso_size = 1000;
		tx.r.slot[0].csum_start = 34;
		tx.r.slot[0].csum_offset = 16;
		slot(1, f, INGOT_NET_GSO_FRAME_MAX - 40000 + 1, 0);
		avail = 2;
	} else if (strcmp(mode, "outside") == 0) {
		slot(0, (void *)(uintptr_t)0x7ffffffff000, 60, 0);
	} else if (strcmp(mode, "empty_piece") == 0) {
		slot(0, f, 60, INGOT_NET_SLOT_MORE);
		slot(1, f, 0, 0);
		avail = 2;
	} else if (strcmp(mode, "rx_small") == 0) {
		avail = 0; /* the RX ring is the broken one */
	} else {
		printf("no such mode: %s\n", mode);
		return 2;
	}
	__atomic_store_n(&tx.r.avail, avail, __ATOMIC_RELEASE);
	/* The host serves the rings at every poll; two to be sure. */
	ingot_poll(0, &ready, NULL);
	ingot_poll(0, &ready, NULL);
	printf("still running: used %u of %u\n", tx.r.used, avail);
	return tx.r.used == avail ? 0 : 1;
}
