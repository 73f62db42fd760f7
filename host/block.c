/* The block devices, by handle: see block.h. */
#include <errno.h>
#include <string.h>

#include "block.h"
#include "block_dev.h"
#include "device.h"
#include "fds.h"
#include "msg.h"
#include "sys.h"

static _Noreturn void fail(const struct host_block_dev *d, const char *what,
			   long err)
{
	host_fail("--block %s=%s: %s: %s", d->name, d->path, what,
		  strerror((int)-err));
}

/* O_DIRECT needs buffers and offsets aligned to the file system's block;
 * one sector read into an aligned buffer tells whether sectors are enough
 * (tmpfs refuses O_DIRECT at open, some file systems at the first read). */
static bool direct_works(int fd)
{
	static unsigned char probe[HOST_BLOCK_SECTOR]
	    __attribute__((aligned(4096)));
	long rc;
	do
		rc = syscall4(SYS_pread64, fd, probe, sizeof probe, 0);
	while (rc == -EINTR);
	return rc >= 0;
}

static long open_file(const struct host_block_dev *d, bool direct)
{
	long flags = (d->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	return syscall4(SYS_openat, AT_FDCWD, d->path,
			flags | (direct ? O_DIRECT : 0), 0);
}

/* The file's lock, waiting up to a second for one that a host killed
 * just now still holds: its io_uring's requests in flight keep the file
 * open until they completed, after the process ended. */
static long lock(long fd, bool ro)
{
	enum { SYS_clock_nanosleep = 230 };
	const struct kernel_timespec pause = {0, 10 * 1000 * 1000};
	long rc;
	for (int tries = 0; tries < 100; tries++) {
		rc = syscall3(SYS_flock, fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB,
			      0);
		if (rc != -EAGAIN)
			break;
		syscall4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &pause, 0);
	}
	return rc;
}

static int open_device(struct host_block_dev *d)
{
	long fd = open_file(d, true);
	d->direct = fd >= 0 && direct_works((int)fd);
	if (fd >= 0 && !d->direct)
		syscall3(SYS_close, fd, 0, 0);
	if (!d->direct)
		fd = open_file(d, false);
	if (fd < 0)
		fail(d, "cannot open it", fd);

	struct kernel_stat st;
	long rc = syscall3(SYS_fstat, fd, &st, 0);
	if (rc < 0)
		fail(d, "cannot look at it", rc);
	uint32_t type = st.mode & S_IFMT;
	if (type != S_IFREG && type != S_IFBLK)
		host_fail("--block %s=%s: not a regular file or a block device",
			  d->name, d->path);
	rc = lock(fd, d->ro);
	if (rc == -EAGAIN)
		host_fail("--block %s=%s: another process is using it", d->name,
			  d->path);
	if (rc < 0)
		fail(d, "cannot lock it", rc);
	long size = syscall3(SYS_lseek, fd, 0, 2 /* SEEK_END */);
	if (size < 0)
		fail(d, "cannot find its size", size);
	d->sectors = (uint64_t)size / HOST_BLOCK_SECTOR;
	if (!d->sectors)
		host_fail("--block %s=%s: smaller than one sector (%d bytes): "
			  "make it with truncate -s 64M %s",
			  d->name, d->path, HOST_BLOCK_SECTOR, d->path);
	return (int)fd;
}

void host_block_setup(const struct ingot_manifest_entry *manifest,
		      unsigned nmanifest, host_guest_ptr_fn *guest_ptr)
{
	for (unsigned i = 0; i < host_block_ndevs; i++) {
		struct host_block_dev *d = &host_block_devs[i];
		d->handle = host_device_handle(manifest, nmanifest,
					       INGOT_DEVICE_BLOCK, d->name);
		if (d->handle < 0)
			host_fail("--block %s: the image declares no block "
				  "device of that name",
				  d->name);
		d->fd = HOST_BLOCK_FD_BASE + d->handle;
		host_device_move_fd(open_device(d), d->fd, "--block", d->name);
		d->guest_ptr = guest_ptr;
	}
}

static struct host_block_dev *find(unsigned handle)
{
	for (unsigned i = 0; i < host_block_ndevs; i++)
		if (host_block_devs[i].handle == (int)handle)
			return &host_block_devs[i];
	return NULL;
}

bool host_block_info(unsigned handle, struct ingot_block_info *info)
{
	const struct host_block_dev *d = find(handle);
	if (!d)
		return false;
	*info = (struct ingot_block_info){.sector_size = HOST_BLOCK_SECTOR,
					  .read_only = d->ro,
					  .sectors = d->sectors};
	return true;
}

int host_block_attach(unsigned handle, uint64_t ring_va)
{
	struct host_block_dev *d = find(handle);
	return d ? host_block_ring_attach(d, ring_va) : -ENODEV;
}

uint64_t host_block_service(void)
{
	if (host_block_uring_on())
		return host_block_uring_service();
	uint64_t ready = 0;
	for (unsigned i = 0; i < host_block_ndevs; i++)
		if (host_block_ring_service(&host_block_devs[i]))
			ready |= 1ULL << host_block_devs[i].handle;
	return ready;
}

void host_block_fds(void (*fn)(void *ctx, int fd, bool ro), void *ctx)
{
	for (unsigned i = 0; i < host_block_ndevs; i++)
		fn(ctx, host_block_devs[i].fd, host_block_devs[i].ro);
}

void host_block_report(void)
{
	for (unsigned i = 0; i < host_block_ndevs; i++) {
		const struct host_block_dev *d = &host_block_devs[i];
		const struct host_block_counters *c = &d->count;
		host_msg("block %s (%s%s): %lu reads %lu bytes, %lu writes %lu "
			 "bytes, %lu flushes, %lu errors",
			 d->name, d->direct ? "direct" : "buffered",
			 d->ro ? ", read-only" : "", (unsigned long)c->reads,
			 (unsigned long)c->bytes_read, (unsigned long)c->writes,
			 (unsigned long)c->bytes_written,
			 (unsigned long)c->flushes, (unsigned long)c->errors);
	}
	host_block_uring_report();
}
