/*
 * Force-included into all guest code.  An image is one static ELF linked at
 * a fixed address far above 2 GiB, so every symbol is hidden: the compiler
 * then addresses each one directly (RIP-relative) instead of through a GOT
 * entry, which a non-PIE link at such an address cannot always resolve.
 */
#pragma GCC visibility push(hidden)
