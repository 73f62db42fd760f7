/* Device set-up shared by every kind of device: see device.h. */
#include <string.h>

#include "device.h"
#include "msg.h"
#include "sys.h"

int host_device_handle(const struct ingot_manifest_entry *manifest,
		       unsigned nmanifest, uint32_t type, const char *name)
{
	if (nmanifest > INGOT_DEVICES_MAX)
		nmanifest = INGOT_DEVICES_MAX;
	for (unsigned m = 0; m < nmanifest; m++)
		if (manifest[m].type == type &&
		    strncmp(manifest[m].name, name, sizeof manifest[m].name) ==
			0)
			return (int)m;
	return -1;
}

void host_device_move_fd(int fd, int want, const char *option, const char *name)
{
	if (fd == want)
		return;
	long rc = syscall4(SYS_dup3, fd, want, O_CLOEXEC, 0);
	if (rc < 0)
		host_fail("%s %s: cannot move its descriptor: %s", option, name,
			  strerror((int)-rc));
	syscall3(SYS_close, fd, 0, 0);
}
