/* zone2c: a zone laid out as lib/dns/zone.h says, written as C. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zone2c.h"

/* --- layout --------------------------------------------------------------- */

struct node {
	struct name name;
	size_t first, n; /* records, sorted by type */
	uint8_t flags;
};

static struct node *nodes;
static size_t nnodes, nodes_cap;

static struct node *find_node(const struct name *n)
{
	for (size_t i = 0; i < nnodes; i++)
		if (name_equal(&nodes[i].name, n))
			return &nodes[i];
	return NULL;
}

static struct node *add_node(const struct name *n)
{
	struct node *x = find_node(n);
	if (x)
		return x;
	if (nnodes == nodes_cap) {
		nodes_cap = nodes_cap ? 2 * nodes_cap : 256;
		nodes = xrealloc(nodes, nodes_cap * sizeof *nodes);
	}
	x = &nodes[nnodes++];
	*x = (struct node){.name = *n};
	return x;
}

static int cmp_node(const void *a, const void *b)
{
	const struct node *x = a, *y = b;
	return x->name.len != y->name.len
		   ? (int)x->name.len - (int)y->name.len
		   : memcmp(x->name.wire, y->name.wire, x->name.len);
}

static void emit_bytes(FILE *out, const uint8_t *p, size_t n, size_t *col)
{
	for (size_t i = 0; i < n; i++) {
		if (*col % 16 == 0)
			fputs("\n\t", out);
		fprintf(out, "%u,", p[i]);
		(*col)++;
	}
}

void emit_zone(FILE *out, unsigned zi, struct zone *z)
{
	nnodes = 0;
	/* Nodes: every owner and every ancestor up to the apex. */
	for (size_t i = 0; i < z->nrrs; i++) {
		struct name n = z->rrs[i].owner;
		struct node *x = add_node(&n);
		if (!x->n)
			x->first = i;
		x->n++;
		while (!name_equal(&n, &z->origin)) {
			n = name_parent(&n);
			add_node(&n);
		}
	}
	qsort(nodes, nnodes, sizeof *nodes, cmp_node);

	size_t col = 0, data_len = 0;
	fprintf(out, "static const uint8_t z%u_data[] = {", zi);
	size_t *name_off = calloc(nnodes, sizeof *name_off);
	for (size_t i = 0; i < nnodes; i++) {
		name_off[i] = data_len;
		emit_bytes(out, nodes[i].name.wire, nodes[i].name.len, &col);
		data_len += nodes[i].name.len;
	}
	/* RRsets: each node's records grouped by type. */
	size_t nrrsets = 0, rrsets_cap = 256;
	struct dns_rrset *rrsets = malloc(rrsets_cap * sizeof *rrsets);
	uint16_t *node_rrset = calloc(nnodes, sizeof *node_rrset);
	uint8_t *node_nrrsets = calloc(nnodes, 1);
	for (size_t i = 0; i < nnodes; i++) {
		struct node *x = &nodes[i];
		node_rrset[i] = (uint16_t)nrrsets;
		if (nrrsets > 65000) {
			cur_file = z->file;
			cur_line = 0;
			fail("expected at most 65000 RRsets per zone");
		}
		/* The node's RRsets in the order the file first gives them
		 * (what NSD does too, which matters for ANY). */
		size_t groups[256], ngroups = 0;
		for (size_t k = x->first; k < x->first + x->n; k++)
			if ((k == x->first ||
			     z->rrs[k].type != z->rrs[k - 1].type) &&
			    ngroups < 256)
				groups[ngroups++] = k;
		for (size_t a = 1; a < ngroups; a++)
			for (size_t b = a;
			     b > 0 &&
			     z->rrs[groups[b]].seq < z->rrs[groups[b - 1]].seq;
			     b--) {
				size_t t = groups[b];
				groups[b] = groups[b - 1];
				groups[b - 1] = t;
			}
		for (size_t g = 0; g < ngroups; g++) {
			size_t k = groups[g];
			struct record *r = &z->rrs[k];
			if (nrrsets == rrsets_cap)
				rrsets = xrealloc(rrsets, (rrsets_cap *= 2) *
							      sizeof *rrsets);
			struct dns_rrset *set = &rrsets[nrrsets++];
			*set = (struct dns_rrset){.type = r->type,
						  .ttl = r->ttl,
						  .rdata = (uint32_t)data_len};
			size_t end = k;
			while (end < x->first + x->n &&
			       z->rrs[end].type == r->type)
				end++;
			for (size_t j = k; j < end; j++) {
				struct record *rr = &z->rrs[j];
				bool dup = false;
				for (size_t m = k; m < j; m++)
					dup |=
					    z->rrs[m].rdlen == rr->rdlen &&
					    memcmp(z->rrs[m].rdata, rr->rdata,
						   rr->rdlen) == 0;
				if (dup)
					continue; /* an RRset is a set (RFC 2181
						     5) */
				if (rr->ttl < set->ttl)
					set->ttl =
					    rr->ttl; /* one TTL per RRset */
				uint8_t len[2] = {(uint8_t)(rr->rdlen >> 8),
						  (uint8_t)rr->rdlen};
				emit_bytes(out, len, 2, &col);
				emit_bytes(out, rr->rdata, rr->rdlen, &col);
				data_len += 2 + rr->rdlen;
				set->count++;
			}
			if (r->type == DNS_TYPE_NS &&
			    !name_equal(&x->name, &z->origin))
				x->flags |= DNS_NODE_CUT;
			node_nrrsets[i]++;
		}
	}
	fprintf(out, "\n};\n\n");

	fprintf(out, "static const struct dns_rrset z%u_rrsets[] = {\n", zi);
	for (size_t i = 0; i < nrrsets; i++)
		fprintf(out, "\t{%u, %u, %u, %u},\n", rrsets[i].type,
			rrsets[i].count, rrsets[i].ttl, rrsets[i].rdata);
	if (!nrrsets)
		fprintf(out, "\t{0, 0, 0, 0},\n");
	fprintf(out, "};\n\n");

	size_t apex = 0;
	fprintf(out, "static const struct dns_node z%u_nodes[] = {\n", zi);
	for (size_t i = 0; i < nnodes; i++) {
		char text[1024];
		name_text(&nodes[i].name, text);
		if (name_equal(&nodes[i].name, &z->origin))
			apex = i;
		fprintf(out, "\t{%zu, %u, %u, %u}, /* %s */\n", name_off[i],
			node_rrset[i], node_nrrsets[i], nodes[i].flags, text);
	}
	fprintf(out, "};\n\n");

	size_t slots = 16;
	while (slots < 2 * nnodes)
		slots *= 2;
	uint32_t *hash = calloc(slots, sizeof *hash);
	for (size_t i = 0; i < nnodes; i++) {
		uint32_t h =
		    dns_name_hash(nodes[i].name.wire, nodes[i].name.len);
		while (hash[h & (slots - 1)])
			h++;
		hash[h & (slots - 1)] = (uint32_t)i + 1;
	}
	fprintf(out, "static const uint32_t z%u_hash[] = {", zi);
	for (size_t i = 0; i < slots; i++)
		fprintf(out, "%s%u,", i % 16 ? " " : "\n\t", hash[i]);
	fprintf(out, "\n};\n\n");
	fprintf(out,
		"#define Z%u {z%u_data, z%u_nodes, z%u_rrsets, z%u_hash, %zu, "
		"%zu, %zu}\n\n",
		zi, zi, zi, zi, zi, slots - 1, apex, nnodes);
	free(hash);
	free(name_off);
	free(rrsets);
	free(node_rrset);
	free(node_nrrsets);
}
