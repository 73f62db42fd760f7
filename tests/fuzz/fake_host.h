/* The fuzz harnesses' fake platform (fake_host.c). */
#ifndef TESTS_FUZZ_FAKE_HOST_H
#define TESTS_FUZZ_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <ingot/sched.h>

extern uint64_t fake_now; /* monotonic time, moved by the harness */
extern struct sched_poller *fake_poller; /* the stack's device poller */

/* Runs the timers that are due at fake_now. */
void fake_fire_timers(void);
/* What a host does with the rings: sends (drops) every TX frame. */
void fake_host_drains_tx(void);
/* Fills the next posted RX buffer with frame (cut to the buffer). */
void fake_deliver(const uint8_t *frame, size_t len);
/* The same on interface dev, with a partial checksum (csum_start not 0)
 * as a host marks a frame that never left it (abi.h). */
void fake_deliver_on(unsigned dev, const uint8_t *frame, size_t len,
		     uint16_t csum_start, uint16_t csum_offset);
/* Buffers the host holds, posted for frames to come. */
unsigned fake_rx_posted(void);

#endif
