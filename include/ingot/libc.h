/*
 * ingot's C library: a freestanding subset, exact to the C standard where
 * it provides a function.  What exists: <string.h> (mem*, str*, strlcpy,
 * strdup, strtok_r), <ctype.h>, <stdlib.h> (malloc family, strto*, atoi,
 * abs, qsort, bsearch, exit, abort), <stdio.h> (printf family to stdout and
 * stderr, puts, fputs, fwrite, fflush; no input, no files, no floating
 * point), <errno.h> (Linux numbers), <assert.h>, <inttypes.h>.
 * This header adds what C lacks.
 */
#ifndef INGOT_LIBC_H
#define INGOT_LIBC_H

#include <stddef.h>

struct libc_heap_stats {
	size_t in_use_bytes;    /* in allocated blocks, headers included */
	size_t free_bytes;      /* in freed blocks awaiting reuse */
	size_t untouched_bytes; /* never handed out yet */
	size_t largest_free;    /* the largest block malloc could return */
	size_t allocations;     /* blocks currently allocated */
};

void libc_heap_stats(struct libc_heap_stats *s);

#endif
