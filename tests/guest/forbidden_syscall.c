/*
 * Makes a system call outside the hosted target's seccomp allowlist (openat).
 * Hosted: the process is stopped with "forbidden system call".  On kvm the
 * `syscall` instruction has no kernel to go to: it is an invalid opcode
 * (EFER.SCE is off) and the guest faults.
 */
#include <ingot/abi.h>
#include <stdio.h>

int ingot_main(int argc, char **argv)
{
	long ret;
	printf("opening /etc/passwd\n");
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(257L), "D"(-100L), "S"("/etc/passwd"), "d"(0L)
			 : "rcx", "r11", "memory");
	printf("openat returned %ld\n", ret);
	return 1;
}
