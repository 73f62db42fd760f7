# ingot: `make` builds the monitor, the libraries and every image for both
# targets into $(BUILD).  `make run` boots the main appliance, `make test`
# runs every test.  See README.md.

BUILD ?= build
CC := gcc
HOSTCC ?= cc
LD := ld
PYTHON := /usr/bin/python3

# Quiet build lines unless V=1.
Q := $(if $(V),,@)
quiet = $(if $(V),,@printf '  %-5s %s\n' $(1) $(2);)

# A fresh seed per make run unless INGOT_SEED fixes it (see tools/ldgen.c).
SEED := $(or $(INGOT_SEED),$(shell od -An -N4 -tu4 /dev/urandom | tr -d ' '))

GCC_INCLUDE := $(shell $(CC) -print-file-name=include)
LIBGCC := $(shell $(CC) -print-libgcc-file-name)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter

# Guest code: freestanding, no SSE (nested KVM here does not emulate it in
# every path), position-independent so the link can place it anywhere,
# frame pointers for backtraces, one section per function for --gc-sections
# and the randomised layout.
GUEST_CFLAGS := -std=c11 -O2 $(WARN) -ffreestanding -nostdinc \
	-isystem $(GCC_INCLUDE) -Iinclude -Ilib/libc/include \
	-fpie -mgeneral-regs-only -mno-red-zone -fno-omit-frame-pointer \
	-mno-omit-leaf-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-ffunction-sections -fdata-sections -fno-common -fno-plt \
	-fstack-protector-strong -mstack-protector-guard=global \
	-fcf-protection=none -ffile-prefix-map=$(CURDIR)/= \
	-include ingot/visibility.h -include ingot/options.h
GUEST_ASFLAGS := -Iinclude -fpie -D__ASSEMBLY__

HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -D_GNU_SOURCE

GUEST_LDFLAGS := -nostdlib -static --gc-sections -z max-page-size=4096 \
	-z noexecstack --orphan-handling=error --build-id=none

# --- sources -------------------------------------------------------------

LIBS := $(notdir $(wildcard lib/*))
lib_objs = $(patsubst %,$(BUILD)/obj/%.o,$(basename \
	$(wildcard lib/$(1)/*.c lib/$(1)/*.S)))
LIB_ARCHIVES := $(foreach l,$(LIBS),$(BUILD)/lib/lib$(l).a)
LIB_OBJS := $(foreach l,$(LIBS),$(call lib_objs,$(l)))

COMMON_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard platform/common/*.c))
platform_objs = $(patsubst %,$(BUILD)/obj/%.o,$(basename \
	$(wildcard platform/$(1)/*.c platform/$(1)/*.S))) $(COMMON_OBJS)
KVM_OBJS := $(call platform_objs,kvm)
HOSTED_OBJS := $(call platform_objs,hosted) $(BUILD)/obj/hosted_seccomp.o

APPS := $(notdir $(wildcard apps/*))
TEST_IMAGES := $(basename $(notdir $(wildcard tests/guest/*.c tests/unit/*.c)))

MONITOR_SRCS := $(wildcard monitor/*.c) platform/common/elfsym.c \
	platform/common/fault.c platform/common/net_host.c


.PHONY: all images monitor host-tests fuzzers fuzz-net fuzz-dns run test bench bench-boot bench-net bench-dns \
	deps clean format
all: monitor images host-tests

# --- host programs --------------------------------------------------------

monitor: $(BUILD)/ingot-kvm
$(BUILD)/ingot-kvm: $(MONITOR_SRCS) $(wildcard monitor/*.h include/ingot/*.h \
		platform/common/*.h)
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -static -pthread -o $@ \
		$(MONITOR_SRCS) -lseccomp

$(BUILD)/tools/ldgen: tools/ldgen.c include/ingot/abi_kvm.h
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ $<

# The hosted target's seccomp allowlist, compiled by libseccomp at build time
# into a BPF program the freestanding image can load itself.
$(BUILD)/tools/seccomp-gen: tools/seccomp_gen.c platform/hosted/hosted_fds.h include/ingot/abi.h
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ $< -lseccomp
$(BUILD)/gen/hosted_seccomp.c: $(BUILD)/tools/seccomp-gen
	@mkdir -p $(@D)
	$(call quiet,GEN,$@)$< > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/hosted_seccomp.o: $(BUILD)/gen/hosted_seccomp.c platform/hosted/hosted.h
	$(call quiet,CC,$@)$(CC) $(GUEST_CFLAGS) -I. -c -o $@ $<

# Host-built differential test of lib/libc against glibc (tests/host).
LIBC_RENAME := $(foreach f,strtol strtoul strtoll strtoull atoi atol strerror,\
	-D$(f)=ingot_$(f))
$(BUILD)/test/host/libc_diff: tests/host/libc_diff.c lib/libc/format.c \
		lib/libc/strtol.c lib/libc/strerror.c lib/libc/format.h
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -c -o $@-strtol.o \
		$(LIBC_RENAME) lib/libc/strtol.c && \
	$(HOSTCC) $(HOST_CFLAGS) -c -o $@-strerror.o \
		$(LIBC_RENAME) lib/libc/strerror.c && \
	$(HOSTCC) $(HOST_CFLAGS) -o $@ tests/host/libc_diff.c \
		lib/libc/format.c $@-strtol.o $@-strerror.o
HOST_TESTS := $(BUILD)/test/host/libc_diff
host-tests: $(HOST_TESTS)

# libFuzzer harnesses (tests/fuzz), built for the host with clang.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wno-unused-parameter -Iinclude \
	-include ingot/options.h -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZERS := $(BUILD)/fuzz/net_fuzz $(BUILD)/fuzz/net_dhcp_fuzz $(BUILD)/fuzz/dns_fuzz
$(BUILD)/fuzz/net_fuzz: tests/fuzz/net_fuzz.c $(wildcard lib/net/*.c lib/net/*.h \
		include/ingot/*.h)
	@mkdir -p $(@D)
	$(call quiet,CLANG,$@)clang $(FUZZ_CFLAGS) -o $@ $< $(wildcard lib/net/*.c)
$(BUILD)/fuzz/net_dhcp_fuzz: tests/fuzz/net_fuzz.c $(wildcard lib/net/*.c \
		lib/net/*.h include/ingot/*.h)
	@mkdir -p $(@D)
	$(call quiet,CLANG,$@)clang $(FUZZ_CFLAGS) -DFUZZ_DHCP -o $@ $< \
		$(wildcard lib/net/*.c)
$(BUILD)/fuzz/dns_zones.c: $(BUILD)/tools/zone2c apps/dns/example.test.zone
	@mkdir -p $(@D)
	$(call quiet,ZONE2C,$@)$< -o $@ apps/dns/example.test.zone
$(BUILD)/fuzz/dns_fuzz: tests/fuzz/dns_fuzz.c $(BUILD)/fuzz/dns_zones.c \
		$(wildcard lib/dns/*.c lib/dns/*.h include/ingot/dns.h)
	@mkdir -p $(@D)
	$(call quiet,CLANG,$@)clang $(FUZZ_CFLAGS) -I. -o $@ $< \
		$(BUILD)/fuzz/dns_zones.c $(wildcard lib/dns/*.c)
fuzzers: $(FUZZERS)

# --- guest objects --------------------------------------------------------

$(BUILD)/obj/%.o: %.c Makefile
	@mkdir -p $(@D)
	$(call quiet,CC,$<)$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/obj/%.o: %.S Makefile
	@mkdir -p $(@D)
	$(call quiet,AS,$<)$(CC) $(GUEST_ASFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/lib/lib%.a:
	@mkdir -p $(@D)
	@rm -f $@
	$(call quiet,AR,$@)ar rcsD $@ $^
$(foreach l,$(LIBS),$(eval $(BUILD)/lib/lib$(l).a: $(call lib_objs,$(l))))

# --- images ---------------------------------------------------------------

# Images relink when the seed given by INGOT_SEED changes.
SEED_STAMP := $(BUILD)/seed.stamp
.PHONY: $(SEED_STAMP)
$(SEED_STAMP):
	@mkdir -p $(@D)
	@want='$(or $(INGOT_SEED),random)'; \
	[ "$$(cat $@ 2>/dev/null)" = "$$want" ] || echo "$$want" > $@

# link TARGET, IMAGE-NAME, PLATFORM-OBJS, APP-OBJS
define link_image
	@mkdir -p $(@D)
	@base=$$($(BUILD)/tools/ldgen --target $(1) --seed $(SEED) --name $(2) \
		-o $@.ld $(3) $(4) $(LIB_OBJS)) && \
	echo "  LINK $@ (seed $(SEED), $$base)"
	$(Q)$(LD) $(GUEST_LDFLAGS) -T $@.ld -o $@ $(3) $(4) \
		--start-group $(LIB_ARCHIVES) $(LIBGCC) --end-group
	@printf '  SIZE %-36s %7d bytes\n' $@ $$(stat -c %s $@)
endef

# image NAME, SOURCE-FILES, OUTPUT-DIR
define image
$(3)/kvm/$(1).kvm: $(2:%.c=$(BUILD)/obj/%.o) $(KVM_OBJS) $(LIB_ARCHIVES) \
		$(BUILD)/tools/ldgen $(SEED_STAMP)
	$$(call link_image,kvm,$(1),$(KVM_OBJS),$(2:%.c=$(BUILD)/obj/%.o))
$(3)/hosted/$(1): $(2:%.c=$(BUILD)/obj/%.o) $(HOSTED_OBJS) $(LIB_ARCHIVES) \
		$(BUILD)/tools/ldgen $(SEED_STAMP)
	$$(call link_image,hosted,$(1),$(HOSTED_OBJS),$(2:%.c=$(BUILD)/obj/%.o))
IMAGE_FILES += $(3)/kvm/$(1).kvm $(3)/hosted/$(1)
endef

# apps/dns serves the zones in ZONES, compiled to C by tools/zone2c.
ZONES ?= apps/dns/example.test.zone
ZONES_STAMP := $(BUILD)/zones.stamp
.PHONY: $(ZONES_STAMP)
$(ZONES_STAMP):
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = "$(ZONES)" ] || echo "$(ZONES)" > $@
$(BUILD)/tools/zone2c: $(wildcard tools/zone2c/*.c tools/zone2c/*.h) lib/dns/zone.h
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ $(wildcard tools/zone2c/*.c)
$(BUILD)/gen/dns_zones.c: $(BUILD)/tools/zone2c $(ZONES) $(ZONES_STAMP)
	@mkdir -p $(@D)
	$(call quiet,ZONE2C,$@)$(BUILD)/tools/zone2c -o $@.tmp $(ZONES) && mv $@.tmp $@
$(BUILD)/obj/$(BUILD)/gen/dns_zones.o: GUEST_CFLAGS += -I.
APP_EXTRA_dns := $(BUILD)/gen/dns_zones.c

$(foreach a,$(APPS),$(eval $(call image,$(a),$(wildcard apps/$(a)/*.c) \
	$(APP_EXTRA_$(a)),$(BUILD))))
$(foreach t,$(wildcard tests/guest/*.c tests/unit/*.c),$(eval $(call \
	image,$(basename $(notdir $(t))),$(t),$(BUILD)/test)))

images: $(IMAGE_FILES)

# --- running, testing, benchmarking --------------------------------------

deps:
	@tools/deps build

run: deps
	@$(MAKE) --no-print-directory all
	@tools/run-main

test: deps
	@tools/deps test
	@$(MAKE) --no-print-directory all fuzzers
	@tools/test

# A long fuzzing run of the network receive path (the test suite runs it
# for 20 s); crashes land in build/fuzz/net-crashes/.
FUZZ_SECONDS ?= 3600
fuzz-net: deps
	@tools/deps test
	@$(MAKE) --no-print-directory $(BUILD)/fuzz/net_fuzz $(BUILD)/fuzz/net_dhcp_fuzz
	@mkdir -p $(BUILD)/fuzz/net-corpus $(BUILD)/fuzz/net-crashes
	$(BUILD)/fuzz/net_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz/net-crashes/ $(BUILD)/fuzz/net-corpus
	$(BUILD)/fuzz/net_dhcp_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz/net-crashes/ $(BUILD)/fuzz/net-corpus
fuzz-dns: deps
	@tools/deps test
	@$(MAKE) --no-print-directory $(BUILD)/fuzz/dns_fuzz
	@mkdir -p $(BUILD)/fuzz/dns-corpus $(BUILD)/fuzz/dns-crashes
	$(BUILD)/fuzz/dns_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz/dns-crashes/ $(BUILD)/fuzz/dns-corpus

bench: bench-boot bench-net bench-dns
bench-boot: deps
	@$(MAKE) --no-print-directory all
	@bench/boot/run

$(BUILD)/bench/udp_rr: bench/net/udp_rr.c
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ $<
bench-net: deps
	@tools/deps test
	@$(MAKE) --no-print-directory all $(BUILD)/bench/udp_rr
	@bench/net/run
bench-dns: deps
	@tools/deps test
	@tools/deps bench
	@bench/dns/run

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
