/* A minimal check harness for unit-test images: each failed check prints
 * one line; check_done() prints the tally and gives the exit status. */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <stdio.h>

static unsigned check_count, check_failed;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		check_count++;                                                 \
		if (!(cond)) {                                                 \
			check_failed++;                                        \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);            \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

static inline int check_done(const char *name)
{
	printf("%s: %u checks, %u failed\n", name, check_count, check_failed);
	return check_failed ? 1 : 0;
}

#endif
