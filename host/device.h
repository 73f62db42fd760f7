/* What setting up any kind of device takes on the host side: finding it
 * in the image's manifest, and putting its descriptor where the seccomp
 * filters expect it (fds.h). */
#ifndef HOST_DEVICE_H
#define HOST_DEVICE_H

#include <ingot/abi.h>

/* The handle (manifest index) of the device of this type and name, or -1
 * if the image declares none.  At most INGOT_DEVICES_MAX entries count. */
int host_device_handle(const struct ingot_manifest_entry *manifest,
		       unsigned nmanifest, uint32_t type, const char *name);

/* Moves fd to descriptor want (unless it is there), closing fd; a failure
 * ends the host (INGOT_EXIT_SETUP), naming option and device. */
void host_device_move_fd(int fd, int want, const char *option,
			 const char *name);

#endif
