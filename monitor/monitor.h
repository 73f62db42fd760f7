/*
 * ingot-kvm internals: the guest being served and the pieces that serve it.
 */
#ifndef MONITOR_H
#define MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include <ingot/abi_kvm.h>

#include "../host/fault.h"

#define MON_MEM_DEFAULT     (32UL << 20)
#define MON_BOOT_STACK_SIZE (128UL << 10)
/* The vCPU's descriptor, fixed so that the seccomp filters can be compiled
 * before it exists (below the network devices', host/fds.h). */
#define MON_VCPU_FD 99

struct image_segment {
	uint64_t paddr, memsz, offset, filesz;
	uint32_t flags; /* ELF_PF_* */
};

#define IMAGE_SEGMENTS_MAX 8

/* A validated image file, kept in memory for symbols and the manifest. */
struct image {
	const char *path;
	unsigned char *file;
	size_t size;
	uint64_t entry;  /* virtual */
	uint64_t offset; /* virtual - physical */
	struct image_segment seg[IMAGE_SEGMENTS_MAX];
	unsigned nseg;
	uint64_t ro_end;   /* physical end of the read-only segments */
	uint64_t rw_start; /* physical start of the writable ones */
	uint64_t end;      /* physical end of the image, page-aligned */
	const struct ingot_manifest_entry *manifest;
	unsigned nmanifest;
	struct elfsym syms;
};

struct guest {
	struct image img;
	unsigned char *mem;
	uint64_t mem_size;
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	bool sealed;
	/* Guest monotonic time 0, on the host's clocks. */
	uint64_t host_mono_at_boot;
	struct ingot_kvm_boot *boot; /* in guest memory */
	/* The layout of the top of memory (abi_kvm.h), physical. */
	uint64_t heap_start, heap_end;
	uint64_t tables_start, tables_next, tables_end;
	uint64_t ist_top;      /* the exception stack's top */
	uint64_t stack_start;  /* the boot stack, up to tables_start */
	uint64_t cr3;          /* the PML4 in use */
	uint64_t next_cr3;     /* the one the seal loads, if any was asked */
	uint64_t tables_built; /* tables below it the guest may have walked */
	unsigned watchdog_s;   /* 0: no watchdog */
	struct {
		uint64_t exits; /* KVM_RUN returns */
	} stats;
};

/* main.c: diagnostics.  mon_fail() is for the host's own failures before
 * the guest runs; mon_stop() ends a running guest that broke the ABI. */
void mon_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void mon_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
_Noreturn void mon_stop(struct guest *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
_Noreturn void mon_exit(int status);
uint64_t mon_now(void); /* CLOCK_MONOTONIC in ns */

/* image.c */
void image_load(struct image *img, const char *path);

/* vm.c */
void vm_create(struct guest *g, uint64_t mem_size, int argc, char **argv);
void vm_seal(struct guest *g);
/* Host pointer to guest-virtual [gva, gva + len), or NULL if that is not
 * all guest memory (writable: all guest-writable memory: image data, heap
 * and boot stack). */
void *vm_guest_ptr(struct guest *g, uint64_t gva, uint64_t len, bool writable);

/* paging.c: the guest's page tables, which only the monitor writes. */
uint64_t paging_tables_needed(const struct guest *g); /* pages, at most */
void paging_build(struct guest *g);
/* Carries out one protection request (abi_kvm.h); NULL, or why it is
 * refused. */
const char *paging_protect(struct guest *g, uint64_t gva, uint64_t len,
			   uint64_t prot);
/* Whether guest-virtual va is mapped for the guest (CPL 3) to read. */
bool paging_user_readable(struct guest *g, uint64_t va);

/* trap.c: the exception stubs and the reports of what reached them. */
void trap_write_stubs(struct guest *g);
_Noreturn void trap_report(struct guest *g);

/* run.c */
_Noreturn void run_guest(struct guest *g);

/* hypercall.c */
void hypercall(struct guest *g, unsigned nr, uint32_t arg_phys);

/* watchdog.c: stops a guest that makes no hypercall for too long.  The
 * time the guest spends waiting on the host (in poll) does not count. */
void watchdog_start(struct guest *g, unsigned seconds);
void watchdog_enter_host(void);
void watchdog_leave_host(void);
bool watchdog_fired(void); /* KVM_RUN was interrupted by the watchdog */

/* devices.c: the network and block devices (host/net.h, --net;
 * host/block.h, --block) of this guest. */
void devices_setup(struct guest *g); /* after image_load */

/* seccomp.c: confinement before the guest runs, tightened at the seal. */
void seccomp_prepare(void); /* once every descriptor is open */
void seccomp_confine(void);
void seccomp_seal(struct guest *g);

#endif
