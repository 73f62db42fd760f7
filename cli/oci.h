/* ingot-oci: the OCI runtime (oci.c, oci_config.c, oci_net.c). */
#ifndef CLI_OCI_H
#define CLI_OCI_H

#include "cli.h"

/* What a bundle's config.json asks for, as far as ingot can give it. */
struct oci_config {
	char image[CLI_PATH_MAX]; /* process.args[0] inside the root */
	char *args[CLI_ARGS_MAX]; /* process.args[1..] */
	int nargs;
	char netns[CLI_PATH_MAX]; /* "" : a new one; "-": the runtime's own */
	char mem[24];             /* --mem from the memory limit, or "" */
	/* Not an ingot image (a pod's pause container): runc runs it. */
	bool delegate;
};

/* Reads bundle/config.json; prints what is wrong and returns -1. */
int oci_config_read(const char *bundle, struct oci_config *c);
void oci_config_free(struct oci_config *c);

/* The container's interface handed to the guest. */
struct oci_link {
	char dev[16];  /* the interface (the CNI's veth), "" if none */
	char mac[18];  /* its MAC: the guest's */
	char addr[48]; /* ADDR/PREFIX */
	char gw[40];   /* the default gateway, or "" */
};

#define OCI_TAP "ingot0"

/* In the container's namespace (the caller is in it): finds the interface
 * with an IPv4 address, makes tap OCI_TAP and joins the two by tc
 * redirects, so every frame of the veth reaches the guest and back.  0
 * with l->dev "" when there is no such interface; -1 after printing why. */
int oci_net_setup(struct oci_link *l);
/* Undoes it inside namespace path (forks; the caller stays). */
void oci_net_teardown(const char *netns_path, const char *dev);

/* `ingot-oci ...`, or `ingot oci ...`. */
int oci_main(int argc, char **argv);
void oci_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
