/* --block NAME=FILE[,ro]: the option's syntax, checked before anything is
 * opened (see block.h). */
#include <stdio.h>
#include <string.h>

#include "block.h"
#include "block_dev.h"

struct host_block_dev host_block_devs[INGOT_DEVICES_MAX];
unsigned host_block_ndevs;

static char error[256];

static const char *fail(const char *spec, const char *why)
{
	snprintf(error, sizeof error, "--block %s: %s", spec, why);
	return error;
}

static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

const char *host_block_option(char *spec)
{
	struct host_block_dev *d = &host_block_devs[host_block_ndevs];
	char *eq = strchr(spec, '=');

	if (host_block_ndevs == INGOT_DEVICES_MAX)
		return fail(spec, "too many --block options");
	if (!eq) {
		snprintf(error, sizeof error,
			 "--block wants " HOST_BLOCK_SYNTAX ", not '%s'", spec);
		return error;
	}
	size_t nlen = (size_t)(eq - spec);
	if (!nlen || nlen > INGOT_DEVICE_NAME_MAX)
		return fail(spec, "a device's name is 1 to 31 characters");
	if (strspn(spec, name_chars) < nlen)
		return fail(spec, "a device's name is letters, digits and _ "
				  "(as in the image)");
	memcpy(d->name, spec, nlen);
	d->name[nlen] = '\0';
	for (unsigned i = 0; i < host_block_ndevs; i++)
		if (strcmp(host_block_devs[i].name, d->name) == 0)
			return fail(spec, "that device is given twice");

	/* A file name may hold commas: only a final ",ro" is an option. */
	char *path = eq + 1;
	size_t plen = strlen(path);
	d->ro = plen >= 3 && strcmp(path + plen - 3, ",ro") == 0;
	if (d->ro)
		plen -= 3;
	if (!plen)
		return fail(spec, "no file given");
	path[plen] = '\0'; /* argv's text, cut in place: no length limit */
	d->path = path;
	d->handle = -1;
	d->fd = -1;
	host_block_ndevs++;
	return NULL;
}
