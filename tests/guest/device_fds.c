/*
 * After the seal, writes to the file descriptors the hosted target's
 * allowlist reserves for network devices (100..115) with raw system calls:
 * with no device attached, each must fail (EBADF), whatever the process
 * inherited at those numbers.  Exits 0 if all failed.  (On kvm `syscall`
 * is an invalid opcode: the guest faults.)
 */
#include <ingot/abi.h>
#include <stdio.h>

int ingot_main(int argc, char **argv)
{
	static const char text[] = "written by the sealed guest\n";
	int written = 0;
	for (long fd = 100; fd < 100 + INGOT_DEVICES_MAX; fd++) {
		long ret;
		__asm__ volatile("syscall"
				 : "=a"(ret)
				 : "a"(1L), "D"(fd), "S"(text),
				   "d"(sizeof text - 1)
				 : "rcx", "r11", "memory");
		if (ret >= 0) {
			printf("write(%ld) returned %ld\n", fd, ret);
			written++;
		}
	}
	printf("%d of %d writes went through\n", written, INGOT_DEVICES_MAX);
	return written != 0;
}
