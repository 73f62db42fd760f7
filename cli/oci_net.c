/*
 * The container's network, handed to the guest: the interface the CNI
 * (or whoever made the namespace) set up keeps its MAC and address, but
 * tc redirects every frame that arrives on it to a tap, and every frame
 * the guest sends on the tap out of it, as Kata's "tcfilter" mode does.
 * The guest takes the interface's MAC, address and gateway, so for the
 * peers nothing changed: the container's IP answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci.h"

/* The JSON ip(8) prints for args (a fixed command: no shell input). */
static json_object *ip_json(const char *args)
{
	char cmd[128], buf[65536];
	snprintf(cmd, sizeof cmd, "ip -j %s 2>/dev/null", args);
	FILE *f = popen(cmd, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	pclose(f);
	buf[n] = 0;
	return json_tokener_parse(buf);
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v)
						     : NULL;
}

/* The first interface but lo with an IPv4 address. */
static void find_link(struct oci_link *l)
{
	json_object *links = ip_json("addr show");
	size_t n = links ? json_object_array_length(links) : 0;
	for (size_t i = 0; i < n && !l->dev[0]; i++) {
		json_object *link = json_object_array_get_idx(links, i), *ai;
		const char *name = str(link, "ifname"),
			   *mac = str(link, "address");
		if (!name || !mac || strcmp(name, "lo") == 0 ||
		    strcmp(name, OCI_TAP) == 0 ||
		    !json_object_object_get_ex(link, "addr_info", &ai) ||
		    json_object_array_length(ai) == 0)
			continue;
		for (size_t j = 0; j < json_object_array_length(ai); j++) {
			json_object *a = json_object_array_get_idx(ai, j),
				    *plen;
			const char *family = str(a, "family"),
				   *local = str(a, "local");
			if (!family || strcmp(family, "inet") != 0 || !local ||
			    !json_object_object_get_ex(a, "prefixlen", &plen))
				continue;
			snprintf(l->dev, sizeof l->dev, "%s", name);
			snprintf(l->mac, sizeof l->mac, "%s", mac);
			snprintf(l->addr, sizeof l->addr, "%s/%d", local,
				 json_object_get_int(plen));
			break;
		}
	}
	json_object_put(links);
	json_object *routes = ip_json("-4 route show default");
	if (routes && json_object_array_length(routes) > 0) {
		const char *gw =
		    str(json_object_array_get_idx(routes, 0), "gateway");
		snprintf(l->gw, sizeof l->gw, "%s", gw ? gw : "");
	}
	json_object_put(routes);
}

/* tc: frames arriving on from leave by to. */
static int redirect(const char *from, const char *to)
{
	char *qdisc[] = {"tc",         "qdisc",   "add", "dev",
			 (char *)from, "ingress", NULL};
	char *filter[] = {"tc",     "filter", "add",      "dev", (char *)from,
			  "parent", "ffff:",  "protocol", "all", "u32",
			  "match",  "u32",    "0",        "0",   "action",
			  "mirred", "egress", "redirect", "dev", (char *)to,
			  NULL};
	return cli_exec(CLI_QUIET, qdisc) || cli_exec(CLI_QUIET, filter) ? -1
									 : 0;
}

int oci_net_setup(struct oci_link *l)
{
	memset(l, 0, sizeof *l);
	find_link(l);
	if (!l->dev[0])
		return 0;
	if (cli_ip(NULL, CLI_QUIET, "tuntap", "add", "dev", OCI_TAP, "mode",
		   "tap", NULL) ||
	    cli_ip(NULL, CLI_QUIET, "link", "set", OCI_TAP, "up", NULL) ||
	    redirect(l->dev, OCI_TAP) || redirect(OCI_TAP, l->dev)) {
		oci_err("cannot hand %s to the guest by tap %s and tc "
			"redirects (iproute2's tc, and the kernel's u32 and "
			"mirred, are needed)",
			l->dev, OCI_TAP);
		return -1;
	}
	return 0;
}

void oci_net_teardown(const char *netns_path, const char *dev)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(netns_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(1);
		cli_ip(NULL, CLI_SILENT, "link", "del", OCI_TAP, NULL);
		char *tc[] = {"tc",        "qdisc",   "del", "dev",
			      (char *)dev, "ingress", NULL};
		cli_exec(CLI_SILENT, tc);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}
