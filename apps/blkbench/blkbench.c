/*
 * blkbench: block I/O load on the device "disk" through lib/blk, for
 * bench/blk: FIBERS fibers (one request in flight each) doing 4 KiB
 * requests for SECONDS, then one line:
 *   "blkbench: MODE N ios in T ms: IOPS iops, MBPS MB/s"
 *
 *   ingot-kvm --block disk=FILE build/kvm/blkbench.kvm MODE [SECONDS]
 *       [FIBERS]
 * MODE is randread, randwrite, read or write (sequential).  Writes are
 * not flushed: the comparison is fio's psync with --direct=1 and no fsync.
 */
#include <ingot/abi.h>
#include <ingot/blk.h>
#include <ingot/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

INGOT_DEVICE(INGOT_DEVICE_BLOCK, disk);

#define BS 4096

static struct blk_dev *dev;
static bool writes, sequential;
static uint64_t deadline, ios, next_block, blocks;
static int running, failed;

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void worker(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
	unsigned char *buf = aligned_alloc(BS, BS);
	memset(buf, 0xab, BS);
	while (sched_now() < deadline) {
		uint64_t b =
		    sequential ? next_block++ % blocks : rng(&seed) % blocks;
		uint32_t n = BS / blk_sector_size(dev);
		int rc = writes ? blk_write(dev, b * n, buf, n)
				: blk_read(dev, b * n, buf, n);
		if (rc < 0) {
			failed = rc;
			break;
		}
		ios++;
	}
	running--;
}

int ingot_main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "randread";
	unsigned seconds = argc > 2 ? (unsigned)atoi(argv[2]) : 5;
	int fibers = argc > 3 ? atoi(argv[3]) : 16;
	dev = blk_open("disk");
	if (!dev || !seconds || fibers < 1 || fibers > 64) {
		fprintf(stderr,
			"usage: blkbench randread|randwrite|read|write "
			"[SECONDS] [FIBERS 1-64], with --block disk=FILE\n");
		return 2;
	}
	writes = strstr(mode, "write") != NULL;
	sequential = strncmp(mode, "rand", 4) != 0;
	blocks = blk_sectors(dev) * blk_sector_size(dev) / BS;
	uint64_t start = sched_now();
	deadline = start + seconds * 1000000000ULL;
	for (int i = 0; i < fibers; i++) {
		if (sched_spawn(worker, (void *)(uintptr_t)(i + 1), "io") > 0)
			running++;
	}
	while (running)
		sched_sleep(10000000);
	uint64_t ns = sched_now() - start;
	uint64_t iops = ios * 1000000000ULL / ns;
	uint64_t kbps = iops * BS / 1000;
	printf(
	    "blkbench: %s %llu ios in %llu ms: %llu iops, %llu.%llu MB/s%s\n",
	    mode, (unsigned long long)ios, (unsigned long long)(ns / 1000000),
	    (unsigned long long)iops, (unsigned long long)(kbps / 1000),
	    (unsigned long long)(kbps % 1000 / 100),
	    failed ? " (a request failed)" : "");
	return failed ? 1 : 0;
}
