/* Values of the host's command-line options, parsed the same way on every
 * target.  Each returns NULL, or what is wrong (a usage error). */
#ifndef HOST_OPTION_H
#define HOST_OPTION_H

#include <stdint.h>

/* --mem: "64M" -> bytes, K, M and G being powers of two; a multiple of
 * 4 KiB in [min, max]. */
const char *host_parse_size(const char *s, uint64_t min, uint64_t max,
			    uint64_t *bytes);

#endif
