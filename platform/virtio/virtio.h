/* platform/virtio internals. */
#ifndef PLATFORM_VIRTIO_H
#define PLATFORM_VIRTIO_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio_asm.h"

/* From the linker script (tools/ldgen.c, target virtio). */
extern const char __ingot_offset[], __rodata_start[], __data_start[],
    __image_end[];

struct virtio {
	struct ingot_boot_info info;
	uint64_t offset;  /* virtual - physical */
	uint64_t ram_end; /* physical end of the RAM the guest uses */
	/* CPUID leaf 1, read once: each cpuid is an exit (tens of us). */
	uint32_t cpuid1[4];
	bool sealed;
};
extern struct virtio virtio;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* virtio_serial.c: COM1, polled. */
void serial_init(void);
void serial_write(const char *buf, size_t len);
void serial_puts(const char *s);

/* virtio_paging.c: the guest's own tables (4 KiB pages throughout).
 * paging_init builds them from physical memory [image end, ram_end) and
 * returns the first free physical address after them. */
uint64_t paging_init(uint64_t image_end_phys, uint64_t ram_end,
		     uintptr_t *boot_stack_top, uintptr_t *ist_top);
void paging_protect(uintptr_t va, size_t len, enum ingot_prot prot);
void paging_seal(const void *desc_page);
bool paging_mapped(uintptr_t va, size_t len);
/* One uncached page; user: reachable after the seal (a device's
 * registers), else the CPU's alone (APIC, IOAPIC). */
void *paging_map_device(uint64_t phys, bool user);

/* virtio_trap.c: descriptor tables and fault reports. */
void trap_init(uintptr_t ist_top);
void trap_seal(void);

/* virtio_clock.c: kvmclock or a calibrated TSC, and the LAPIC timer.
 * clock_init leaves the APIC alone until apic_start, which the first
 * sleep calls, or the devices' setup before they may interrupt. */
void clock_init(void);
void apic_start(void);
/* One hlt, until the deadline or an interrupt; false (at once) if the
 * deadline has passed. */
bool clock_sleep_once(uint64_t deadline_ns);

/* Whether the guest runs at CPL 3 (after the seal, virtio_enter_user). */
static inline bool virtio_user_mode(void)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

/* trap.S: from the seal on, the guest runs at CPL 3. */
void virtio_enter_user(void);

/* What the sleep call (trap.S) runs at CPL 0: arms the timer with v (0:
 * not at all), then hlt with interrupts on. */
void clock_halt(uint64_t v);
void virtio_sleep_call(uint64_t v);

/* virtio_exit.c: isa-debug-exit. */
_Noreturn void virtio_exit_raw(int status);

/* Raw physical -> virtual, for memory the tables map. */
static inline void *phys_to_virt(uint64_t phys)
{
	return (void *)(uintptr_t)(phys + virtio.offset);
}

static inline uint64_t virt_to_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p - virtio.offset;
}

/* virtio_switch.S */
_Noreturn void virtio_switch_stack(uintptr_t top, void (*fn)(void));

#endif
