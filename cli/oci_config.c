/* A bundle's config.json (the OCI runtime specification's), read with
 * json-c: the image, its arguments, the network namespace, the memory. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci.h"

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static int read_args(json_object *process, const char *root,
		     struct oci_config *c)
{
	json_object *args = get(process, "args");
	size_t n = args && json_object_is_type(args, json_type_array)
		       ? json_object_array_length(args)
		       : 0;
	if (n == 0) {
		oci_err("config.json: process.args is empty: the image's "
			"ENTRYPOINT or CMD must name the .kvm file");
		return -1;
	}
	if (n > CLI_ARGS_MAX - 8) {
		oci_err("config.json: more than %d process.args",
			CLI_ARGS_MAX - 8);
		return -1;
	}
	const char *image =
	    json_object_get_string(json_object_array_get_idx(args, 0));
	if (!image || image[0] != '/' || strstr(image, "..")) {
		oci_err("config.json: process.args[0] '%s' is not an "
			"absolute path in the image",
			image ? image : "");
		return -1;
	}
	snprintf(c->image, sizeof c->image, "%s%s", root, image);
	size_t len = strlen(c->image);
	if (len < 4 || strcmp(c->image + len - 4, ".kvm") != 0) {
		c->delegate = true;
		return 0;
	}
	if (access(c->image, R_OK) < 0) {
		oci_err("%s: not a readable ingot kvm image (the container's "
			"command must be the image's .kvm file)",
			image);
		return -1;
	}
	for (size_t i = 1; i < n; i++) {
		const char *a =
		    json_object_get_string(json_object_array_get_idx(args, i));
		c->args[c->nargs++] = strdup(a ? a : "");
	}
	return 0;
}

static void read_netns(json_object *linux_, struct oci_config *c)
{
	json_object *nss = get(linux_, "namespaces");
	size_t n = nss && json_object_is_type(nss, json_type_array)
		       ? json_object_array_length(nss)
		       : 0;
	/* No network namespace listed: the runtime's own (as runc). */
	snprintf(c->netns, sizeof c->netns, "-");
	for (size_t i = 0; i < n; i++) {
		json_object *ns = json_object_array_get_idx(nss, i);
		const char *type = json_object_get_string(get(ns, "type"));
		if (!type || strcmp(type, "network") != 0)
			continue;
		const char *path = json_object_get_string(get(ns, "path"));
		snprintf(c->netns, sizeof c->netns, "%s", path ? path : "");
	}
}

static void read_mem(json_object *linux_, struct oci_config *c)
{
	json_object *mem =
	    get(get(get(linux_, "resources"), "memory"), "limit");
	int64_t limit = mem ? json_object_get_int64(mem) : 0;
	/* The guest gets the limit less room for the monitor itself. */
	if (limit >= (64 << 20)) {
		int64_t mib = limit / (1 << 20) - 16;
		if (mib > 4096)
			mib = 4096;
		snprintf(c->mem, sizeof c->mem, "%lldM", (long long)mib);
	}
}

int oci_config_read(const char *bundle, struct oci_config *c)
{
	char path[CLI_PATH_MAX + 16], root[CLI_PATH_MAX];
	memset(c, 0, sizeof *c);
	snprintf(path, sizeof path, "%s/config.json", bundle);
	json_object *cfg = json_object_from_file(path);
	if (!cfg) {
		oci_err("%s: %s", path,
			access(path, R_OK) < 0 ? strerror(errno)
					       : "not valid JSON");
		return -1;
	}
	int rc = -1;
	json_object *process = get(cfg, "process");
	const char *rpath =
	    json_object_get_string(get(get(cfg, "root"), "path"));
	if (!process || !rpath) {
		oci_err("%s: no process or root.path", path);
		goto out;
	}
	if (rpath[0] == '/')
		snprintf(root, sizeof root, "%s", rpath);
	else
		snprintf(root, sizeof root, "%s/%s", bundle, rpath);
	if (read_args(process, root, c) < 0)
		goto out;
	if (!c->delegate && json_object_get_boolean(get(process, "terminal"))) {
		oci_err("a terminal was asked for (-t): an ingot guest's "
			"console is a plain stream; run without -t");
		goto out;
	}
	read_netns(get(cfg, "linux"), c);
	read_mem(get(cfg, "linux"), c);
	rc = 0;
out:
	json_object_put(cfg);
	return rc;
}

void oci_config_free(struct oci_config *c)
{
	for (int i = 0; i < c->nargs; i++)
		free(c->args[i]);
	c->nargs = 0;
}
