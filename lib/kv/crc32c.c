/* CRC-32C (Castagnoli), the checksum of the log store's records: bitwise
 * table built on first use, one table lookup per byte. */
#include "log_internal.h"

static uint32_t table[256];

uint32_t kv_crc32c(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
			table[i] = c;
		}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
