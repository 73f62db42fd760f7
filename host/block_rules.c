/* The rules of a block request: see block_rules.h. */
#include <stdio.h>

#include "block_rules.h"

const char *host_block_rule_broken(const struct ingot_block_req *r,
				   const struct host_block_geometry *g)
{
	if (r->op == INGOT_BLOCK_FLUSH)
		return r->count ? "FLUSH with a count" : NULL;
	if (r->op != INGOT_BLOCK_READ && r->op != INGOT_BLOCK_WRITE)
		return "with an unknown op";
	if (r->op == INGOT_BLOCK_WRITE && g->ro)
		return "writing to a read-only device";
	if (!r->count || r->count > INGOT_BLOCK_REQ_SECTORS_MAX(g->sector_size))
		return "with a count out of range";
	if (r->sector > g->sectors || r->count > g->sectors - r->sector)
		return "past the end of the device";
	if (r->addr % g->sector_size)
		return "with a buffer not aligned to a sector";
	return NULL;
}

int host_block_describe(char *buf, size_t len, const char *device,
			const struct ingot_block_req *r,
			const struct host_block_geometry *g)
{
	return snprintf(buf, len,
			"(device %s: op %u, sector %llu, count %u, buffer "
			"0x%llx; %llu sectors%s)",
			device, r->op, (unsigned long long)r->sector, r->count,
			(unsigned long long)r->addr,
			(unsigned long long)g->sectors,
			g->ro ? ", read-only" : "");
}
