/*
 * The head of every datagram bench/forward's sender sends, by which its
 * sink tells them from anything else arriving on the port.
 */
#ifndef BENCH_FORWARD_FLOOD_H
#define BENCH_FORWARD_FLOOD_H

#include <stdint.h>

#define FLOOD_MAGIC 0x666c6f6f64u /* "flood" */

struct flood_tag {
	uint64_t magic;
	uint64_t seq;
};

#endif
