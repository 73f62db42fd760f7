/* File descriptor numbers the host side fixes, so that a seccomp filter
 * built before they exist (the hosted target's, at build time) can name
 * them: the console, each network device's backend and each block
 * device's file. */
#ifndef HOST_FDS_H
#define HOST_FDS_H

#define HOST_FD_STDOUT   1
#define HOST_FD_STDERR   2
#define HOST_NET_FD_BASE 100 /* device handle h: HOST_NET_FD_BASE + h */
#define HOST_BLOCK_FD_BASE                                                     \
	116 /* block device handle h: HOST_BLOCK_FD_BASE + h */

#endif
