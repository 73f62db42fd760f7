/* Start of day on kvm: from the monitor's entry to ingot_main(). */
#include "kvm.h"
#include "../common/boot.h"

const struct ingot_kvm_boot *kvm_boot;

extern uintptr_t __stack_chk_guard;

_Noreturn void kvm_start(const struct ingot_kvm_boot *boot);

/* Runs before the stack-protector canary is set, so it has none. */
__attribute__((no_stack_protector)) _Noreturn void
kvm_start(const struct ingot_kvm_boot *boot)
{
	kvm_boot = boot;
	__stack_chk_guard = boot_canary(boot->info.random_seed);
	kvm_clock_init();
	boot_run(boot->info.argc, (char **)boot->info.argv);
}
