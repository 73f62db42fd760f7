/* The boot benchmarks' clock and sort (launch.c, first_answer.c). */
#ifndef BENCH_BOOT_TIMING_H
#define BENCH_BOOT_TIMING_H

#include <time.h>

static inline double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#endif
