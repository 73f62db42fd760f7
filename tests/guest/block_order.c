/*
 * lib/blk with requests in flight together, on the block device "disk"
 * (8192 sectors: the test fills the first 6144 with host_byte() before the
 * boot and leaves the rest a hole in the file, which a host file system
 * reads as zeros at once, without the disk):
 *  - completions out of order: in each of ROUNDS rounds one fiber reads
 *    1 MiB of the bytes and, in the same turn, SMALL fibers behind it read
 *    4 KiB of the hole each; a round where a small read returned before
 *    the big one counts as "ahead" (a host that completes in ring order
 *    never has one).  Every read's bytes are checked.
 *  - a flush behind writes in flight: WRITERS fibers write, then a fiber
 *    flushes in the same turn; when the flush returns every write must
 *    have returned (the flush starts only after the writes ahead of it).
 *  - a batch of writes, a flush and reads of the same sectors: the reads
 *    see the writes (they start only after the flush, which starts after
 *    the writes), round after round with new bytes.
 * Prints "block_order: ok, A of R rounds ahead", or exits with the number
 * of the failed check.
 */
#include <ingot/abi.h>
#include <ingot/blk.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

INGOT_DEVICE(INGOT_DEVICE_BLOCK, disk);

#define SS      512
#define ROUNDS  40
#define BIG     2048 /* sectors: 1 MiB, from 4096 */
#define SMALL   8    /* fibers reading 8 sectors each, from 6144 */
#define WRITERS 8    /* fibers writing 64 sectors each, from 2048 */
#define BATCH   16   /* writes of 64 sectors, from 0, then as many reads */

static struct blk_dev *disk;
static int failures, finished, big_done, writes_done;

static unsigned char host_byte(uint64_t o)
{
	return (unsigned char)((o >> 9) ^ (o & 0xff) ^ 0x5a);
}

static unsigned char round_byte(uint64_t o, unsigned round)
{
	return (unsigned char)((o >> 9) * 7 + (o & 0xff) + round * 13 + 1);
}

static bool holds_zeros(const unsigned char *b, uint32_t n)
{
	for (uint64_t i = 0; i < (uint64_t)n * SS; i++)
		if (b[i])
			return false;
	return true;
}

static bool holds_host(const unsigned char *b, uint64_t sector, uint32_t n)
{
	for (uint64_t i = 0; i < (uint64_t)n * SS; i++)
		if (b[i] != host_byte(sector * SS + i))
			return false;
	return true;
}

static void big_reader(void *arg)
{
	unsigned char *b = arg;
	if (blk_read(disk, 4096, b, BIG) < 0 || !holds_host(b, 4096, BIG))
		failures++;
	big_done = ++finished;
}

static void small_reader(void *arg)
{
	uint64_t sector = 6144 + SMALL * (uintptr_t)arg;
	unsigned char *b = aligned_alloc(SS, SMALL * SS);
	if (b)
		memset(b, 0xee, SMALL * SS);
	if (!b || blk_read(disk, sector, b, SMALL) < 0 ||
	    !holds_zeros(b, SMALL))
		failures++;
	free(b);
	finished++;
}

static void writer(void *arg)
{
	uint64_t sector = 2048 + 64 * (uintptr_t)arg;
	unsigned char *b = aligned_alloc(SS, 64 * SS);
	if (!b)
		failures++;
	else {
		memset(b, 0xc3, 64 * SS);
		if (blk_write(disk, sector, b, 64) < 0)
			failures++;
	}
	free(b);
	writes_done++;
}

static int flush_saw; /* writes done when the flush returned; -1 failed */
static bool flushed;

static void flusher(void *arg)
{
	(void)arg;
	flush_saw = blk_flush(disk) < 0 ? -1 : writes_done;
	flushed = true;
}

#define CHECK(n, cond)                                                         \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("block_order: check %d failed: %s\n", n,        \
			       #cond);                                         \
			return n;                                              \
		}                                                              \
	} while (0)

static int batch_round(unsigned round, unsigned char *w, unsigned char *r)
{
	struct blk_io io[2 * BATCH + 1];
	for (unsigned i = 0; i < BATCH; i++) {
		unsigned char *b = w + (size_t)i * 64 * SS;
		for (uint64_t o = 0; o < 64 * SS; o++)
			b[o] = round_byte(i * 64 * SS + o, round);
		io[i] = (struct blk_io){INGOT_BLOCK_WRITE, 64, i * 64, b, 0};
		io[BATCH + 1 + i] = (struct blk_io){
		    INGOT_BLOCK_READ, 64, i * 64, r + (size_t)i * 64 * SS, 0};
	}
	io[BATCH] = (struct blk_io){.op = INGOT_BLOCK_FLUSH};
	memset(r, 0, (size_t)BATCH * 64 * SS);
	CHECK(30, blk_batch(disk, io, 2 * BATCH + 1) == 0);
	for (uint64_t o = 0; o < (uint64_t)BATCH * 64 * SS; o++)
		CHECK(31, r[o] == round_byte(o, round));
	return 0;
}

int ingot_main(int argc, char **argv)
{
	(void)argc, (void)argv;
	disk = blk_open("disk");
	CHECK(10, disk != NULL && blk_sectors(disk) >= 8192);
	unsigned char *big = aligned_alloc(4096, BIG * SS);
	unsigned char *w = aligned_alloc(4096, (size_t)BATCH * 64 * SS);
	unsigned char *r = aligned_alloc(4096, (size_t)BATCH * 64 * SS);
	CHECK(11, big && w && r);

	unsigned ahead = 0;
	for (unsigned round = 0; round < ROUNDS; round++) {
		finished = big_done = 0;
		CHECK(12, sched_spawn(big_reader, big, "big") > 0);
		for (uintptr_t i = 0; i < SMALL; i++)
			CHECK(13, sched_spawn(small_reader, (void *)i,
					      "small") > 0);
		while (finished < SMALL + 1)
			sched_yield();
		CHECK(14, failures == 0);
		ahead += big_done > 1;
	}

	for (uintptr_t i = 0; i < WRITERS; i++)
		CHECK(20, sched_spawn(writer, (void *)i, "writer") > 0);
	CHECK(21, sched_spawn(flusher, NULL, "flusher") > 0);
	while (writes_done < WRITERS || !flushed)
		sched_yield();
	CHECK(22, failures == 0);
	CHECK(23, flush_saw == WRITERS);

	for (unsigned round = 0; round < ROUNDS; round++) {
		int rc = batch_round(round, w, r);
		if (rc)
			return rc;
	}
	printf("block_order: ok, %u of %u rounds ahead\n", ahead, ROUNDS);
	return 0;
}
