/* The Internet checksum (RFC 1071): a ones'-complement sum of 16-bit
 * words, accumulated in 32 bits and folded at the end. */
#include "net_internal.h"

uint32_t net_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;
	for (; len >= 8; p += 8, len -= 8) {
		s += (uint32_t)get16(p) + get16(p + 2) + get16(p + 4) +
		     get16(p + 6);
	}
	for (; len >= 2; p += 2, len -= 2)
		s += get16(p);
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	/* Keep 32 bits without losing carries: fold once into 17 bits. */
	s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

uint16_t net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t net_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
			 uint32_t len)
{
	uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) +
		     (dst & 0xffff) + proto + len;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}
