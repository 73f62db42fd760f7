/* key=value files, one pair a line, written atomically: see cli.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int kv_read(struct kv *kv, const char *path)
{
	kv->n = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = 0;
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = 0;
		kv_add(kv, line, eq + 1);
	}
	free(line);
	fclose(f);
	return 0;
}

const char *kv_get(const struct kv *kv, const char *key)
{
	for (int i = 0; i < kv->n; i++)
		if (strcmp(kv->key[i], key) == 0)
			return kv->val[i];
	return NULL;
}

long long kv_num(const struct kv *kv, const char *key, long long def)
{
	const char *v = kv_get(kv, key);
	if (!v || !*v)
		return def;
	char *end;
	long long n = strtoll(v, &end, 10);
	return *end ? def : n;
}

void kv_add(struct kv *kv, const char *key, const char *val)
{
	if (kv->n == KV_MAX) {
		cli_err("internal: too many keys (%s)", key);
		abort();
	}
	kv->key[kv->n] = strdup(key);
	kv->val[kv->n] = strdup(val);
	if (!kv->key[kv->n] || !kv->val[kv->n])
		abort();
	kv->n++;
}

void kv_set(struct kv *kv, const char *key, const char *val)
{
	for (int i = 0; i < kv->n; i++)
		if (strcmp(kv->key[i], key) == 0) {
			char *v = strdup(val);
			if (!v)
				abort();
			free(kv->val[i]);
			kv->val[i] = v;
			return;
		}
	kv_add(kv, key, val);
}

void kv_setf(struct kv *kv, const char *key, const char *fmt, ...)
{
	char buf[CLI_PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	kv_set(kv, key, buf);
}

void kv_free(struct kv *kv)
{
	for (int i = 0; i < kv->n; i++) {
		free(kv->key[i]);
		free(kv->val[i]);
	}
	kv->n = 0;
}

int kv_write(const struct kv *kv, const char *path)
{
	/* A dot file beside it, which listings skip. */
	char tmp[CLI_PATH_MAX + 32];
	const char *slash = strrchr(path, '/');
	int dir = slash ? (int)(slash - path + 1) : 0;
	snprintf(tmp, sizeof tmp, "%.*s.%s.%d.tmp", dir, path, path + dir,
		 (int)getpid());
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -errno;
	for (int i = 0; i < kv->n; i++)
		fprintf(f, "%s=%s\n", kv->key[i], kv->val[i]);
	int err = fflush(f) || fsync(fileno(f)) ? -errno : 0;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
