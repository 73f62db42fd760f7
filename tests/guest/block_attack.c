/*
 * A hostile guest on the raw block ABI: it attaches its own ring to the
 * device "disk" and sends the request argv[1] names, each one against the
 * ring's rules (abi.h): the host must stop it (INGOT_EXIT_STOPPED) before
 * touching the file.  "ok" sends a valid read and exits 0, so a test knows
 * the others fail for their request alone.  Attach errors are checked at
 * start of day: exit 3-6 if one is not refused as the ABI says.
 */
#include <errno.h>
#include <ingot/abi.h>
#include <stdio.h>
#include <string.h>

INGOT_DEVICE(INGOT_DEVICE_BLOCK, disk);

static struct {
	struct ingot_block_ring r;
	struct ingot_block_req req[8];
} ring = {.r.size = 8};
static struct {
	struct ingot_block_ring r;
	struct ingot_block_req req[8];
} odd = {.r.size = 6};
static unsigned char buf[8192] __attribute__((aligned(4096)));
static int init_status;

static int attach(void)
{
	const struct ingot_boot_info *bi = ingot_boot_info();
	if (bi->ndevices != 1 || !bi->devices[0].attached)
		init_status = 3;
	else if (ingot_block_attach(0, &odd.r) != -EINVAL)
		init_status = 4;
	else if (ingot_block_attach(0, &ring.r) != 0)
		init_status = 5;
	else if (ingot_block_attach(0, &ring.r) != -EBUSY)
		init_status = 6;
	return 0;
}
INGOT_INIT(attach);

static void send(struct ingot_block_req r)
{
	ring.r.req[ring.r.avail & 7] = r;
	ring.r.avail++;
}

int ingot_main(int argc, char **argv)
{
	if (init_status)
		return init_status;
	if (ingot_block_attach(0, &ring.r) != -EPERM)
		return 7;
	const char *what = argc > 1 ? argv[1] : "ok";
	uint64_t n = ingot_boot_info()->devices[0].u.block.sectors;
	uint64_t b = (uintptr_t)buf;
	struct ingot_block_req rd = {
	    .addr = b, .count = 1, .op = INGOT_BLOCK_READ};
	struct ingot_block_req wr = {
	    .addr = b, .count = 1, .op = INGOT_BLOCK_WRITE};

	if (strcmp(what, "ok") == 0) {
		send(rd);
	} else if (strcmp(what, "past-end") == 0) {
		wr.sector = n;
		send(wr);
	} else if (strcmp(what, "straddle") == 0) {
		wr.sector = n - 1, wr.count = 2;
		send(wr);
	} else if (strcmp(what, "wrap") == 0) {
		wr.sector = UINT64_MAX - 1ULL, wr.count = 4;
		send(wr);
	} else if (strcmp(what, "misaligned") == 0) {
		wr.addr = b + 8;
		send(wr);
	} else if (strcmp(what, "read-only") == 0) {
		send(wr); /* the test attaches the device ,ro */
	} else if (strcmp(what, "outside") == 0) {
		wr.addr = 1ULL << 46;
		send(wr);
	} else if (strcmp(what, "into-code") == 0) {
		rd.addr = (uintptr_t)ingot_main & ~511ULL;
		send(rd);
	} else if (strcmp(what, "zero-count") == 0) {
		wr.count = 0;
		send(wr);
	} else if (strcmp(what, "huge") == 0) {
		wr.count = INGOT_BLOCK_REQ_SECTORS_MAX(512) + 1;
		send(wr);
	} else if (strcmp(what, "bad-op") == 0) {
		wr.op = 9;
		send(wr);
	} else if (strcmp(what, "flush-count") == 0) {
		wr.op = INGOT_BLOCK_FLUSH;
		send(wr);
	} else if (strcmp(what, "index") == 0) {
		ring.r.avail += 9; /* more requests than the ring holds */
	} else {
		return 2;
	}
	/* A host may complete it later (virtio-blk): polls for up to 5 s. */
	uint64_t ready, now = ingot_clock_monotonic();
	uint64_t deadline = now + 5000000000ULL;
	do
		ingot_poll(deadline, &ready, &now);
	while (ring.r.used != ring.r.avail && now < deadline);
	if (ring.r.used != ring.r.avail)
		return 8;
	printf("block_attack: %s served, status %d\n", what,
	       ring.r.req[0].status);
	return ring.r.req[0].status == 0 ? 0 : 9;
}
