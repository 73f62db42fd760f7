/*
 * The console: COM1, a 16550 polled without interrupts.  Every port access
 * is a VM exit, so bytes go out 16 at a time (the FIFO's depth) with one
 * `rep outsb`, which KVM hands to QEMU in a single exit, after one status
 * read that says the FIFO is empty.
 */
#include <string.h>

#include "virtio.h"

#define COM1     0x3f8
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define FIFO     16

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);    /* no interrupts */
	outb(COM1 + UART_LCR, 0x03); /* 8N1; the speed means nothing here */
	outb(COM1 + UART_FCR, 0x07); /* FIFO on, both cleared */
	outb(COM1 + UART_MCR, 0x03);
}

void serial_write(const char *buf, size_t len)
{
	while (len) {
		size_t n = len < FIFO ? len : FIFO;
		/* Bounded: a UART that never drains (none attached reads
		 * 0xff, which passes) must not hang the guest. */
		for (int i = 0; i < 1000000; i++)
			if (inb(COM1 + UART_LSR) & LSR_THRE)
				break;
		const char *p = buf;
		size_t c = n;
		__asm__ volatile("rep outsb"
				 : "+S"(p), "+c"(c)
				 : "d"((uint16_t)COM1)
				 : "memory");
		buf += n;
		len -= n;
	}
}

void serial_puts(const char *s)
{
	serial_write(s, strlen(s));
}

int ingot_console_write(const char *buf, size_t len)
{
	serial_write(buf, len);
	return 0;
}
