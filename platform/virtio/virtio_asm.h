/* Constants platform/virtio's assembly shares with its C. */
#ifndef PLATFORM_VIRTIO_ASM_H
#define PLATFORM_VIRTIO_ASM_H

#include <ingot/abi_kvm.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* Selectors of both GDTs (the entry's and the image's). */
#define PVH_SEL_CODE   0x08
#define PVH_SEL_DATA   0x10
#define VIRTIO_SEL_TSS 0x18
/* The guest's own after the seal: CPL 3. */
#define VIRTIO_SEL_UDATA 0x2b
#define VIRTIO_SEL_UCODE 0x33

/* The stack the entry runs virtio_boot on, in the image's .bss. */
#define VIRTIO_EARLY_STACK (16 * 1024)

/* Physical addresses: the PVH entry's segment, then the image (tools/ldgen.c).
 */
#define VIRTIO_PVH_BASE       0x100000
#define VIRTIO_PVH_IMAGE_BASE 0x110000

/* Interrupt vectors: the CPU's 32 exceptions, the timer's, then one per
 * virtio device (virtio_dev.h's VIRTIO_DEVS_MAX), and the APIC's spurious
 * one, the highest (the IDT ends there); its low four bits are ones, as
 * older APICs require. */
#define VIRTIO_VECTORS         32
#define VIRTIO_TIMER_VECTOR    32
#define VIRTIO_DEVICE_VECTOR   33
#define VIRTIO_DEVICE_VECTORS  16
#define VIRTIO_SPURIOUS_VECTOR 0x3f

#endif
