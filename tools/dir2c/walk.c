/* dir2c: the tree under the root, its names checked as URL paths. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/http/media.h"
#include "dir2c.h"

/* Longer paths would not fit the server's request line. */
#define URL_PATH_MAX 1024

static char root_real[PATH_MAX];

/* Bytes of a well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const uint8_t *p)
{
	if (p[0] < 0x80)
		return 1;
	size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	if (!n || p[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

/* A name must reach the server as itself: no byte a request could not
 * carry decoded, none the server would take as a delimiter or an escape,
 * no dot-segment (RFC 3986 5.2.4 removes them). */
static void check_name(const char *src, const char *name)
{
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		fail(src, "a dot-segment cannot be a URL path segment");
	for (const uint8_t *p = (const uint8_t *)name; *p;) {
		if (*p < 0x20 || *p == 0x7f)
			fail(src, "control character 0x%02x in a name", *p);
		if (strchr("%?#\\", *p))
			fail(src, "'%c' in a name cannot be in a URL path", *p);
		size_t n = utf8_len(p);
		if (!n)
			fail(src, "a name that is not UTF-8");
		p += n;
	}
}

static void read_file(struct site *s, struct file *f, int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		fail(f->src, "cannot stat: %s", strerror(errno));
	if ((uint64_t)st.st_size > s->max - s->total)
		fail(f->src,
		     "the tree is over the limit of %llu bytes (-m) with "
		     "this file's %lld",
		     (unsigned long long)s->max, (long long)st.st_size);
	f->len = (size_t)st.st_size;
	f->mtime = st.st_mtime;
	f->data = xrealloc(NULL, f->len + 1);
	size_t got = 0;
	while (got < f->len) {
		ssize_t r = read(fd, f->data + got, f->len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fail(f->src, "cannot read: %s", strerror(errno));
		if (r == 0)
			fail(f->src,
			     "changed while read (shorter than its size)");
		got += (size_t)r;
	}
	s->total += f->len;
}

static struct file *add(struct site *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->files = xrealloc(s->files, s->cap * sizeof *s->files);
	}
	struct file *f = &s->files[s->n++];
	*f = (struct file){0};
	return f;
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = xrealloc(NULL, la + lb + 2);
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

/* Symlinks are followed to regular files inside the tree (served as a copy
 * of their target) and refused otherwise: leaving the tree would publish
 * what the site's author did not put in it, and a link to a directory can
 * loop. */
static void check_link(const char *src)
{
	char real[PATH_MAX];
	if (!realpath(src, real))
		fail(src, "a symlink that cannot be followed: %s",
		     strerror(errno));
	size_t rl = strlen(root_real);
	if (strncmp(real, root_real, rl) != 0 || real[rl] != '/')
		fail(src, "a symlink leaving the tree (to %s)", real);
	struct stat st;
	if (stat(real, &st) != 0)
		fail(src, "cannot stat: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		fail(src, "a symlink to a directory (not followed: it could "
			  "loop)");
}

static void walk_dir(struct site *s, const char *src, const char *url)
{
	DIR *d = opendir(src);
	if (!d)
		fail(src, "cannot read directory: %s", strerror(errno));
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *path = join(src, e->d_name);
		check_name(path, e->d_name);
		char *u = join(url, e->d_name);
		if (strlen(u) > URL_PATH_MAX)
			fail(path, "a URL path longer than %d bytes",
			     URL_PATH_MAX);
		struct stat st;
		if (lstat(path, &st) != 0)
			fail(path, "cannot stat: %s", strerror(errno));
		if (S_ISLNK(st.st_mode))
			check_link(path);
		else if (S_ISDIR(st.st_mode)) {
			walk_dir(s, path, u);
			free(path);
			free(u);
			errno = 0;
			continue;
		} else if (!S_ISREG(st.st_mode))
			fail(path, "not a regular file, directory or symlink");
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fail(path, "cannot read: %s", strerror(errno));
		struct file *f = add(s);
		f->src = path;
		f->path = u;
		read_file(s, f, fd);
		close(fd);
		f->id = s->n - 1;
		f->type = http_media_type(u, &f->compressible);
		compress_file(f);
		errno = 0;
	}
	if (errno)
		fail(src, "cannot read directory: %s", strerror(errno));
	closedir(d);
}

static int cmp_path(const void *a, const void *b)
{
	const struct file *x = a, *y = b;
	return http_path_cmp(x->path, (uint32_t)strlen(x->path), y->path,
			     (uint32_t)strlen(y->path));
}

static int cmp_fold(const void *a, const void *b)
{
	const struct file *const *x = a, *const *y = b;
	return strcasecmp((*x)->path, (*y)->path);
}

/* Two paths equal but for ASCII case would be one file on a
 * case-insensitive file system, and a site that depends on the
 * difference breaks when copied there: refused. */
static void check_collisions(const struct site *s)
{
	const struct file **v = xrealloc(NULL, (s->n + 1) * sizeof *v);
	for (size_t i = 0; i < s->n; i++)
		v[i] = &s->files[i];
	qsort(v, s->n, sizeof *v, cmp_fold);
	for (size_t i = 1; i < s->n; i++)
		if (strcasecmp(v[i - 1]->path, v[i]->path) == 0)
			fail(v[i]->src, "collides with %s when case is ignored",
			     v[i - 1]->src);
	free(v);
}

void walk_tree(struct site *s, const char *root)
{
	struct stat st;
	if (stat(root, &st) != 0)
		fail(root, "cannot stat: %s", strerror(errno));
	if (!S_ISDIR(st.st_mode))
		fail(root, "not a directory");
	if (!realpath(root, root_real))
		fail(root, "cannot resolve: %s", strerror(errno));
	walk_dir(s, root, "");
	size_t n = s->n;
	for (size_t i = 0; i < n; i++) {
		const char *p = s->files[i].path;
		size_t l = strlen(p);
		if (l < 11 || strcmp(p + l - 11, "/index.html") != 0)
			continue;
		struct file *a = add(s);
		*a = s->files[i];
		a->path = xrealloc(NULL, l - 9);
		memcpy(a->path, p, l - 10);
		a->path[l - 10] = 0;
		a->index = true;
	}
	check_collisions(s);
	qsort(s->files, s->n, sizeof *s->files, cmp_path);
	/* Arrays named in path order, not the file system's, so the same
	 * tree gives the same C. */
	size_t *id = xrealloc(NULL, (n + 1) * sizeof *id), k = 0;
	for (size_t i = 0; i < s->n; i++)
		if (!s->files[i].index)
			id[s->files[i].id] = k++;
	for (size_t i = 0; i < s->n; i++)
		s->files[i].id = id[s->files[i].id];
	free(id);
}
