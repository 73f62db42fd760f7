/* Errors of the build-time compilers (zone2c, rules2c): each names the
 * file and line being read, and ends the build. */
#ifndef TOOLS_COMMON_DIAG_H
#define TOOLS_COMMON_DIAG_H

#include <stddef.h>

extern const char *cur_file;
extern unsigned cur_line;
/* Prints "cur_file:cur_line: " and the message, exits 1. */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* realloc, or exit 1 when memory runs out. */
void *xrealloc(void *p, size_t n);

#endif
