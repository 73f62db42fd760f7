/*
 * Operator requests, which QEMU cannot pass on as ingot-kvm passes SIGTERM
 * and SIGUSR1: a byte on the console's input (QEMU's -serial stdio) asks
 * for one, `q` to stop cleanly, `r` for a report; other bytes are ignored.
 * COM1's receive interrupt (ISA IRQ 4, GSI 4 on microvm and q35) wakes a
 * sleeping guest; a busy one takes it at its next sleep, as it takes the
 * devices' interrupts.  Only an image with devices listens: it has the
 * APIC running already, and a server is what an operator talks to.
 */
#include "virtio.h"
#include "virtio_dev.h"

#define COM1     0x3f8
#define UART_IER 1
#define UART_MCR 4
#define UART_LSR 5
#define IER_RX   0x01
#define MCR_OUT2 0x08 /* connects the UART's line to the interrupt */
#define LSR_DR   0x01
#define COM1_GSI 4
#define RX_BURST 64 /* bytes read per turn: each read is an exit */

static uint64_t asked; /* INGOT_READY_ bits not yet handed back */
static bool more;      /* a burst left bytes: read on at the next turn */

void operator_setup(void)
{
	virtio_ioapic_route(COM1_GSI,
			    VIRTIO_DEVICE_VECTOR + VIRTIO_CONSOLE_IRQ);
	outb(COM1 + UART_MCR, 0x03 | MCR_OUT2);
	outb(COM1 + UART_IER, IER_RX);
}

/* The line is edge-triggered and drops only once the FIFO is empty, so the
 * FIFO is read until empty, a burst per turn of the poll loop. */
static void drain(void)
{
	for (int i = 0; i < RX_BURST; i++) {
		if (!(inb(COM1 + UART_LSR) & LSR_DR)) {
			more = false;
			return;
		}
		uint8_t c = inb(COM1);
		if (c == 'q')
			asked |= INGOT_READY_STOP;
		else if (c == 'r')
			asked |= INGOT_READY_REPORT;
	}
	more = true;
}

void operator_woken(uint32_t pending)
{
	if (pending & (1u << VIRTIO_CONSOLE_IRQ))
		drain();
}

uint64_t operator_take(void)
{
	if (more)
		drain();
	uint64_t r = asked;
	asked = 0;
	return r;
}
