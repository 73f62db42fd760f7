/*
 * The heap allocator, over the boot info's heap range.
 *
 * Blocks carry a boundary tag: a 16-byte header before the payload (size,
 * flags and a check word), and, while free, the size again in their last
 * word, so a freed block merges with free neighbours on both sides.  Free
 * blocks sit in segregated lists: exact 16-byte classes up to 1 KiB (O(1)
 * for the common small sizes), then one list per power of two, searched
 * first-fit; a bitmap finds the next non-empty list.  Memory is taken from
 * the untouched top of the heap only when no list can serve, so pages the
 * guest never needed stay untouched (and cost nothing on KVM).
 *
 * The check word (size, address and a per-boot secret mixed) catches a
 * corrupted header and a double free; both abort, naming the address.
 */
#include <ingot/abi.h>
#include <ingot/libc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN      16
#define HDR        16
#define MIN_BLOCK  48 /* header, two list links, footer */
#define INUSE      1u
#define PREV_INUSE 2u
#define FLAGS      (INUSE | PREV_INUSE)

#define SMALL_LIMIT 1024
#define NSMALL      (SMALL_LIMIT / ALIGN) /* classes 0..63, by size / 16 */
#define NBINS       (NSMALL + 54)         /* then one per power of two */

struct block {
	size_t head;               /* size | flags */
	size_t check;              /* head ^ address ^ secret */
	struct block *next, *prev; /* while free */
};

static struct {
	bool ready;
	uintptr_t top, end; /* [top, end) has never been handed out */
	size_t secret;
	struct block *bins[NBINS];
	uint64_t nonempty[(NBINS + 63) / 64];
	struct libc_heap_stats stats;
} heap;

static size_t block_size(const struct block *b)
{
	return b->head & ~(size_t)FLAGS;
}

static struct block *block_of(void *p)
{
	return (struct block *)((char *)p - HDR);
}

static void *payload(struct block *b)
{
	return (char *)b + HDR;
}

static struct block *next_block(struct block *b)
{
	return (struct block *)((char *)b + block_size(b));
}

static void set_head(struct block *b, size_t head)
{
	b->head = head;
	b->check = head ^ (uintptr_t)b ^ heap.secret;
}

static _Noreturn void heap_abort(const char *what, const void *p)
{
	char msg[96];
	int n = snprintf(msg, sizeof msg, "malloc: %s %p", what, p);
	ingot_abort(msg, n);
}

static void verify(const struct block *b, const void *p)
{
	if ((uintptr_t)b < ingot_boot_info()->heap_start ||
	    (uintptr_t)b >= heap.top || (uintptr_t)b % ALIGN)
		heap_abort("free of a pointer it never returned:", p);
	if (b->check != (b->head ^ (uintptr_t)b ^ heap.secret))
		heap_abort("corrupted block header at", p);
}

static void set_footer(struct block *b)
{
	*(size_t *)((char *)b + block_size(b) - sizeof(size_t)) = block_size(b);
}

static unsigned bin_of(size_t size)
{
	if (size < SMALL_LIMIT)
		return size / ALIGN;
	unsigned log = 63 - __builtin_clzl(size); /* >= 10 */
	unsigned bin = NSMALL + log - 10;
	return bin < NBINS ? bin : NBINS - 1;
}

static void bin_insert(struct block *b)
{
	unsigned i = bin_of(block_size(b));
	b->prev = NULL;
	b->next = heap.bins[i];
	if (b->next)
		b->next->prev = b;
	heap.bins[i] = b;
	heap.nonempty[i / 64] |= 1ULL << (i % 64);
	heap.stats.free_bytes += block_size(b);
}

static void bin_remove(struct block *b)
{
	unsigned i = bin_of(block_size(b));
	if (b->prev)
		b->prev->next = b->next;
	else
		heap.bins[i] = b->next;
	if (b->next)
		b->next->prev = b->prev;
	if (!heap.bins[i])
		heap.nonempty[i / 64] &= ~(1ULL << (i % 64));
	heap.stats.free_bytes -= block_size(b);
}

static void init(void)
{
	const struct ingot_boot_info *bi = ingot_boot_info();
	heap.top = (bi->heap_start + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
	heap.end = (bi->heap_start + bi->heap_size) & ~(uintptr_t)(ALIGN - 1);
	heap.secret = bi->random_seed * 0x9e3779b97f4a7c15ULL | 1;
	heap.ready = true;
}

/*
 * Frees [b, b + size): merges it with free neighbours, then files it, or
 * gives it back to the top when it ends there.  A free block therefore
 * never borders the top or another free block.
 */
static void release(struct block *b, size_t size, unsigned prev_inuse)
{
	if (!prev_inuse) {
		size_t psize = *(size_t *)((char *)b - sizeof(size_t));
		struct block *prev = (struct block *)((char *)b - psize);
		verify(prev, prev);
		bin_remove(prev);
		prev_inuse = prev->head & PREV_INUSE;
		size += psize;
		b = prev;
	}
	struct block *n = (struct block *)((char *)b + size);
	if ((uintptr_t)n == heap.top) {
		heap.top = (uintptr_t)b;
		return;
	}
	verify(n, n);
	if (!(n->head & INUSE)) {
		bin_remove(n);
		size += block_size(n);
		n = (struct block *)((char *)b + size);
	}
	set_head(b, size | prev_inuse);
	set_footer(b);
	set_head(n, n->head & ~(size_t)PREV_INUSE);
	bin_insert(b);
}

/* Cuts the in-use block b down to size, freeing the rest if it is worth a
 * block of its own. */
static void trim(struct block *b, size_t size)
{
	size_t total = block_size(b);
	if (total - size < MIN_BLOCK)
		return;
	set_head(b, size | (b->head & FLAGS));
	release(next_block(b), total - size, PREV_INUSE);
}

/* The first non-empty list at or after bin i, or -1. */
static int next_nonempty(unsigned i)
{
	for (unsigned w = i / 64; w < sizeof heap.nonempty / 8; w++) {
		uint64_t bits = heap.nonempty[w];
		if (w == i / 64)
			bits &= ~0ULL << (i % 64);
		if (bits)
			return w * 64 + __builtin_ctzll(bits);
	}
	return -1;
}

static struct block *take_from_bins(size_t size)
{
	unsigned i = bin_of(size);
	struct block *b = heap.bins[i];

	/* An exact class fits; in a power-of-two list, look for a fit. */
	if (i >= NSMALL)
		while (b && block_size(b) < size)
			b = b->next;
	if (!b) {
		/* Every block in a later list is larger than size. */
		int j = i + 1 < NBINS ? next_nonempty(i + 1) : -1;
		if (j < 0)
			return NULL;
		b = heap.bins[j];
	}
	bin_remove(b);
	return b;
}

static struct block *take_from_top(size_t size)
{
	if (heap.end - heap.top < size)
		return NULL;
	struct block *b = (struct block *)heap.top;
	heap.top += size;
	/* The block below the top is always in use (free ones merge into
	 * the top), hence PREV_INUSE. */
	set_head(b, size | PREV_INUSE);
	return b;
}

static size_t block_for(size_t n)
{
	if (n > SIZE_MAX / 2)
		return 0;
	size_t size = (n + HDR + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	return size < MIN_BLOCK ? MIN_BLOCK : size;
}

void *malloc(size_t n)
{
	size_t size = block_for(n);

	if (!heap.ready)
		init();
	if (!size)
		return NULL;
	struct block *b = take_from_bins(size);
	if (b) {
		set_head(b, b->head | INUSE);
		struct block *nb = next_block(b);
		if ((uintptr_t)nb < heap.top)
			set_head(nb, nb->head | PREV_INUSE);
		trim(b, size);
	} else {
		b = take_from_top(size);
		if (!b)
			return NULL;
		set_head(b, b->head | INUSE);
	}
	heap.stats.in_use_bytes += block_size(b);
	heap.stats.allocations++;
	return payload(b);
}

void free(void *p)
{
	if (!p)
		return;
	struct block *b = block_of(p);
	verify(b, p);
	if (!(b->head & INUSE))
		heap_abort("double free of", p);
	size_t size = block_size(b);
	heap.stats.in_use_bytes -= size;
	heap.stats.allocations--;
	/* Marked free even if merged away below, so that a second free of
	 * the same pointer is recognised. */
	set_head(b, b->head & ~(size_t)INUSE);
	release(b, size, b->head & PREV_INUSE);
}

void *calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *p = malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *realloc(void *p, size_t n)
{
	if (!p)
		return malloc(n);
	struct block *b = block_of(p);
	verify(b, p);
	if (!(b->head & INUSE))
		heap_abort("realloc of freed block", p);
	size_t size = block_for(n), have = block_size(b);
	if (!size)
		return NULL;
	if (size <= have) {
		heap.stats.in_use_bytes -= have;
		trim(b, size);
		heap.stats.in_use_bytes += block_size(b);
		return p;
	}
	/* Grow in place into the top of the heap. */
	if ((uintptr_t)next_block(b) == heap.top &&
	    heap.end - heap.top >= size - have) {
		heap.top += size - have;
		set_head(b, size | (b->head & FLAGS));
		heap.stats.in_use_bytes += size - have;
		return p;
	}
	void *q = malloc(n);
	if (q) {
		memcpy(q, p, have - HDR);
		free(p);
	}
	return q;
}

void *aligned_alloc(size_t align, size_t n)
{
	if (align <= ALIGN)
		return malloc(n);
	if (align & (align - 1) || n > SIZE_MAX / 2 || align > SIZE_MAX / 4)
		return NULL;
	/* Room to move the payload up to the boundary, leaving a whole free
	 * block (or nothing) in front of it. */
	char *p = malloc(n + align + MIN_BLOCK);
	if (!p)
		return NULL;
	struct block *b = block_of(p);
	uintptr_t want = ((uintptr_t)p + MIN_BLOCK + align - 1) & ~(align - 1);
	if ((uintptr_t)p % align == 0)
		want = (uintptr_t)p;
	if (want != (uintptr_t)p) {
		struct block *a = block_of((void *)want);
		size_t lead = (char *)a - (char *)b, total = block_size(b);
		unsigned prev_inuse = b->head & PREV_INUSE;
		set_head(a, (total - lead) | INUSE | PREV_INUSE);
		heap.stats.in_use_bytes -= lead;
		release(b, lead, prev_inuse);
		b = a;
	}
	heap.stats.in_use_bytes -= block_size(b);
	trim(b, block_for(n));
	heap.stats.in_use_bytes += block_size(b);
	return payload(b);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || align & (align - 1))
		return 22; /* EINVAL */
	void *p = aligned_alloc(align, n);
	if (!p)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}

void libc_heap_stats(struct libc_heap_stats *s)
{
	if (!heap.ready)
		init();
	*s = heap.stats;
	s->untouched_bytes = heap.end - heap.top;
	s->largest_free = heap.end - heap.top;
	for (unsigned i = 0; i < NBINS; i++)
		for (struct block *b = heap.bins[i]; b; b = b->next)
			if (block_size(b) > s->largest_free)
				s->largest_free = block_size(b);
}
