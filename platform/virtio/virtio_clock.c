/*
 * Time and sleep.  The clock is kvmclock where the hypervisor offers it
 * (KVM), else the TSC calibrated once against the PIT (TCG); either costs
 * one rdtsc per read, which traps on nested KVM (~30 us), so the scheduler
 * reads it once per turn, as on the kvm target.  Sleeping is hlt with the
 * LAPIC timer armed for the deadline (TSC-deadline mode where the CPU has
 * it, else one-shot); interrupts are enabled only around that hlt.  The
 * APIC is set up at the first sleep, or before the devices are (they
 * interrupt through it): its register writes are exits, about 0.6 ms of
 * start of day on this host for a guest that never sleeps.
 */
#include "virtio.h"

#define MSR_KVM_WALL_CLOCK_NEW  0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define MSR_APIC_BASE           0x1b
#define MSR_TSC_DEADLINE        0x6e0
#define X2APIC_EOI              0x80b
#define X2APIC_SVR              0x80f
#define X2APIC_LVT_TIMER        0x832
#define X2APIC_TIMER_INIT       0x838
#define X2APIC_TIMER_CUR        0x839
#define X2APIC_TIMER_DIV        0x83e
#define LVT_TSC_DEADLINE        (2u << 17)
#define LVT_MASKED              (1u << 16)

struct pvclock {
	volatile uint32_t version, pad0;
	volatile uint64_t tsc_timestamp, system_time;
	volatile uint32_t mul;
	volatile int8_t shift;
	volatile uint8_t flags, pad[2];
};

struct pvwall {
	volatile uint32_t version, sec, nsec;
};

static struct pvclock pvclock __attribute__((aligned(64)));
static struct pvwall pvwall __attribute__((aligned(16)));
static bool have_kvmclock, tsc_deadline, apic_started;
static uint64_t boot_ns, wall_at_boot, last_ns;
static uint64_t tsc_hz, tsc_at_boot; /* without kvmclock */
static uint64_t apic_hz;             /* one-shot mode's tick rate */
static volatile uint32_t *xapic;     /* NULL: x2APIC */
volatile uint32_t *virtio_apic_eoi;  /* trap.S; NULL: x2APIC */

static uint64_t kvmclock_read(uint64_t *tsc_out)
{
	uint32_t v;
	uint64_t ns, tsc;
	do {
		v = pvclock.version;
		__asm__ volatile("" ::: "memory");
		tsc = rdtsc();
		uint64_t delta = tsc - pvclock.tsc_timestamp;
		if (pvclock.shift < 0)
			delta >>= -pvclock.shift;
		else
			delta <<= pvclock.shift;
		ns = pvclock.system_time +
		     (uint64_t)(((unsigned __int128)delta * pvclock.mul) >> 32);
		__asm__ volatile("" ::: "memory");
	} while ((v & 1) || v != pvclock.version);
	if (tsc_out)
		*tsc_out = tsc;
	return ns;
}

/* Nanoseconds since boot, and the TSC read that gave them. */
static uint64_t clock_now(uint64_t *tsc)
{
	uint64_t ns;
	if (have_kvmclock) {
		ns = kvmclock_read(tsc) - boot_ns;
	} else {
		uint64_t t = rdtsc();
		if (tsc)
			*tsc = t;
		ns = (uint64_t)((unsigned __int128)(t - tsc_at_boot) *
				1000000000ULL / tsc_hz);
	}
	if (ns > last_ns)
		last_ns = ns;
	return last_ns;
}

uint64_t ingot_clock_monotonic(void)
{
	return clock_now(NULL);
}

uint64_t ingot_clock_wall(void)
{
	return wall_at_boot + clock_now(NULL);
}

/* TSC ticks in ns nanoseconds. */
static uint64_t ns_to_tsc(uint64_t ns)
{
	if (ns > 3600000000000ULL)
		ns = 3600000000000ULL; /* re-armed after an hour */
	if (!have_kvmclock)
		return (uint64_t)((unsigned __int128)ns * tsc_hz /
				  1000000000ULL);
	uint64_t t = (uint64_t)(((unsigned __int128)ns << 32) / pvclock.mul);
	return pvclock.shift < 0 ? t << -pvclock.shift : t >> pvclock.shift;
}

/* PIT channel 0's counter, latched. */
static uint16_t pit_count(void)
{
	outb(0x43, 0x00);
	uint8_t lo = inb(0x40);
	return (uint16_t)(lo | inb(0x40) << 8);
}

/*
 * The TSC's rate against 10 ms of PIT channel 0 (1193182 Hz), counting
 * down once in mode 0 with interrupts off.  Channel 2's gate on port 0x61
 * is the usual way, but microvm has no port 0x61.  Without a PIT the
 * counter does not move and the loop gives up.
 */
static bool tsc_calibrate(void)
{
	const uint16_t ticks = 11932;
	outb(0x43, 0x30); /* channel 0, low then high byte, mode 0 */
	outb(0x40, 0xff);
	outb(0x40, 0xff);
	uint16_t start = pit_count();
	uint64_t t0 = rdtsc();
	for (long i = 0; i < 10000000; i++) {
		uint16_t n = (uint16_t)(start - pit_count());
		if (n >= ticks && n < 0x8000) {
			tsc_hz = (rdtsc() - t0) * 1193182ULL / n;
			return tsc_hz >= 100000000ULL &&
			       tsc_hz <= 100000000000ULL;
		}
	}
	return false;
}

static void apic_write(uint32_t msr, uint32_t v)
{
	if (xapic)
		xapic[(msr - 0x800) * 4] = v;
	else
		wrmsr(msr, v);
}

static uint32_t apic_read(uint32_t msr)
{
	return xapic ? xapic[(msr - 0x800) * 4] : (uint32_t)rdmsr(msr);
}

/* x2APIC where the CPU has it; else the xAPIC's page, mapped now, before
 * the seal makes the tables read-only. */
static void apic_probe(void)
{
	tsc_deadline = virtio.cpuid1[2] & (1u << 24);
	if (virtio.cpuid1[2] & (1u << 21))
		return;
	xapic = paging_map_device(rdmsr(MSR_APIC_BASE) & ~0xfffULL, false);
	virtio_apic_eoi = &xapic[(X2APIC_EOI - 0x800) * 4];
}

void apic_start(void)
{
	if (apic_started)
		return;
	apic_started = true;
	uint64_t base = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, base | (1 << 11) | (xapic ? 0 : 1 << 10));
	/* The legacy PIC (firmware left its timer unmasked) stays quiet. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	apic_write(X2APIC_SVR, 0x100 | VIRTIO_SPURIOUS_VECTOR);
	if (tsc_deadline) {
		apic_write(X2APIC_LVT_TIMER,
			   LVT_TSC_DEADLINE | VIRTIO_TIMER_VECTOR);
		return;
	}
	/* One-shot: its rate measured once against the clock, over 1 ms.
	 * Each read traps (tens of microseconds here), so each clock read
	 * is bracketed by two counter reads and matched with their mean. */
	apic_write(X2APIC_TIMER_DIV, 0xb); /* divide by 1 */
	apic_write(X2APIC_LVT_TIMER, LVT_MASKED | VIRTIO_TIMER_VECTOR);
	apic_write(X2APIC_TIMER_INIT, 0xffffffff);
	uint64_t c0 = apic_read(X2APIC_TIMER_CUR), t0 = clock_now(NULL);
	c0 = (c0 + apic_read(X2APIC_TIMER_CUR)) / 2;
	uint64_t c1, t1;
	do {
		c1 = apic_read(X2APIC_TIMER_CUR);
		t1 = clock_now(NULL);
		c1 = (c1 + apic_read(X2APIC_TIMER_CUR)) / 2;
	} while (t1 - t0 < 1000000);
	apic_write(X2APIC_TIMER_INIT, 0);
	apic_hz = (c0 - c1) * 1000000000ULL / (t1 - t0);
	apic_write(X2APIC_LVT_TIMER, VIRTIO_TIMER_VECTOR);
}

void clock_init(void)
{
	uint32_t r[4];
	cpuid(0x40000000, r);
	if (r[1] == 0x4b4d564b && r[2] == 0x564b4d56 && r[3] == 0x4d &&
	    r[0] >= 0x40000001) { /* "KVMKVMKVM" */
		cpuid(0x40000001, r);
		have_kvmclock = r[0] & (1u << 3);
	}
	if (have_kvmclock) {
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, virt_to_phys(&pvclock) | 1);
		wrmsr(MSR_KVM_WALL_CLOCK_NEW, virt_to_phys(&pvwall));
		boot_ns = kvmclock_read(NULL);
		wall_at_boot = (uint64_t)pvwall.sec * 1000000000ULL +
			       pvwall.nsec + boot_ns;
		virtio.info.clock_hz = 1000000000;
	} else {
		if (!tsc_calibrate()) {
			static const char msg[] =
			    "no kvmclock and no PIT to calibrate the TSC";
			ingot_abort(msg, sizeof msg - 1);
		}
		tsc_at_boot = rdtsc();
		virtio.info.clock_hz = tsc_hz;
	}
	apic_probe();
}

void clock_halt(uint64_t v)
{
	apic_start();
	if (v && tsc_deadline)
		wrmsr(MSR_TSC_DEADLINE, v);
	else if (v)
		apic_write(X2APIC_TIMER_INIT, (uint32_t)v);
	/* sti takes effect after hlt starts: no wake-up is lost. */
	__asm__ volatile("sti\n\thlt\n\tcli" ::: "memory");
}

/* What clock_halt arms for a deadline ns from now: a TSC value, or a
 * count of the one-shot timer. */
static uint64_t timer_value(uint64_t tsc, uint64_t left)
{
	if (tsc_deadline)
		return tsc + ns_to_tsc(left);
	/* Aimed 1/32 early past a millisecond, so that an error in the
	 * measured rate wakes the loop early (and it re-arms) rather than
	 * late. */
	if (left > 1000000)
		left -= left / 32;
	uint64_t n =
	    (uint64_t)((unsigned __int128)left * apic_hz / 1000000000ULL) + 1;
	return n > 0xffffffff ? 0xffffffff : n;
}

/* At CPL 3 the halt is the sleep call's (trap.S); before the seal, a
 * plain call. */
bool clock_sleep_once(uint64_t deadline_ns)
{
	uint64_t tsc, now = clock_now(&tsc);
	if (now >= deadline_ns)
		return false;
	uint64_t v =
	    deadline_ns == UINT64_MAX ? 0 : timer_value(tsc, deadline_ns - now);
	if (virtio_user_mode())
		virtio_sleep_call(v);
	else
		clock_halt(v);
	return true;
}
