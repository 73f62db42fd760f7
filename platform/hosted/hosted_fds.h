/* File descriptors the hosted target's seccomp allowlist names: the
 * console, and each network device's backend at a fixed number (moved
 * there before the seal) so that the build-time filter can allow it. */
#ifndef PLATFORM_HOSTED_FDS_H
#define PLATFORM_HOSTED_FDS_H

#define HOSTED_FD_STDOUT 1
#define HOSTED_FD_STDERR 2
#define HOSTED_NET_FD_BASE 100 /* device handle h: HOSTED_NET_FD_BASE + h */

#endif
