/* Images: what IMAGE names, and the programs that boot it. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The directory this binary is in (build/), for its siblings. */
static const char *self_dir(void)
{
	static char dir[CLI_PATH_MAX];
	if (!dir[0]) {
		ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
		if (n < 0)
			n = 0;
		dir[n] = 0;
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
	}
	return dir;
}

const char *img_monitor(void)
{
	static char path[CLI_PATH_MAX + 16];
	const char *env = getenv("INGOT_MONITOR");
	if (env && *env)
		return env;
	snprintf(path, sizeof path, "%s/ingot-kvm", self_dir());
	return path;
}

const char *img_root(void)
{
	static char root[CLI_PATH_MAX];
	const char *env = getenv("INGOT_ROOT");
	if (env && *env)
		return env;
	snprintf(root, sizeof root, "%s", self_dir());
	char *slash = strrchr(root, '/');
	if (slash)
		*slash = 0;
	return root;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_elf(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0;
	close(fd);
	return ok;
}

int img_resolve(const char *image, char *path, size_t size, const char **target)
{
	/* A bare app name is that app's build: kvm where /dev/kvm exists. */
	if (!strchr(image, '/') && access(image, F_OK) < 0) {
		bool kvm = access("/dev/kvm", F_OK) == 0;
		snprintf(path, size, "%s/%s/%s%s", self_dir(),
			 kvm ? "kvm" : "hosted", image, kvm ? ".kvm" : "");
		if (access(path, F_OK) < 0) {
			cli_err("no image '%s': not a file, and %s was not "
				"built (ingot build %s%s)",
				image, path, image,
				kvm ? "" : " --target hosted");
			return -1;
		}
	} else {
		if (!realpath(image, path)) {
			cli_err("image %s: %s", image, strerror(errno));
			return -1;
		}
	}
	if (!is_elf(path)) {
		cli_err("%s is not an ingot image (an ELF file built by "
			"`ingot build`)",
			path);
		return -1;
	}
	if (has_suffix(path, ".virtio")) {
		cli_err("%s is a virtio image: it boots on QEMU (README: the "
			"virtio target), not under ingot run; use the .kvm or "
			"hosted build of the app",
			path);
		return -1;
	}
	if (has_suffix(path, ".kvm")) {
		*target = "kvm";
		if (access(img_monitor(), X_OK) < 0) {
			cli_err("the monitor %s is missing (run make, or set "
				"INGOT_MONITOR)",
				img_monitor());
			return -1;
		}
		return 0;
	}
	if (access(path, X_OK) < 0) {
		cli_err("%s is neither a kvm image (*.kvm) nor an executable "
			"hosted image",
			path);
		return -1;
	}
	*target = "hosted";
	return 0;
}
