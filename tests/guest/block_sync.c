/*
 * Write-and-flush batches on the block device "disk", as a group commit
 * makes them: a plain write and a flush, then ROUNDS batches of a write
 * and a flush behind it, and two of two writes and a flush, each round's
 * sectors its own.  ingot-kvm carries the flush of each such batch on its
 * writes (RWF_DSYNC) once every earlier write is durable; the test counts
 * that in its report and finds every byte in the file.  With the argument
 * "full" the device's file lies on a file system too small for it: a
 * batch's write past its room must fail (-ENOSPC) while the flush behind
 * it still succeeds, and batches within the room still work after it.
 * Exits 0, or the number of the failed check.
 */
#include <errno.h>
#include <ingot/abi.h>
#include <ingot/blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

INGOT_DEVICE(INGOT_DEVICE_BLOCK, disk);

#define SS     512
#define ROUNDS 20
#define RUN    8           /* sectors per write */
#define FAR    (16 * 2048) /* past the room the test leaves: 16 MiB */

static unsigned char byte(uint64_t o)
{
	return (unsigned char)((o >> 9) * 13 + (o & 0xff) + 1);
}

static unsigned char *filled(uint64_t sector)
{
	unsigned char *b = aligned_alloc(SS, RUN * SS);
	for (uint64_t i = 0; b && i < RUN * SS; i++)
		b[i] = byte(sector * SS + i);
	return b;
}

static struct blk_io write_of(uint64_t sector, unsigned char *b)
{
	return (struct blk_io){INGOT_BLOCK_WRITE, RUN, sector, b, 0};
}

static const struct blk_io flush = {.op = INGOT_BLOCK_FLUSH};

int ingot_main(int argc, char **argv)
{
	bool full = argc > 1 && strcmp(argv[1], "full") == 0;
	struct blk_dev *d = blk_open("disk");
	if (!d)
		return 1;
	uint64_t s = 0;
	unsigned char *b = filled(s);
	if (!b || blk_write(d, s, b, RUN) < 0 || blk_flush(d) < 0)
		return 2;
	for (int r = 0; r < ROUNDS; r++) {
		s += RUN;
		struct blk_io io[2] = {write_of(s, filled(s)), flush};
		if (!io[0].buf || blk_batch(d, io, 2) < 0)
			return 3;
		free(io[0].buf);
	}
	for (int r = 0; r < 2; r++) {
		struct blk_io io[3] = {
		    write_of(s + RUN, filled(s + RUN)),
		    write_of(s + 2 * RUN, filled(s + 2 * RUN)), flush};
		s += 2 * RUN;
		if (!io[0].buf || !io[1].buf || blk_batch(d, io, 3) < 0)
			return 4;
	}
	if (full) {
		struct blk_io io[2] = {write_of(FAR, filled(FAR)), flush};
		if (blk_batch(d, io, 2) != -ENOSPC || io[0].status != -ENOSPC)
			return 5;
		if (io[1].status != 0)
			return 6;
		s += RUN;
		struct blk_io again[2] = {write_of(s, filled(s)), flush};
		if (blk_batch(d, again, 2) < 0)
			return 7;
	}
	printf("block_sync: ok, %llu sectors written\n",
	       (unsigned long long)(s + RUN));
	return 0;
}
