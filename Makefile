# ingot: `make` builds the monitor, the libraries and every image for both
# targets into $(BUILD).  `make run` boots the DNS appliance, `make test`
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
# and the randomised layout.  The build options come last (set_cflags).
GUEST_CFLAGS := -std=c11 -O2 $(WARN) -ffreestanding -nostdinc \
	-isystem $(GCC_INCLUDE) -Iinclude -Ilib/libc/include \
	-fpie -mgeneral-regs-only -mno-red-zone -fno-omit-frame-pointer \
	-mno-omit-leaf-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-ffunction-sections -fdata-sections -fno-common -fno-plt \
	-fstack-protector-strong -mstack-protector-guard=global \
	-fcf-protection=none -ffile-prefix-map=$(CURDIR)/= \
	-include ingot/visibility.h
GUEST_ASFLAGS := -Iinclude -fpie -D__ASSEMBLY__

HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -D_GNU_SOURCE

GUEST_LDFLAGS := -nostdlib -static --gc-sections -z max-page-size=4096 \
	-z noexecstack --orphan-handling=error --build-id=none

# --- sources and option sets ----------------------------------------------

LIBS := $(notdir $(wildcard lib/*))
# An app is a folder of apps/ with C in it.
APPS := $(sort $(patsubst apps/%/,%,$(dir $(wildcard apps/*/*.c))))

# Each target's platform sources; generated sources live in $(BUILD)/gen.
COMMON_SRCS := $(wildcard platform/common/*.c)
# The host side, shared by ingot-kvm and the hosted target (host/).
HOST_SRCS := $(wildcard host/*.c)
KVM_SRCS := $(wildcard platform/kvm/*.c platform/kvm/*.S) $(COMMON_SRCS)
HOSTED_SRCS := $(wildcard platform/hosted/*.c platform/hosted/*.S) \
	$(COMMON_SRCS) $(HOST_SRCS) $(BUILD)/gen/hosted_seccomp.c
# The virtio target reports its own faults with the host's report text,
# and checks block requests by the host's rules.
VIRTIO_SRCS := $(wildcard platform/virtio/*.c platform/virtio/*.S) \
	$(COMMON_SRCS) host/fault.c host/elfsym.c host/block_rules.c

# Every object of an image is compiled under one option set (the build
# options of include/ingot/options.h): an app's set is its
# apps/APP/options.h, then the CONFIG_* keys given on make's command line;
# the test images share the defaults, set "test".  Each set has its own
# objects ($(BUILD)/obj/SET/) and library archives ($(BUILD)/lib/SET/), so
# an option reaches every library, platform file and app file of the image,
# and no image links an object compiled under another's options.
SETS := $(APPS) test
$(if $(filter test,$(APPS)),$(error apps/test: "test" names the test images' option set))

# objs SET, SOURCES: SET's objects of SOURCES.
objs = $(foreach s,$(basename $(2)),$(BUILD)/obj/$(1)/$(s:$(BUILD)/%=%).o)
lib_srcs = $(wildcard lib/$(1)/*.c lib/$(1)/*.S)
lib_objs = $(foreach l,$(LIBS),$(call objs,$(1),$(call lib_srcs,$(l))))
lib_archives = $(LIBS:%=$(BUILD)/lib/$(1)/lib%.a)

# An app's options reach the compiler as one generated header,
# $(BUILD)/gen/APP/options.h (below), forced in before the defaults.
set_header = $(if $(filter test,$(1)),,$(BUILD)/gen/$(1)/options.h)
set_cflags = $(GUEST_CFLAGS) $(addprefix -include ,$(call set_header,$(1))) \
	-include ingot/options.h

# The CONFIG_* keys of make's command line.  A key that ingot/options.h
# does not define would change nothing, silently: refuse it, and the same
# in an app's options.h.
CONFIG_KNOWN := $(shell sed -n 's/^.ifndef \(CONFIG_[A-Z0-9_]*\)$$/\1/p' \
	include/ingot/options.h)
CONFIG_KEYS := $(sort $(foreach v,$(filter CONFIG_%,$(.VARIABLES)),$(if \
	$(filter command line,$(origin $(v))),$(v))))
$(foreach k,$(filter-out $(CONFIG_KNOWN),$(CONFIG_KEYS)),$(error \
	$(k): no such build option (include/ingot/options.h lists them)))
$(foreach f,$(wildcard apps/*/options.h),$(foreach k,$(filter-out \
	$(CONFIG_KNOWN),$(shell sed -n 's/^.define \(CONFIG_[A-Z0-9_]*\).*/\1/p' \
	$(f))),$(error $(f): $(k) is not a build option (see include/ingot/options.h))))
# KEY=VALUE words, quoted for the shell.
CONFIG_ARGS := $(foreach k,$(CONFIG_KEYS),'$(k)=$(subst ','\'',$($(k)))')

MONITOR_SRCS := $(wildcard monitor/*.c) $(HOST_SRCS)


.PHONY: all images monitor host-tests fuzzers fuzz-net fuzz-dns fuzz-tcp fuzz-fw fuzz-kv soak-kv soak-tcp bench-kv bench-blk fuzz-http run test bench bench-boot bench-net bench-dns bench-tcp bench-http bench-http-steps \
	deps clean format
all: monitor images host-tests $(BUILD)/ingot $(BUILD)/ingot-oci

# --- host programs --------------------------------------------------------

monitor: $(BUILD)/ingot-kvm
$(BUILD)/ingot-kvm: $(MONITOR_SRCS) $(wildcard monitor/*.h include/ingot/*.h \
		host/*.h)
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -static -pthread -o $@ \
		$(MONITOR_SRCS) -lseccomp

# The ingot CLI (cli/): a glibc host tool; host/option.c parses --mem as
# the monitor does.  Its paths are bounded where they come in (the run
# directory, names), so snprintf's truncation warnings are noise there.
CLI_SRCS := $(wildcard cli/*.c) host/option.c
$(BUILD)/ingot: $(CLI_SRCS) $(wildcard cli/*.h) host/option.h include/ingot/abi.h
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -Wno-format-truncation \
		-o $@ $(CLI_SRCS) -ljson-c
# The OCI runtime is the same program under the name podman and ctr run.
$(BUILD)/ingot-oci: $(BUILD)/ingot
	$(Q)ln -sf ingot $@

# Errors with file:line for the build-time compilers (zone2c, rules2c).
TOOLS_DIAG := tools/common/diag.c tools/common/diag.h

$(BUILD)/tools/ldgen: tools/ldgen.c include/ingot/abi_kvm.h
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ $<

# The hosted target's seccomp allowlist, compiled by libseccomp at build time
# into a BPF program the freestanding image can load itself.
$(BUILD)/tools/seccomp-gen: tools/seccomp_gen.c host/fds.h include/ingot/abi.h
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ $< -lseccomp
$(BUILD)/gen/hosted_seccomp.c: $(BUILD)/tools/seccomp-gen
	@mkdir -p $(@D)
	$(call quiet,GEN,$@)$< > $@.tmp && mv $@.tmp $@

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
# tools/rules2c compiles firewall rules into C (lib/fw/ruleset.h).  lib/fw
# on the host (tests/host/fw_verdict.c, for tests/test_fw.py) and its fuzzer
# run the rules of tests/fw/verdict.rules, with small flow tables so that
# they fill.
$(BUILD)/tools/rules2c: $(wildcard tools/rules2c/*.c tools/rules2c/*.h) \
		lib/fw/ruleset.h $(TOOLS_DIAG)
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ \
		$(wildcard tools/rules2c/*.c) tools/common/diag.c
FW_SRCS := $(wildcard lib/fw/*.c)
FW_DEPS := $(FW_SRCS) $(wildcard lib/fw/*.h) include/ingot/fw.h \
	include/ingot/options.h
$(BUILD)/test/host/fw_rules.c: $(BUILD)/tools/rules2c tests/fw/verdict.rules
	@mkdir -p $(@D)
	$(call quiet,RULES2C,$@)$< -i outside -i inside -o $@.tmp \
		tests/fw/verdict.rules && mv $@.tmp $@
$(BUILD)/test/host/fw_verdict: tests/host/fw_verdict.c \
		$(BUILD)/test/host/fw_rules.c $(FW_DEPS)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -I. -DCONFIG_FW_FLOWS=64 \
		-include ingot/options.h -o $@ $< $(BUILD)/test/host/fw_rules.c \
		$(FW_SRCS)
HOST_TESTS += $(BUILD)/tools/rules2c $(BUILD)/test/host/fw_verdict
# Runs a command where io_uring_setup fails (tests/test_uring.py).
$(BUILD)/test/host/no_uring: tests/host/no_uring.c
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ $< -lseccomp
HOST_TESTS += $(BUILD)/test/host/no_uring
host-tests: $(HOST_TESTS)

# libFuzzer harnesses (tests/fuzz), built for the host with clang.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wno-unused-parameter -Iinclude \
	-include ingot/options.h -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZERS := $(BUILD)/fuzz/net_fuzz $(BUILD)/fuzz/net_dhcp_fuzz $(BUILD)/fuzz/net_forward_fuzz \
	$(BUILD)/fuzz/dns_fuzz \
	$(BUILD)/fuzz/tcp_fuzz $(BUILD)/fuzz/http_fuzz
# The network harnesses run lib/net on a fake platform (tests/fuzz/fake_host.c).
FUZZ_NET_DEPS := tests/fuzz/fake_host.c tests/fuzz/fake_host.h \
	$(wildcard lib/net/*.c lib/net/*.h include/ingot/*.h)
$(BUILD)/fuzz/net_fuzz: tests/fuzz/net_fuzz.c $(FUZZ_NET_DEPS)
	@mkdir -p $(@D)
	$(call quiet,CLANG,$@)clang $(FUZZ_CFLAGS) -o $@ $< \
		tests/fuzz/fake_host.c $(wildcard lib/net/*.c)
$(BUILD)/fuzz/net_dhcp_fuzz: tests/fuzz/net_fuzz.c $(FUZZ_NET_DEPS)
	@mkdir -p $(@D)
	$(call quiet,CLANG,$@)clang $(FUZZ_CFLAGS) -DFUZZ_DHCP -o $@ $< \
		tests/fuzz/fake_host.c $(wildcard lib/net/*.c)
# The router's build options: forwarding, no TSO (ingot/options.h).
$(BUILD)/fuzz/net_forward_fuzz: tests/fuzz/net_fuzz.c $(FUZZ_NET_DEPS)
	@mkdir -p $(@D)
	$(call quiet,CLANG,$@)clang $(FUZZ_CFLAGS) -DFUZZ_FORWARD -DFAKE_FORWARDER \
		-DCONFIG_NET_FORWARD=1 -DCONFIG_NET_TSO=0 -o $@ $< \
		tests/fuzz/fake_host.c $(wildcard lib/net/*.c)
$(BUILD)/fuzz/tcp_fuzz: tests/fuzz/tcp_fuzz.c $(FUZZ_NET_DEPS)
	@mkdir -p $(@D)
	$(call quiet,CLANG,$@)clang $(FUZZ_CFLAGS) -DFAKE_TSO -o $@ $< \
		tests/fuzz/fake_host.c $(wildcard lib/net/*.c)
$(BUILD)/fuzz/dns_zones.c: $(BUILD)/tools/zone2c apps/dns/example.test.zone
	@mkdir -p $(@D)
	$(call quiet,ZONE2C,$@)$< -o $@ -t 0.0.0.0/0 apps/dns/example.test.zone
$(BUILD)/fuzz/dns_fuzz: tests/fuzz/dns_fuzz.c $(BUILD)/fuzz/dns_zones.c \
		$(wildcard lib/dns/*.c lib/dns/*.h include/ingot/dns.h)
	@mkdir -p $(@D)
	$(call quiet,CLANG,$@)clang $(FUZZ_CFLAGS) -I. -o $@ $< \
		$(BUILD)/fuzz/dns_zones.c $(wildcard lib/dns/*.c)
$(BUILD)/fuzz/http_fuzz: tests/fuzz/http_fuzz.c $(wildcard lib/http/*.c lib/http/*.h)
	@mkdir -p $(@D)
	$(call quiet,CLANG,$@)clang $(FUZZ_CFLAGS) -o $@ $< $(wildcard lib/http/*.c)
# The storage parsers: RESP, tar, the log's records (tests/fuzz/kv_fuzz.c).
KV_FUZZ_SRCS := apps/kv/resp.c lib/kv/tar_index.c lib/kv/path.c \
	lib/kv/log_scan.c lib/kv/log_index.c lib/kv/crc32c.c
$(BUILD)/fuzz/kv_fuzz: tests/fuzz/kv_fuzz.c $(KV_FUZZ_SRCS) $(wildcard \
		apps/kv/*.h lib/kv/*.h include/ingot/kv.h)
	@mkdir -p $(@D)
	$(call quiet,CLANG,$@)clang $(FUZZ_CFLAGS) -o $@ $< $(KV_FUZZ_SRCS)
FUZZERS += $(BUILD)/fuzz/kv_fuzz
$(BUILD)/fuzz/fw_fuzz: tests/fuzz/fw_fuzz.c $(BUILD)/test/host/fw_rules.c \
		$(FW_DEPS)
	@mkdir -p $(@D)
	$(call quiet,CLANG,$@)clang $(FUZZ_CFLAGS) -DCONFIG_FW_FLOWS=16 -I. -o $@ \
		$< $(BUILD)/test/host/fw_rules.c $(FW_SRCS)
FUZZERS += $(BUILD)/fuzz/fw_fuzz
fuzzers: $(FUZZERS)

# --- guest objects --------------------------------------------------------

# Stamps and generated headers that depend on make's command line are
# remade every run but rewritten only when their text changes, so what
# depends on them is rebuilt exactly when that text does.
.PHONY: FORCE
FORCE:

# An app's options header: apps/APP/options.h, then the command line's keys
# (#undef first, so they win).  A value that is not an integer, a
# parenthesised expression or a C string becomes a C string, so
# CONFIG_NET_IPV4=10.0.0.2/24 works unquoted.
$(APPS:%=$(BUILD)/gen/%/options.h): $(BUILD)/gen/%/options.h: FORCE
	@mkdir -p $(@D)
	@{ echo '/* Generated by make: the build options of apps/$*. */'; \
	[ ! -f apps/$*/options.h ] || \
		echo '#include "$(CURDIR)/apps/$*/options.h"'; \
	for kv in $(CONFIG_ARGS); do \
		k=$${kv%%=*} v=$${kv#*=}; \
		case $$v in \"*|\(*) ;; ''|[!0-9]*|*[!0-9A-Za-z]*) \
			v="\"$$(printf %s "$$v" | sed 's/[\\"]/\\&/g')\"" ;; \
		esac; \
		printf '#undef %s\n#define %s %s\n' "$$k" "$$k" "$$v"; \
	done; } > $@.tmp && \
	if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

# option_set SET: how SET's objects are made; generated C has -I. for the
# tree's internal headers.
define option_set
$(BUILD)/obj/$(1)/%.o: %.c Makefile $(call set_header,$(1))
	@mkdir -p $$(@D)
	$$(call quiet,CC,$$@)$(CC) $(call set_cflags,$(1)) -MMD -MP -c -o $$@ $$<
$(BUILD)/obj/$(1)/gen/%.o: $(BUILD)/gen/%.c Makefile $(call set_header,$(1))
	@mkdir -p $$(@D)
	$$(call quiet,CC,$$@)$(CC) $(call set_cflags,$(1)) -I. -MMD -MP -c -o $$@ $$<
$(BUILD)/obj/$(1)/%.o: %.S Makefile
	@mkdir -p $$(@D)
	$$(call quiet,AS,$$@)$(CC) $(GUEST_ASFLAGS) -MMD -MP -c -o $$@ $$<
endef
$(foreach s,$(SETS),$(eval $(call option_set,$(s))))

$(BUILD)/lib/%.a:
	@mkdir -p $(@D)
	@rm -f $@
	$(call quiet,AR,$@)ar rcsD $@ $^
$(foreach s,$(SETS),$(foreach l,$(LIBS),$(eval \
	$(BUILD)/lib/$(s)/lib$(l).a: $(call objs,$(s),$(call lib_srcs,$(l))))))

# --- images ---------------------------------------------------------------

# Images relink when the seed given by INGOT_SEED changes.
SEED_STAMP := $(BUILD)/seed.stamp
$(SEED_STAMP): FORCE
	@mkdir -p $(@D)
	@want='$(or $(INGOT_SEED),random)'; \
	[ "$$(cat $@ 2>/dev/null)" = "$$want" ] || echo "$$want" > $@

# link TARGET, IMAGE-NAME, SET, OBJS (the platform's, then the image's):
# the objects, then only the archive members they need.
define link_image
	@mkdir -p $(@D)
	@base=$$($(BUILD)/tools/ldgen --target $(1) --seed $(SEED) --name $(2) \
		-o $@.ld $(4) $(call lib_objs,$(3))) && \
	echo "  LINK $@ (seed $(SEED), $$base)"
	$(Q)$(LD) $(GUEST_LDFLAGS) -T $@.ld -o $@ $(4) \
		--start-group $(call lib_archives,$(3)) $(LIBGCC) --end-group
	@printf '  SIZE %-36s %7d bytes\n' $@ $$(stat -c %s $@)
endef

# link_virtio IMAGE-NAME, SET, OBJS: a virtio image reports its own faults,
# so it carries its function symbols: a first link gives them, a second
# embeds them (.ingot.symtab, last in the read-only segment, so no function
# moves; checked).
define link_virtio
	@mkdir -p $(@D)
	@base=$$($(BUILD)/tools/ldgen --target virtio --seed $(SEED) --name $(1) \
		-o $@.ld $(3) $(call lib_objs,$(2))) && \
	echo "  LINK $@ (seed $(SEED), $$base)"
	$(Q)$(LD) $(GUEST_LDFLAGS) -T $@.ld -o $@.nosyms $(3) \
		--start-group $(call lib_archives,$(2)) $(LIBGCC) --end-group
	$(Q)objcopy --only-keep-debug $@.nosyms $@.syms && \
	printf '\t.section .ingot.symtab, "a"\n\t.balign 8\n\t.incbin "%s"\n\t.section .note.GNU-stack, "", @progbits\n' \
		$@.syms > $@.syms.S && $(CC) -c -o $@.syms.o $@.syms.S
	$(Q)$(LD) $(GUEST_LDFLAGS) -T $@.ld -o $@ $(3) $@.syms.o \
		--start-group $(call lib_archives,$(2)) $(LIBGCC) --end-group
	$(Q)nm $@.nosyms | grep -i ' t ' > $@.syms.txt && nm $@ | grep -i ' t ' | \
		cmp -s - $@.syms.txt || { echo "$@: functions moved by the symbol table"; exit 1; }
	@printf '  SIZE %-36s %7d bytes\n' $@ $$(stat -c %s $@)
endef

# image SET, NAME, SOURCE-FILES, OUTPUT-DIR
define image
$(4)/kvm/$(2).kvm: $(call objs,$(1),$(KVM_SRCS) $(3)) \
		$(call lib_archives,$(1)) $(BUILD)/tools/ldgen $(SEED_STAMP)
	$$(call link_image,kvm,$(2),$(1),$(call objs,$(1),$(KVM_SRCS) $(3)))
$(4)/hosted/$(2): $(call objs,$(1),$(HOSTED_SRCS) $(3)) \
		$(call lib_archives,$(1)) $(BUILD)/tools/ldgen $(SEED_STAMP)
	$$(call link_image,hosted,$(2),$(1),$(call objs,$(1),$(HOSTED_SRCS) $(3)))
$(4)/virtio/$(2).virtio: $(call objs,$(1),$(VIRTIO_SRCS) $(3)) \
		$(call lib_archives,$(1)) $(BUILD)/tools/ldgen $(SEED_STAMP)
	$$(call link_virtio,$(2),$(1),$(call objs,$(1),$(VIRTIO_SRCS) $(3)))
IMAGE_FILES += $(4)/kvm/$(2).kvm $(4)/hosted/$(2) $(4)/virtio/$(2).virtio
endef

# apps/dns serves the zones in ZONES, compiled to C by tools/zone2c, and
# allows zone transfers to the prefixes in XFR_ALLOW (none by default).
ZONES ?= apps/dns/example.test.zone
XFR_ALLOW ?=
ZONES_STAMP := $(BUILD)/zones.stamp
$(ZONES_STAMP): FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = "$(ZONES) -t $(XFR_ALLOW)" ] || \
		echo "$(ZONES) -t $(XFR_ALLOW)" > $@
$(BUILD)/tools/zone2c: $(wildcard tools/zone2c/*.c tools/zone2c/*.h) lib/dns/zone.h \
		$(TOOLS_DIAG)
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ $(wildcard tools/zone2c/*.c) \
		tools/common/diag.c
$(BUILD)/gen/dns_zones.c: $(BUILD)/tools/zone2c $(ZONES) $(ZONES_STAMP)
	@mkdir -p $(@D)
	$(call quiet,ZONE2C,$@)$(BUILD)/tools/zone2c -o $@.tmp \
		$(foreach a,$(XFR_ALLOW),-t $(a)) $(ZONES) && mv $@.tmp $@
APP_EXTRA_dns := $(BUILD)/gen/dns_zones.c

# tools/dir2c compiles a web root into C (lib/http/site.h); it links zlib
# and libbrotli for the precompressed variants.
$(BUILD)/tools/dir2c: $(wildcard tools/dir2c/*.c tools/dir2c/*.h) lib/http/site.h \
		lib/http/media.c lib/http/media.h
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ \
		$(wildcard tools/dir2c/*.c) lib/http/media.c -lz -lbrotlienc

# apps/http serves the tree WEBROOT, compiled to C by tools/dir2c.  The
# stamp holds WEBROOT and a listing of the tree (every path, size, mode
# and mtime), so the site is compiled again exactly when either changes.
WEBROOT ?= apps/http/site
WEBROOT_STAMP := $(BUILD)/webroot.stamp
$(WEBROOT_STAMP): FORCE
	@mkdir -p $(@D)
	@{ echo 'WEBROOT=$(subst ','\'',$(WEBROOT))'; \
	find '$(subst ','\'',$(WEBROOT))' -printf '%P %y %s %m %T@\n' 2>&1 | \
		LC_ALL=C sort; } > $@.tmp && \
	if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/gen/http_site.c: $(BUILD)/tools/dir2c $(WEBROOT_STAMP)
	@mkdir -p $(@D)
	$(call quiet,DIR2C,$@)$(BUILD)/tools/dir2c -o $@.tmp '$(subst ','\'',$(WEBROOT))' \
		&& mv $@.tmp $@
APP_EXTRA_http := $(BUILD)/gen/http_site.c

# apps/firewall filters with the rules in RULES, compiled to C by
# tools/rules2c; every interface a rule names must be one of the app's
# network devices (its INGOT_DEVICE lines).
RULES ?= apps/firewall/dmz.rules
FW_DEVICES := $(shell sed -n \
	's/^INGOT_DEVICE(INGOT_DEVICE_NET, *\([A-Za-z0-9_]*\));.*/\1/p' \
	apps/firewall/*.c)
RULES_STAMP := $(BUILD)/rules.stamp
$(RULES_STAMP): FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = "$(RULES) $(FW_DEVICES)" ] || \
		echo "$(RULES) $(FW_DEVICES)" > $@
$(BUILD)/gen/fw_rules.c: $(BUILD)/tools/rules2c $(RULES) $(RULES_STAMP)
	@mkdir -p $(@D)
	$(call quiet,RULES2C,$@)$< $(addprefix -i ,$(FW_DEVICES)) -o $@.tmp \
		$(RULES) && mv $@.tmp $@
APP_EXTRA_firewall := $(BUILD)/gen/fw_rules.c

$(foreach a,$(APPS),$(eval $(call image,$(a),$(a),$(wildcard apps/$(a)/*.c) \
	$(APP_EXTRA_$(a)),$(BUILD))))
$(foreach t,$(wildcard tests/guest/*.c tests/unit/*.c),$(eval $(call \
	image,test,$(basename $(notdir $(t))),$(t),$(BUILD)/test)))

images: $(IMAGE_FILES)

# --- running, testing, benchmarking --------------------------------------

deps:
	@tools/deps build

run: deps
	@tools/deps run
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
	@$(MAKE) --no-print-directory $(BUILD)/fuzz/net_fuzz $(BUILD)/fuzz/net_dhcp_fuzz \
		$(BUILD)/fuzz/net_forward_fuzz
	@mkdir -p $(BUILD)/fuzz/net-corpus $(BUILD)/fuzz/net-crashes
	$(BUILD)/fuzz/net_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz/net-crashes/ $(BUILD)/fuzz/net-corpus
	$(BUILD)/fuzz/net_dhcp_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz/net-crashes/ $(BUILD)/fuzz/net-corpus
	$(BUILD)/fuzz/net_forward_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz/net-crashes/ $(BUILD)/fuzz/net-corpus
fuzz-dns: deps
	@tools/deps test
	@$(MAKE) --no-print-directory $(BUILD)/fuzz/dns_fuzz
	@mkdir -p $(BUILD)/fuzz/dns-corpus $(BUILD)/fuzz/dns-crashes
	$(BUILD)/fuzz/dns_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz/dns-crashes/ $(BUILD)/fuzz/dns-corpus
fuzz-http: deps
	@tools/deps test
	@$(MAKE) --no-print-directory $(BUILD)/fuzz/http_fuzz
	@mkdir -p $(BUILD)/fuzz/http-corpus $(BUILD)/fuzz/http-crashes
	$(BUILD)/fuzz/http_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz/http-crashes/ $(BUILD)/fuzz/http-corpus
# The firewall's rules and flow table (the test suite runs it for 20 s).
fuzz-fw: deps
	@tools/deps test
	@$(MAKE) --no-print-directory $(BUILD)/fuzz/fw_fuzz
	@mkdir -p $(BUILD)/fuzz/fw-corpus $(BUILD)/fuzz/fw-crashes
	$(BUILD)/fuzz/fw_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz/fw-crashes/ $(BUILD)/fuzz/fw-corpus
fuzz-tcp: deps
	@tools/deps test
	@$(MAKE) --no-print-directory $(BUILD)/fuzz/tcp_fuzz
	@mkdir -p $(BUILD)/fuzz/tcp-corpus $(BUILD)/fuzz/tcp-crashes
	$(BUILD)/fuzz/tcp_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz/tcp-crashes/ $(BUILD)/fuzz/tcp-corpus

bench-blk: deps
	@tools/deps bench
	@$(MAKE) --no-print-directory all
	@flock /tmp/ingot-bench.lock bench/blk/run

bench-kv: deps
	@tools/deps test
	@$(MAKE) --no-print-directory all
	@flock /tmp/ingot-bench.lock bench/kv/run

# A long fuzzing run of the storage parsers (the test suite runs it for
# 20 s); crashes land in build/fuzz/kv-crashes/.
fuzz-kv: deps
	@tools/deps test
	@$(MAKE) --no-print-directory $(BUILD)/fuzz/kv_fuzz
	@mkdir -p $(BUILD)/fuzz/kv-corpus $(BUILD)/fuzz/kv-crashes
	$(BUILD)/fuzz/kv_fuzz -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(BUILD)/fuzz/kv-crashes/ $(BUILD)/fuzz/kv-corpus

# The kill -9 test of apps/kv for 100 rounds (make test runs 5).
soak-kv: deps
	@tools/deps test
	@$(MAKE) --no-print-directory all
	INGOT_KV_CRASH_ROUNDS=100 $(PYTHON) -m pytest -q tests/test_kv.py \
		-k kill_9

# TCP at length (make test runs the same checks smaller): 1 GiB each way,
# 1,000 connections at once, 100,000 in a row, a 10-second outage.
soak-tcp: deps
	@tools/deps test
	@$(MAKE) --no-print-directory all
	$(PYTHON) -m pytest -q tests/soak_tcp.py

bench: bench-boot bench-net bench-dns bench-tcp bench-http bench-http-steps bench-kv bench-blk bench-forward bench-virtio
bench-boot: deps
	@$(MAKE) --no-print-directory all
	@bench/boot/run
# Fleets under churn, ingot against podman (runc); 1000 live guests.
.PHONY: bench-fleet
bench-fleet: deps
	@tools/deps test
	@$(MAKE) --no-print-directory all
	@bench/fleet/run --live 1000
# What ingot summon adds to a cold name's first answer, against a warm one's.
.PHONY: bench-summon
bench-summon: deps
	@tools/deps test
	@$(MAKE) --no-print-directory all
	@flock /tmp/ingot-bench.lock bench/fleet/summon
# Launch to the DNS appliance's first answer, against the KVM floor.
.PHONY: bench-first-answer
bench-first-answer: deps
	@$(MAKE) --no-print-directory all
	@bench/boot/first-answer

$(BUILD)/bench/%: bench/net/%.c
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ $<
$(BUILD)/bench/%: bench/tcp/%.c
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -pthread -o $@ $<
bench-tcp: deps
	@tools/deps test
	@$(MAKE) --no-print-directory all $(BUILD)/bench/tcp_crr $(BUILD)/bench/tcp_echo
	@bench/tcp/run
bench-net: deps
	@tools/deps test
	@$(MAKE) --no-print-directory all $(BUILD)/bench/udp_rr $(BUILD)/bench/udp_echo
	@bench/net/run
bench-http: deps
	@tools/deps test
	@tools/deps bench
	@$(MAKE) --no-print-directory all
	@flock /tmp/ingot-bench.lock bench/http/run
$(BUILD)/bench/%: bench/http/%.c
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ $<
bench-http-steps: deps
	@tools/deps test
	@tools/deps bench
	@$(MAKE) --no-print-directory all $(BUILD)/bench/openloop
	@flock /tmp/ingot-bench.lock bench/http/steps
bench-dns: deps
	@tools/deps test
	@tools/deps bench
	@bench/dns/run
# Forwarding: apps/router and apps/firewall (bench/forward/forward.rules,
# built aside) on kvm against Linux forwarding, plain and with nftables.
.PHONY: bench-forward
$(BUILD)/bench/%: bench/forward/%.c bench/forward/flood.h
	@mkdir -p $(@D)
	$(call quiet,HOSTCC,$@)$(HOSTCC) $(HOST_CFLAGS) -o $@ $<
# The floor of a guest's turn: one exit and back (bench/forward/poll_turns.c).
POLL_TURNS_OBJS := $(call objs,test,$(KVM_SRCS) bench/forward/poll_turns.c)
$(BUILD)/bench/kvm/poll_turns.kvm: $(POLL_TURNS_OBJS) $(call lib_archives,test) \
		$(BUILD)/tools/ldgen $(SEED_STAMP)
	$(call link_image,kvm,poll_turns,test,$(POLL_TURNS_OBJS))
bench-forward: deps
	@tools/deps test
	@$(MAKE) --no-print-directory all $(BUILD)/bench/udp_flood $(BUILD)/bench/udp_sink \
		$(BUILD)/bench/udp_rr $(BUILD)/bench/udp_echo $(BUILD)/bench/tap_relay \
		$(BUILD)/bench/kvm/poll_turns.kvm
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/bench-forward \
		RULES=bench/forward/forward.rules $(BUILD)/bench-forward/kvm/firewall.kvm
	@flock /tmp/ingot-bench.lock bench/forward/run
# The virtio target on QEMU: launch to exit against QEMU's own floor, DNS
# against ingot-kvm and NSD, UDP echo and TCP against ingot-kvm.
.PHONY: bench-virtio
bench-virtio: deps
	@tools/deps test
	@tools/deps bench
	@$(MAKE) --no-print-directory all $(BUILD)/bench/virtio-floor $(BUILD)/bench/udp_rr
	@flock /tmp/ingot-bench.lock bench/virtio/boot
	@flock /tmp/ingot-bench.lock bench/virtio/dns
	@flock /tmp/ingot-bench.lock bench/virtio/run
# QEMU's floor: a PVH guest that exits at its first instruction.
$(BUILD)/bench/virtio-floor: bench/virtio/floor.S bench/virtio/floor.ld
	@mkdir -p $(@D)
	$(call quiet,LD,$@)$(CC) -c -o $@.o $< && \
		$(LD) -nostdlib -static --build-id=none -T bench/virtio/floor.ld -o $@ $@.o

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
