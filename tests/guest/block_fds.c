/*
 * On the hosted target, after the seal, raw system calls on the
 * descriptors the allowlist reserves for block devices (116..131): the
 * device "disk" (handle 0, attached read-only by the test) reads with
 * pread64 and refuses pwrite64 (EBADF: opened read-only); every other
 * number is closed (EBADF), whatever the process inherited there.  Prints
 * what went through; exits 0 if only the read did.
 */
#include <ingot/abi.h>
#include <stdio.h>

INGOT_DEVICE(INGOT_DEVICE_BLOCK, disk);

static char buf[512] __attribute__((aligned(512)));

static long sys4(long nr, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

int ingot_main(int argc, char **argv)
{
	int through = 0;
	for (long fd = 116; fd < 116 + INGOT_DEVICES_MAX; fd++) {
		long r = sys4(17 /* pread64 */, fd, (long)buf, 512, 0);
		long w = sys4(18 /* pwrite64 */, fd, (long)buf, 512, 0);
		if (r >= 0 || w >= 0)
			printf("fd %ld: pread64 %ld, pwrite64 %ld\n", fd, r, w);
		through += (r >= 0) + (w >= 0);
		if (fd == 116 && (r != 512 || w != -9))
			return 1;
	}
	printf("%d of %d calls went through\n", through, 2 * INGOT_DEVICES_MAX);
	return through != 1;
}
