/* ingot net: networks (a Linux bridge, on the host or in a namespace) and
 * the tap devices guests are attached to them by. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Bridge names are "ingot-" + the network's name, within IFNAMSIZ. */
#define NET_NAME_MAX 9

static const char net_help[] =
    "usage: ingot net create NAME [--netns NS] [--addr ADDR/PREFIX]\n"
    "       ingot net delete NAME\n"
    "       ingot net ls [--json]\n"
    "A network is a Linux bridge, ingot-NAME, that guests started with\n"
    "`ingot run --net NAME` join, each by a tap device of its own.\n"
    "  --netns NS          make the bridge inside network namespace NS\n"
    "                      (made if missing, and then deleted with the "
    "network)\n"
    "  --addr ADDR/PREFIX  give the bridge this address (the host's side)\n"
    "NAME is 1 to 9 letters, digits, '_', '.' or '-'.\n";

static void net_file(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/nets/%s", st_dir(), name);
}

int net_lookup(const char *name, struct cli_net *net)
{
	char path[CLI_PATH_MAX + 16];
	struct kv kv = {0};
	net_file(path, sizeof path, name);
	if (kv_read(&kv, path) < 0)
		return -ENOENT;
	snprintf(net->name, sizeof net->name, "%s", name);
	snprintf(net->netns, sizeof net->netns, "%s",
		 kv_get(&kv, "netns") ? kv_get(&kv, "netns") : "");
	snprintf(net->bridge, sizeof net->bridge, "%s",
		 kv_get(&kv, "bridge") ? kv_get(&kv, "bridge") : "");
	kv_free(&kv);
	return 0;
}

int net_tap_create(const char *ns, const char *dev, const char *bridge)
{
	if (cli_link_exists(ns, dev)) {
		cli_err("a network device %s exists already%s%s (delete it, or "
			"choose another --tap)",
			dev, ns && *ns ? " in namespace " : "", ns ? ns : "");
		return -1;
	}
	if (cli_ip(ns, CLI_QUIET, "tuntap", "add", "dev", dev, "mode", "tap",
		   NULL))
		return -1;
	/* The guest's only buffer for frames that arrive while it is busy,
	 * sized before any arrive (host/net_backend.c). */
	if (cli_ip(ns, CLI_QUIET, "link", "set", dev, "txqueuelen", "8192",
		   NULL) ||
	    (bridge && cli_ip(ns, CLI_QUIET, "link", "set", dev, "master",
			      bridge, NULL)) ||
	    cli_ip(ns, CLI_QUIET, "link", "set", dev, "up", NULL)) {
		net_tap_delete(ns, dev);
		return -1;
	}
	return 0;
}

void net_tap_delete(const char *ns, const char *dev)
{
	cli_ip(ns, CLI_SILENT, "link", "del", dev, NULL);
}

static int net_create(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"netns", required_argument, NULL, 'n'},
	    {"addr", required_argument, NULL, 'a'},
	    {0},
	};
	const char *netns = "", *addr = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			netns = optarg;
		else if (c == 'a')
			addr = optarg;
		else
			return cli_usage_err("net", "unknown option '%s'",
					     argv[optind - 1]);
	}
	if (optind != argc - 1)
		return cli_usage_err("net", "create takes one NAME");
	const char *name = argv[optind];
	if (!cli_valid_name(name) || strlen(name) > NET_NAME_MAX)
		return cli_usage_err("net", "'%s' is not a network name", name);
	if (*netns && !cli_valid_name(netns))
		return cli_usage_err("net", "'%s' is not a namespace name",
				     netns);

	int lock = st_lock();
	struct cli_net old;
	if (net_lookup(name, &old) == 0) {
		cli_err("network %s exists already (ingot net ls lists them)",
			name);
		return 1;
	}
	struct kv kv = {0};
	char bridge[16];
	snprintf(bridge, sizeof bridge, "ingot-%s", name);
	bool made_ns = false;
	if (*netns && !cli_netns_exists(netns)) {
		if (cli_ip(NULL, CLI_QUIET, "netns", "add", netns, NULL))
			goto fail;
		made_ns = true;
		cli_ip(netns, CLI_QUIET, "link", "set", "lo", "up", NULL);
	}
	if (cli_link_exists(netns, bridge)) {
		cli_err("a network device %s exists already (delete it first)",
			bridge);
		goto fail_ns;
	}
	if (cli_ip(netns, CLI_QUIET, "link", "add", bridge, "type", "bridge",
		   NULL))
		goto fail_ns;
	if ((addr && cli_ip(netns, CLI_QUIET, "addr", "add", addr, "dev",
			    bridge, NULL)) ||
	    cli_ip(netns, CLI_QUIET, "link", "set", bridge, "up", NULL))
		goto fail_bridge;
	kv_set(&kv, "netns", netns);
	kv_set(&kv, "bridge", bridge);
	kv_set(&kv, "addr", addr ? addr : "");
	kv_set(&kv, "made_netns", made_ns ? "1" : "0");
	char path[CLI_PATH_MAX + 16];
	net_file(path, sizeof path, name);
	if (kv_write(&kv, path) < 0) {
		cli_err("cannot write %s: %s", path, strerror(errno));
		goto fail_bridge;
	}
	kv_free(&kv);
	close(lock);
	printf("%s\n", name);
	return 0;
fail_bridge:
	cli_ip(netns, CLI_SILENT, "link", "del", bridge, NULL);
fail_ns:
	if (made_ns)
		cli_ip(NULL, CLI_SILENT, "netns", "del", netns, NULL);
fail:
	kv_free(&kv);
	return 1;
}

/* The guests on network name whose supervisors live. */
static int users(const char *name, char *list, size_t size)
{
	char **names;
	int n = st_list("guests", &names), count = 0;
	list[0] = 0;
	for (int i = 0; i < n; i++) {
		struct kv config = {0}, state = {0};
		if (st_read(names[i], &config, &state) == 0 &&
		    strcmp(kv_get(&state, "status"), "exited") != 0 &&
		    kv_get(&config, "network") &&
		    strcmp(kv_get(&config, "network"), name) == 0) {
			size_t len = strlen(list);
			snprintf(list + len, size - len, "%s%s",
				 count ? ", " : "", names[i]);
			count++;
		}
		kv_free(&config);
		kv_free(&state);
	}
	st_names_free(names, n);
	return count;
}

static int net_delete(int argc, char **argv)
{
	if (argc != 2)
		return cli_usage_err("net", "delete takes one NAME");
	const char *name = argv[1];
	int lock = st_lock();
	char path[CLI_PATH_MAX + 16];
	struct kv kv = {0};
	net_file(path, sizeof path, name);
	if (!cli_valid_name(name) || kv_read(&kv, path) < 0) {
		cli_err("no network %s (ingot net ls lists them)", name);
		return 1;
	}
	char list[512];
	if (users(name, list, sizeof list)) {
		cli_err("network %s is in use by %s (ingot stop them first)",
			name, list);
		kv_free(&kv);
		return 1;
	}
	const char *netns = kv_get(&kv, "netns");
	cli_ip(netns, CLI_SILENT, "link", "del", kv_get(&kv, "bridge"), NULL);
	if (kv_num(&kv, "made_netns", 0))
		cli_ip(NULL, CLI_QUIET, "netns", "del", netns, NULL);
	unlink(path);
	kv_free(&kv);
	close(lock);
	return 0;
}

static int net_ls(int argc, char **argv)
{
	char **names;
	int n = st_list("nets", &names);
	if (cli_json)
		printf("[");
	else
		printf("%-10s %-16s %-16s %s\n", "NAME", "BRIDGE", "NETNS",
		       "ADDR");
	for (int i = 0; i < n; i++) {
		struct kv kv = {0};
		char path[CLI_PATH_MAX + 16];
		net_file(path, sizeof path, names[i]);
		if (kv_read(&kv, path) < 0)
			continue;
		const char *ns = kv_get(&kv, "netns");
		if (cli_json)
			printf("%s{\"name\":\"%s\",\"bridge\":\"%s\","
			       "\"netns\":\"%s\",\"addr\":\"%s\"}",
			       i ? "," : "", names[i], kv_get(&kv, "bridge"),
			       ns, kv_get(&kv, "addr"));
		else
			printf("%-10s %-16s %-16s %s\n", names[i],
			       kv_get(&kv, "bridge"), *ns ? ns : "(host)",
			       kv_get(&kv, "addr"));
		kv_free(&kv);
	}
	if (cli_json)
		printf("]\n");
	st_names_free(names, n);
	return 0;
}

int cmd_net(int argc, char **argv)
{
	if (argc < 2 || cli_help(2, argv, net_help)) {
		if (argc < 2)
			return cli_usage_err("net", "create, delete or ls?");
		return 0;
	}
	if (cli_help(argc, argv, net_help))
		return 0;
	if (st_init() < 0)
		return 1;
	if (strcmp(argv[1], "create") == 0)
		return net_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "delete") == 0 || strcmp(argv[1], "rm") == 0)
		return net_delete(argc - 1, argv + 1);
	if (strcmp(argv[1], "ls") == 0)
		return net_ls(argc - 1, argv + 1);
	return cli_usage_err("net", "'%s' is not create, delete or ls",
			     argv[1]);
}
