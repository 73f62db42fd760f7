/*
 * After the seal, writes (writev, the call the allowlist grants them) to the
 * file descriptors the hosted target's allowlist reserves for network
 * devices (100..115) with raw system calls:
 * with no device attached, each must fail (EBADF), whatever the process
 * inherited at those numbers.  Exits 0 if all failed.  (On kvm `syscall`
 * is an invalid opcode: the guest faults.)
 */
#include <ingot/abi.h>
#include <stdio.h>

int ingot_main(int argc, char **argv)
{
	static char text[] = "written by the sealed guest\n";
	struct {
		void *base;
		size_t len;
	} iov = {text, sizeof text - 1};
	int written = 0;
	for (long fd = 100; fd < 100 + INGOT_DEVICES_MAX; fd++) {
		long ret;
		__asm__ volatile("syscall"
				 : "=a"(ret)
				 : "a"(20L), "D"(fd), "S"(&iov), "d"(1L)
				 : "rcx", "r11", "memory");
		if (ret >= 0) {
			printf("writev(%ld) returned %ld\n", fd, ret);
			written++;
		}
	}
	printf("%d of %d writes went through\n", written, INGOT_DEVICES_MAX);
	return written != 0;
}
