/* The POSIX home of the case-insensitive comparisons (also in string.h). */
#include <string.h>
