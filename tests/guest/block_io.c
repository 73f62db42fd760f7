/*
 * lib/blk on the block device "disk", which the test fills with
 * host_byte() before the boot.  Mode "rw" (default): reads the host's bytes,
 * writes guest_byte() over sectors 0-7, 100-6243 (3 MiB, more than one
 * request carries) and from eight fibers at once over 6400-6527, reads
 * them back, flushes, and checks that bad requests are refused; the test
 * then finds the guest's bytes in the file.  Mode "ro": on a read-only
 * device reads work and writes are -EROFS.  Mode "after": a later boot on
 * the same device finds what mode "rw" wrote.  Exits 0, or the number of
 * the failed check.
 */
#include <errno.h>
#include <ingot/abi.h>
#include <ingot/blk.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

INGOT_DEVICE(INGOT_DEVICE_BLOCK, disk);

#define SS     512
#define BIG    6144
#define FIBERS 8

static unsigned char host_byte(uint64_t o)
{
	return (unsigned char)((o >> 9) ^ (o & 0xff) ^ 0x5a);
}

static unsigned char guest_byte(uint64_t o)
{
	return (unsigned char)((o >> 9) * 31 + (o & 0xff) + 7);
}

static void fill(unsigned char *b, uint64_t sector, uint32_t count)
{
	for (uint64_t i = 0; i < (uint64_t)count * SS; i++)
		b[i] = guest_byte(sector * SS + i);
}

static bool holds(const unsigned char *b, uint64_t sector, uint32_t count,
		  unsigned char (*f)(uint64_t))
{
	for (uint64_t i = 0; i < (uint64_t)count * SS; i++)
		if (b[i] != f(sector * SS + i))
			return false;
	return true;
}

static struct blk_dev *disk;
static int fiber_failures, fibers_done;

static void writer(void *arg)
{
	uint64_t sector = 6400 + 16 * (uintptr_t)arg;
	unsigned char *b = aligned_alloc(SS, 16 * SS);
	fill(b, sector, 16);
	if (blk_write(disk, sector, b, 16) < 0)
		fiber_failures++;
	memset(b, 0, 16 * SS);
	if (blk_read(disk, sector, b, 16) < 0 ||
	    !holds(b, sector, 16, guest_byte))
		fiber_failures++;
	fibers_done++;
}

#define CHECK(n, cond)                                                         \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("block_io: check %d failed: %s\n", n, #cond);   \
			return n;                                              \
		}                                                              \
	} while (0)

static int read_only(unsigned char *b)
{
	CHECK(30, blk_read_only(disk));
	CHECK(31, blk_read(disk, 8000, b, 8) == 0);
	CHECK(32, holds(b, 8000, 8, host_byte));
	CHECK(33, blk_write(disk, 0, b, 1) == -EROFS);
	CHECK(34, blk_flush(disk) == 0);
	printf("block_io: read-only ok\n");
	return 0;
}

static int after(unsigned char *b)
{
	CHECK(40, blk_read(disk, 0, b, 8) == 0 && holds(b, 0, 8, guest_byte));
	CHECK(41, blk_read(disk, 100, b, BIG) == 0);
	CHECK(42, holds(b, 100, BIG, guest_byte));
	CHECK(43, blk_read(disk, 6400, b, 128) == 0);
	CHECK(44, holds(b, 6400, 128, guest_byte));
	CHECK(45, blk_read(disk, 8000, b, 100) == 0);
	CHECK(46, holds(b, 8000, 100, host_byte));
	printf("block_io: after ok\n");
	return 0;
}

int ingot_main(int argc, char **argv)
{
	disk = blk_open("disk");
	CHECK(10, disk != NULL);
	printf("block_io: %lu sectors of %u bytes%s\n",
	       (unsigned long)blk_sectors(disk), blk_sector_size(disk),
	       blk_read_only(disk) ? ", read-only" : "");
	CHECK(11, blk_sector_size(disk) == SS && blk_sectors(disk) >= 8192);
	CHECK(12, blk_open("nosuch") == NULL);
	unsigned char *b = aligned_alloc(4096, (BIG + 1) * SS);
	CHECK(13, b != NULL);
	if (argc > 1 && strcmp(argv[1], "ro") == 0)
		return read_only(b);
	if (argc > 1 && strcmp(argv[1], "after") == 0)
		return after(b);

	CHECK(14, blk_read(disk, 8000, b, 100) == 0);
	CHECK(15, holds(b, 8000, 100, host_byte));
	fill(b, 0, 8);
	CHECK(16, blk_write(disk, 0, b, 8) == 0);
	memset(b, 0, 8 * SS);
	CHECK(17, blk_read(disk, 0, b, 8) == 0 && holds(b, 0, 8, guest_byte));

	fill(b, 100, BIG);
	CHECK(18, blk_write(disk, 100, b, BIG) == 0);
	memset(b, 0, (size_t)BIG * SS);
	CHECK(19, blk_read(disk, 100, b, BIG) == 0);
	CHECK(20, holds(b, 100, BIG, guest_byte));

	for (uintptr_t i = 0; i < FIBERS; i++)
		CHECK(21, sched_spawn(writer, (void *)i, "writer") > 0);
	while (fibers_done < FIBERS)
		sched_yield();
	CHECK(22, fiber_failures == 0);
	CHECK(23, blk_flush(disk) == 0);

	/* Refused by the library, never sent to the host. */
	uint64_t n = blk_sectors(disk);
	CHECK(24, blk_read(disk, n, b, 1) == -EINVAL);
	CHECK(25, blk_read(disk, n - 1, b, 2) == -EINVAL);
	CHECK(26, blk_read(disk, 0, b + 1, 1) == -EINVAL);
	struct blk_stats st;
	blk_stats(disk, &st);
	printf("block_io: ok, %lu reads %lu writes %lu flushes in %lu "
	       "batches\n",
	       (unsigned long)st.reads, (unsigned long)st.writes,
	       (unsigned long)st.flushes, (unsigned long)st.batches);
	CHECK(27, st.errors == 0 && st.flushes == 1);
	return 0;
}
