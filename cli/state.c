/* The run directory: guest records, their locks and their states. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static char run_dir[CLI_PATH_MAX];

void st_set_dir(const char *dir)
{
	if (strlen(dir) > CLI_PATH_MAX / 2) {
		cli_err("the run directory %s is too long (at most %d bytes)",
			dir, CLI_PATH_MAX / 2);
		exit(2);
	}
	snprintf(run_dir, sizeof run_dir, "%s", dir);
}

const char *st_dir(void)
{
	if (run_dir[0])
		return run_dir;
	const char *env = getenv("INGOT_RUN_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (env && *env)
		st_set_dir(env);
	else if (geteuid() != 0 && xdg && *xdg) {
		char dir[CLI_PATH_MAX];
		snprintf(dir, sizeof dir, "%s/ingot", xdg);
		st_set_dir(dir);
	} else
		st_set_dir("/run/ingot");
	return run_dir;
}

int st_init(void)
{
	char sub[CLI_PATH_MAX + 16];
	const char *dirs[] = {"", "/guests", "/nets"};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		snprintf(sub, sizeof sub, "%s%s", st_dir(), dirs[i]);
		int err = cli_mkdir_p(sub);
		if (err) {
			cli_err("cannot make the run directory %s: %s (set "
				"--run-dir or INGOT_RUN_DIR to one you may "
				"write)",
				sub, strerror(-err));
			return -1;
		}
	}
	return 0;
}

int st_lock(void)
{
	char path[CLI_PATH_MAX + 8];
	snprintf(path, sizeof path, "%s/lock", st_dir());
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		cli_err("cannot lock %s: %s", path, strerror(errno));
		exit(1);
	}
	return fd;
}

void st_path(char *buf, const char *name, const char *file)
{
	snprintf(buf, CLI_PATH_MAX, "%s/guests/%s%s%s", st_dir(), name,
		 file ? "/" : "", file ? file : "");
}

bool st_exists(const char *name)
{
	char path[CLI_PATH_MAX];
	st_path(path, name, NULL);
	return access(path, F_OK) == 0;
}

bool st_alive(const char *name)
{
	char path[CLI_PATH_MAX];
	st_path(path, name, "lock");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool alive = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return alive;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char path[CLI_PATH_MAX * 2];
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

int st_create(const char *name, const struct kv *config)
{
	char tmp[CLI_PATH_MAX], path[CLI_PATH_MAX + 16], final[CLI_PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s/guests/.new-%d", st_dir(), (int)getpid());
	remove_tree(tmp);
	if (mkdir(tmp, 0700) < 0)
		return -errno;
	snprintf(path, sizeof path, "%s/config", tmp);
	int err = kv_write(config, path);
	snprintf(path, sizeof path, "%s/lock", tmp);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && !err)
		err = -errno;
	if (fd >= 0)
		close(fd);
	st_path(final, name, NULL);
	/* rename(2) refuses a non-empty target: the name is taken. */
	if (!err && rename(tmp, final) < 0)
		err = errno == ENOTEMPTY ? -EEXIST : -errno;
	if (err)
		remove_tree(tmp);
	return err;
}

int st_remove(const char *name)
{
	char path[CLI_PATH_MAX], gone[CLI_PATH_MAX + 32];
	st_path(path, name, NULL);
	snprintf(gone, sizeof gone, "%s/guests/.gone-%d", st_dir(),
		 (int)getpid());
	remove_tree(gone);
	if (rename(path, gone) < 0)
		return -errno;
	remove_tree(gone);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int st_list(const char *sub, char ***names)
{
	char path[CLI_PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/%s", st_dir(), sub);
	*names = NULL;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	int n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*names = realloc(*names, cap * sizeof **names);
			if (!*names)
				abort();
		}
		(*names)[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(*names, n, sizeof **names, cmp_names);
	return n;
}

void st_names_free(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int st_read(const char *name, struct kv *config, struct kv *state)
{
	char path[CLI_PATH_MAX];
	st_path(path, name, "config");
	int err = kv_read(config, path);
	if (err)
		return err;
	st_path(path, name, "state");
	if (kv_read(state, path) < 0)
		kv_set(state, "status", "created");
	const char *s = kv_get(state, "status");
	/* Its supervisor is gone (killed, or the machine restarted): whatever
	 * the file says, nothing runs it now. */
	if (strcmp(s, "exited") != 0 && !st_alive(name)) {
		kv_set(state, "status", "exited");
		if (kv_num(state, "exit", -1) < 0)
			kv_set(state, "lost", "1");
	}
	return 0;
}

bool st_log_shows(const char *path, const char *text, off_t *from)
{
	size_t tlen = strlen(text), size = 2 * tlen + 4096;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = malloc(size);
	bool found = false;
	ssize_t n;
	while (fd >= 0 && buf && !found &&
	       (n = pread(fd, buf, size, *from)) >= (ssize_t)tlen) {
		found = memmem(buf, (size_t)n, text, tlen) != NULL;
		*from += n - (off_t)(tlen - 1);
	}
	free(buf);
	if (fd >= 0)
		close(fd);
	return found;
}
