/*
 * Mounts the tar archive on the block device "archive" (kv_tar) and lists
 * it: "FILE <path> <size> <fnv1a-64 of the contents, hex>" per file, read
 * back in odd-sized pieces, then "kv_tar: N files".  Each argument is a
 * path to look up: "FOUND <path> <normalised>" or "MISSING <path>".  A
 * failed mount prints "kv_tar: error: <why>" and exits 3.
 */
#include <ingot/abi.h>
#include <ingot/blk.h>
#include <ingot/kv.h>
#include <stdio.h>

INGOT_DEVICE(INGOT_DEVICE_BLOCK, archive);

static unsigned char buf[1000];

int ingot_main(int argc, char **argv)
{
	struct blk_dev *d = blk_open("archive");
	struct kv_tar *t;
	char err[200];

	if (!d)
		return 2;
	int rc = kv_tar_mount(d, &t, err, sizeof err);
	if (rc < 0) {
		printf("kv_tar: error: %s (%d)\n", err, rc);
		return 3;
	}
	for (size_t i = 0; i < kv_tar_count(t); i++) {
		const struct kv_tar_file *f = kv_tar_file(t, i);
		uint64_t h = 0xcbf29ce484222325ULL, off = 0;
		long n;
		while ((n = kv_tar_read(t, f, off, buf, sizeof buf)) > 0) {
			for (long k = 0; k < n; k++)
				h = (h ^ buf[k]) * 0x100000001b3ULL;
			off += (uint64_t)n;
		}
		if (n < 0 || off != f->size)
			return 4;
		printf("FILE %s %llu %016llx\n", f->path,
		       (unsigned long long)f->size, (unsigned long long)h);
	}
	printf("kv_tar: %zu files\n", kv_tar_count(t));
	for (int i = 1; i < argc; i++) {
		const struct kv_tar_file *f = kv_tar_find(t, argv[i]);
		if (f)
			printf("FOUND %s %s\n", argv[i], f->path);
		else
			printf("MISSING %s\n", argv[i]);
	}
	return 0;
}
