/*
 * Ending the guest.  QEMU's isa-debug-exit device (port 0xf4 or 0x501) ends
 * QEMU with status (value << 1) | 1, so the guest's status cannot reach the
 * host unchanged; the mapping (README, "The virtio target"):
 *
 *   guest status s in 0..123     value s + 1   QEMU exits 2s + 3 (3..249)
 *   guest status in 124..249     value 125     QEMU exits 251 (the status
 *                                              is printed on the console)
 *   250 (a status out of range)  value 126     QEMU exits 253
 *   255 (abort, CPU exception)   value 127     QEMU exits 255
 *
 * QEMU's own exit 1 (a bad option, a missing file) is never the guest's,
 * and 0 means the guest stopped without the device (a triple fault under
 * -no-reboot).  Firecracker has no such device: its i8042 reset, the only
 * way out there, carries no status.
 */
#include <stdio.h>

#include "virtio.h"

/* The port the device is usually given, then QEMU's default for it. */
#define DEBUG_EXIT_PORT         0xf4
#define DEBUG_EXIT_PORT_DEFAULT 0x501

/* QEMU's fw_cfg device answers its signature on every machine type. */
static bool on_qemu(void)
{
	static const char sig[] = "QEMU";
	__asm__ volatile("outw %w0, %w1" : : "a"(0), "Nd"(0x510));
	for (int i = 0; i < 4; i++)
		if (inb(0x511) != (uint8_t)sig[i])
			return false;
	return true;
}

void virtio_exit_raw(int status)
{
	uint8_t v = status >= 0 && status <= 123      ? (uint8_t)(status + 1)
		    : status <= 249                   ? 125
		    : status == INGOT_EXIT_BAD_STATUS ? 126
						      : 127;
	outb(DEBUG_EXIT_PORT, v);
	outb(DEBUG_EXIT_PORT_DEFAULT, v);
	/* Still here: QEMU without the device (a reset would reboot it, so
	 * halt), or not QEMU: Firecracker ends on an i8042 reset. */
	if (!on_qemu())
		outb(0x64, 0xfe);
	serial_puts("ingot: no isa-debug-exit device (port 0xf4 or 0x501): "
		    "halted\n");
	for (;;)
		if (virtio_user_mode())
			clock_sleep_once(UINT64_MAX);
		else
			__asm__ volatile("cli\n\thlt");
}

void ingot_exit(int status)
{
	char msg[96];
	if (status < 0 || status > 249) {
		snprintf(msg, sizeof msg,
			 "ingot: the guest asked for exit status %d\n", status);
		serial_puts(msg);
		virtio_exit_raw(INGOT_EXIT_BAD_STATUS);
	}
	if (status > 123) {
		snprintf(msg, sizeof msg,
			 "ingot: exit status %d (QEMU exits 251)\n", status);
		serial_puts(msg);
	}
	virtio_exit_raw(status);
}

void ingot_abort(const char *msg, size_t len)
{
	if (len > 900)
		len = 900;
	serial_puts("ingot: guest aborted: ");
	serial_write(msg, len);
	serial_write("\n", 1);
	virtio_exit_raw(INGOT_EXIT_ABORT);
}
