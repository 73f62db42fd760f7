/* dir2c [-o OUT.c] [-m MAX_BYTES] ROOT: see dir2c.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dir2c.h"

void fail(const char *path, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "dir2c: out of memory\n");
		exit(1);
	}
	return p;
}

static int usage(void)
{
	fprintf(stderr, "usage: dir2c [-o OUT.c] [-m MAX_BYTES] ROOT\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *out_path = NULL;
	struct site s = {.max = DIR2C_MAX_BYTES};
	int i = 1;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-o") == 0) {
			out_path = argv[i + 1];
		} else if (strcmp(argv[i], "-m") == 0) {
			char *end;
			errno = 0;
			s.max = strtoull(argv[i + 1], &end, 0);
			if (errno || *end || end == argv[i + 1] ||
			    s.max > UINT32_MAX) {
				fprintf(stderr,
					"dir2c: -m %s: expected a number of "
					"bytes below 4 GiB\n",
					argv[i + 1]);
				return 2;
			}
		} else {
			return usage();
		}
	}
	if (i + 1 != argc)
		return usage();
	walk_tree(&s, argv[i]);

	/* Nothing is written before the whole tree is checked. */
	FILE *out = out_path ? fopen(out_path, "w") : stdout;
	if (!out) {
		perror(out_path);
		return 1;
	}
	emit_site(out, &s, argv[i]);
	if (ferror(out) || (out != stdout && fclose(out) != 0)) {
		perror(out_path ? out_path : "dir2c: stdout");
		return 1;
	}
	return 0;
}
