# mls — build, test, fuzz and measure.
#
#   make                       build/mls: static x86_64 musl binary, stripped
#   make demo                  build, then run mls supervise on config/demo.yaml
#                              (foreground; state and logs in build/run/)
#   make NO_GIT=1 NO_TLS=1     build/min/mls: without libgit2 and BearSSL
#                              (one of them alone: build/nogit/, build/notls/)
#   make ARCH=aarch64          build/aarch64/mls    (also ARCH=armhf)
#   make dev                   build/dev/mls: glibc, ASan+UBSan, -g -O1
#   make test                  unit tests (musl and dev) and tests/*.t, by prove;
#                              then test-browser when /usr/bin/chromium is there
#                              (under CI=true a missing chromium fails)
#   make test-browser          the dashboard in headless chromium (tests/browser/,
#                              playwright-core); screenshots into docs/
#   make test-cross            --version and validate config/ under qemu
#   make image                 build/mls-image.tar: docker/Dockerfile's image as
#                              an OCI layout, no container engine needed
#                              (ARCH=aarch64: build/aarch64/mls-image.tar)
#   make rootfs ARCH=aarch64   build/rootfs-aarch64.tar.gz: rootfs/ with mls,
#                              to unpack over a Raspberry Pi OS image
#   make test-boot ARCH=A      mls as /init of Debian's kernel in qemu-system
#                              (TCG), A = x86_64 or aarch64: boot, services,
#                              poweroff and reboot (tests/boot/, docs/init.md)
#   make size                  full and minimal build, their sizes
#   make fuzz                  each tests/fuzz/fuzz_*.c for FUZZ_SECONDS
#   make bench                 sizes, validate timings, peak RSS
#   make deps                  only the libraries of the current target
#   make clean                 everything but the libraries and sources
#   make distclean             all of build/
#   V=1                        show full compiler command lines
#
# The libraries (libyaml, cJSON, BearSSL, zlib, http-parser, libgit2) are
# built from Debian source packages pinned with sha256 sums in
# deps/sources.lock (see deps/README.md), once per target, into
# build/deps/<target>/{include,lib}; a stamp per library makes the next `make`
# rebuild only mls. Missing tools are installed by scripts/install-tools.sh.
#
# One make run builds one configuration: ARCH and NO_GIT/NO_TLS for the
# static musl binary, or KIND=dev / KIND=fuzz (set by the dev, test and fuzz
# targets, which call make again for each configuration they need).

ARCH   ?= x86_64
NO_GIT ?= 0
NO_TLS ?= 0
KIND   ?= release

V            ?= 0
FUZZ_SECONDS ?= 60
FUZZ_MERGE   ?= 0
PROVE_FLAGS  ?=

.SUFFIXES:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

B       := build
SRC_DIR := $(B)/src
LOCK    := deps/sources.lock

# Quiet by default: one short line per step
ifeq ($(V),1)
  Q :=
  say :=
else
  Q := @
  say = @printf '  %-7s %s\n' $(1) $(2);
endif

# yes/1/true count as set
override NO_GIT := $(if $(filter 1 y yes true,$(NO_GIT)),1,0)
override NO_TLS := $(if $(filter 1 y yes true,$(NO_TLS)),1,0)

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

# What the C code is told
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-unknown)
BEARSSL_VERSION := $(shell awk '$$1 == "bearssl" { print $$2; exit }' $(LOCK))
HAVE_GIT := $(if $(filter 1,$(NO_GIT)),0,1)
HAVE_TLS := $(if $(filter 1,$(NO_TLS)),0,1)

# Feature tag, for directory names: full, min, nogit, notls
FEAT := $(if $(filter 00,$(NO_GIT)$(NO_TLS)),full,$(if $(filter 11,$(NO_GIT)$(NO_TLS)),min,$(if $(filter 1,$(NO_GIT)),nogit,notls)))
FEAT_DIR := $(if $(filter full,$(FEAT)),,/$(FEAT))

# For the static musl binary and its libraries (measured in
# docs/size.md): -Oz (GCC 12: size first, beyond -Os; a clone's CPU time
# did not change), every function and object in its own section (for
# --gc-sections), no unwind tables (C needs none), code that is not
# position-independent (-static makes a fixed-address executable anyway:
# -fno-pie only drops PIE's longer address forms), and link-time
# optimisation across mls and the libraries (their archives made with
# gcc-ar, which carries the LTO plugin).
SIZE_FLAGS := -Oz -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-pie -flto=auto

SAN := -fsanitize=address,undefined -fno-omit-frame-pointer

ifeq ($(KIND),release)
  # Static musl, x86_64 or cross. The compiler may carry arguments (specs).
  ifeq ($(ARCH),x86_64)
    CROSS     :=
    CC        := musl-gcc
    TOOLS_CC  := musl
  else ifeq ($(ARCH),aarch64)
    CROSS     := aarch64-linux-gnu-
    CC        := $(CROSS)gcc -specs /usr/lib/aarch64-linux-musl/musl-gcc.specs
    QEMU      := qemu-aarch64-static
    TOOLS_CC  := aarch64
    CMAKE_ARGS := -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64
  else ifeq ($(ARCH),armhf)
    CROSS     := arm-linux-gnueabihf-
    CC        := $(CROSS)gcc -specs /usr/lib/arm-linux-musleabihf/musl-gcc.specs
    QEMU      := qemu-arm-static
    TOOLS_CC  := armhf
    CMAKE_ARGS := -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=arm
  else
    $(error ARCH must be x86_64, aarch64 or armhf, not '$(ARCH)')
  endif
  MLS_ARCH   := $(ARCH)
  OPT        := $(SIZE_FLAGS)
  # -z norelro: a static musl binary never makes its RELRO part read-only
  # (that is the dynamic linker's job; /proc/PID/maps shows it rw), so the
  # segment only cost page padding.
  # The LTO link compiles libgit2 again, with mls's -Wall: its six
  # maybe-uninitialized warnings (libgit2's code, looked at in docs/size.md)
  # would show on every link. mls's own code gets them when compiled.
  # -z noseparate-code: rodata and the headers share the executable
  # segment instead of pages of their own (-4 KiB; the reserve of
  # docs/size.md, taken for issue 13: init mode).
  LDFLAGS    := -static -no-pie -Wl,--gc-sections -Wl,-z,norelro -Wl,-z,noseparate-code -Wno-maybe-uninitialized
  DEP_TARGET := $(ARCH)
  DEP_CC     := $(CC)
  DEP_CFLAGS := $(SIZE_FLAGS)
  # (CMake's compiler checks link: not as PIE, the objects are not PIC)
  DEP_LDFLAGS := -no-pie
  AR         := $(CROSS)gcc-ar
  RANLIB     := $(CROSS)gcc-ranlib
  OBJ        := $(B)/obj/$(ARCH)-$(FEAT)
  OUT        := $(B)$(if $(filter x86_64,$(ARCH)),,/$(ARCH))$(FEAT_DIR)
  STRIP_BIN  := yes
else ifeq ($(KIND),dev)
  # glibc, sanitizers, debug info; the libraries built the same way
  CROSS      :=
  CC         := gcc
  TOOLS_CC   := dev
  MLS_ARCH   := $(subst armv7l,armhf,$(shell uname -m))
  OPT        := -g -O1 $(SAN)
  LDFLAGS    := $(SAN)
  DEP_TARGET := dev
  DEP_CC     := gcc
  # libgit2's SHA1DC does misaligned loads that UBSan stops on
  DEP_CFLAGS := -g -O1 $(SAN) -DSHA1DC_FORCE_ALIGNED_ACCESS
  DEP_LDFLAGS := $(SAN)
  OBJ        := $(B)/obj/dev-$(FEAT)
  OUT        := $(B)/dev$(FEAT_DIR)
  STRIP_BIN  :=
else ifeq ($(KIND),fuzz)
  # clang + libFuzzer; no git. BearSSL is in (SHA-256 and HMAC for
  # fuzz_httpauth's session cookies), built like the other libraries.
  override NO_GIT := 1
  override NO_TLS := 0
  override HAVE_GIT := 0
  override HAVE_TLS := 1
  override FEAT := nogit
  CROSS      :=
  CC         := clang
  TOOLS_CC   := fuzz
  MLS_ARCH   := $(subst armv7l,armhf,$(shell uname -m))
  OPT        := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
  LDFLAGS    := -fsanitize=fuzzer,address,undefined
  DEP_TARGET := fuzz
  DEP_CC     := clang
  DEP_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer
  DEP_LDFLAGS := -fsanitize=fuzzer-no-link,address
  OBJ        := $(B)/obj/fuzz
  OUT        := $(B)/fuzz
  STRIP_BIN  :=
else
  $(error KIND must be release, dev or fuzz, not '$(KIND)')
endif

# (release: gcc-ar and gcc-ranlib, set above, for the LTO objects)
ifneq ($(KIND),release)
  AR     := $(CROSS)ar
  RANLIB := $(CROSS)ranlib
endif
STRIP  := $(CROSS)strip

DEP_DIR := $(B)/deps/$(DEP_TARGET)

# Libraries, in link order
DEP_PKGS := $(if $(filter 1,$(HAVE_GIT)),libgit2 http-parser zlib) \
	$(if $(filter 1,$(HAVE_TLS)),bearssl) cjson libyaml
LDLIBS := -L$(DEP_DIR)/lib \
	$(if $(filter 1,$(HAVE_GIT)),-lgit2 -lhttp_parser -lz) \
	$(if $(filter 1,$(HAVE_TLS)),-lbearssl) -lcjson -lyaml

CPPFLAGS = -Ilib -Iapplets -I$(DEP_DIR)/include -D_GNU_SOURCE \
	-DMLS_VERSION='"$(VERSION)"' \
	-DMLS_ARCH='"$(MLS_ARCH)"' \
	-DMLS_HAVE_GIT=$(HAVE_GIT) \
	-DMLS_HAVE_TLS=$(HAVE_TLS) \
	-DMLS_BEARSSL_VERSION='"$(BEARSSL_VERSION)"'
CFLAGS = -std=c11 -Wall -Wextra $(OPT)

# ---------------------------------------------------------------------------
# Sources and outputs
# ---------------------------------------------------------------------------

APPLET_SRCS := $(wildcard applets/*.c applets/*/*.c)
LIB_SRCS    := $(wildcard lib/*.c)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_HELPER_SRCS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)

APPLET_OBJS := $(APPLET_SRCS:%.c=$(OBJ)/%.o)
# The dashboard (web/, served by mls httpd: docs/dashboard.md), gzip'd into
# a generated C file by scripts/embed-web.sh; index.html first (it is "/")
WEB_FILES   := web/index.html web/app.js web/style.css
WEB_C       := $(OBJ)/gen/web.c
APPLET_OBJS += $(OBJ)/gen/web.o
LIB_OBJS    := $(LIB_SRCS:%.c=$(OBJ)/%.o)
UNIT_HELPER_OBJS := $(UNIT_HELPER_SRCS:%.c=$(OBJ)/%.o)
LIBMLS      := $(OBJ)/libmls.a

MLS        := $(OUT)/mls
UNIT_DIR   := $(OUT)/unit
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(UNIT_DIR)/%)
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_BINS  := $(FUZZ_NAMES:%=$(OUT)/%)

DEP_STAMPS := $(DEP_PKGS:%=$(DEP_DIR)/stamp/%)

# ---------------------------------------------------------------------------
# Targets for people (each calls make again for the configurations it needs)
# ---------------------------------------------------------------------------

.PHONY: all mls deps unit dev test test-browser test-cross test-boot size fuzz fuzz-build bench demo image rootfs \
	clean distclean help FORCE

all: $(MLS)
mls: $(MLS)
deps: $(DEP_STAMPS)
unit: $(UNIT_BINS)
fuzz-build: $(FUZZ_BINS)

dev:
	@$(MAKE) --no-print-directory KIND=dev all

# Size limits (bytes) checked by `make size`. The minimal build's was 320
# KiB until health checks (issue 8) brought musl's resolver (getaddrinfo,
# about 15 KiB, for `mls health` on host names), the probes, the notify
# parser and /proc metrics: 342 KiB then, so 360 KiB. mls httpd (issue 9:
# the HTTP server, the API, SSE, metrics; plain HTTP in this build) took it
# to 390 KiB: 416 KiB. The dashboard page (12.7 KiB gzip) and webhooks
# (issue 10) took it to 426 KiB: 448 KiB.
MAX_FULL := 1048576
MAX_MIN  := 458752

# Everything prove runs: integration scripts, then unit tests built twice
TESTS := $(sort $(wildcard tests/*.t)) \
	$(UNIT_SRCS:tests/unit/%.c=$(B)/unit/%) \
	$(UNIT_SRCS:tests/unit/%.c=$(B)/dev/unit/%)

TEST_ENV := MLS=$(abspath $(B)/mls) MLS_DEV=$(abspath $(B)/dev/mls) \
	TESTS_DIR=$(abspath tests) \
	ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

test:
	@scripts/install-tools.sh test
	@$(MAKE) --no-print-directory ARCH=x86_64 KIND=release NO_GIT=0 NO_TLS=0 all unit
	@$(MAKE) --no-print-directory KIND=dev NO_GIT=0 NO_TLS=0 all unit
	$(TEST_ENV) prove --exec '' $(PROVE_FLAGS) $(TESTS)
	@if [ -x $(CHROMIUM) ]; then \
		$(MAKE) --no-print-directory test-browser SCREENSHOT_DIR=$(B)/browser; \
	elif [ "$$CI" = true ]; then \
		echo "test: no $(CHROMIUM) under CI: the browser test cannot run (scripts/install-tools.sh browser)"; exit 1; \
	else \
		echo "test: no $(CHROMIUM): browser test skipped (scripts/install-tools.sh browser)"; \
	fi

# The dashboard in a real browser: Debian's chromium, headless, driven by
# playwright-core (pinned in tests/browser/package-lock.json). The
# screenshots for the README go to SCREENSHOT_DIR (docs/; `make test` puts
# them in build/browser/ so that it leaves the tree as it was).
CHROMIUM       ?= /usr/bin/chromium
SCREENSHOT_DIR ?= docs
test-browser:
	@scripts/install-tools.sh browser
	@$(MAKE) --no-print-directory ARCH=x86_64 KIND=release NO_GIT=0 NO_TLS=0 all
	@cd tests/browser && { [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json node_modules/.lock-copy || \
		{ npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.lock-copy; }; }
	cd tests/browser && MLS=$(abspath $(B)/mls) CHROMIUM=$(CHROMIUM) SCREENSHOT_DIR=$(abspath $(SCREENSHOT_DIR)) \
		node --test --test-reporter=spec dashboard.test.mjs

# Cross binaries under qemu: --version runs, and `validate config/` gives the
# same report and exit status as the native binary. Default ARCH: both.
CROSS_ARCHS := $(if $(filter x86_64,$(ARCH)),aarch64 armhf,$(ARCH))
test-cross:
	@scripts/install-tools.sh test qemu $(CROSS_ARCHS)
	@$(MAKE) --no-print-directory ARCH=x86_64 KIND=release all
	@for a in $(CROSS_ARCHS); do \
		$(MAKE) --no-print-directory ARCH=$$a KIND=release all || exit 1; \
	done
	@scripts/test-cross.sh $(B)/mls $(foreach a,$(CROSS_ARCHS),$(B)/$(a)/mls)

# The image of docker/Dockerfile without an engine (docs/container.md):
# an OCI image layout in a tar, for `docker load` / `podman load`.
# Reproducible: its dates are the commit's.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
image:
	@scripts/install-tools.sh demo
	@$(MAKE) --no-print-directory KIND=release all
	@scripts/oci-image.py $(OUT)/mls-image.tar $(MLS) docker/root $(ARCH) $(subst +,-,$(VERSION))

# rootfs/ and the static binary of ARCH, for Raspberry Pi OS / Debian
# images where mls is init (rootfs/README.md)
rootfs:
	@$(MAKE) --no-print-directory KIND=release all
	@scripts/mk-rootfs.sh $(MLS) $(B)/rootfs-$(ARCH).tar.gz
# mls as the init of a real kernel: Debian's kernel and busybox-static
# (apt-get download, cached in build/boot/), an initramfs with mls as
# /init, qemu-system without KVM; two boots (poweroff, reboot) asserted
# from the serial console. Not part of `make test`: about a minute per
# architecture. Boot times are appended to build/boot/ARCH/times.
BOOT_ARCH := $(if $(filter aarch64,$(ARCH)),aarch64,x86_64)
test-boot:
	@scripts/install-tools.sh boot test $(filter aarch64,$(ARCH))
	@$(MAKE) --no-print-directory ARCH=$(BOOT_ARCH) KIND=release all
	MLS=$(abspath $(B))$(if $(filter aarch64,$(BOOT_ARCH)),/aarch64)/mls TESTS_DIR=$(abspath tests) \
		BOOT_ARCH=$(BOOT_ARCH) BOOT_DIR=$(abspath $(B)/boot) prove -v tests/boot/boot.t

# The README's main job: the demo services in the foreground, Ctrl-C stops
demo: $(MLS)
	@scripts/install-tools.sh demo
	@scripts/demo-repo.sh
	@mkdir -p build/demo-servers && cp -n config/demo/servers/* build/demo-servers/
	@echo "mls demo: watch it from another shell: $(MLS) ctl -s build/run/mls.sock top"
	@echo "mls demo: the dashboard: http://127.0.0.1:9000/ (log in with demo-token-0123456789, or demo-read-0123456789 to look only)"
	@echo "mls demo: the API: curl -H 'Authorization: Bearer demo-token-0123456789' http://127.0.0.1:9000/api/v1/status; /metrics needs none"
	@echo "mls demo: deploy from git: edit build/demo-app/app.sh, then: git -C build/demo-app commit -qam change && git -C build/demo-app push -q"
	@echo "mls demo: drop a server in: cp build/demo-servers/hello.py build/demo-servers/hi.py (rm it to stop it)"
	@exec $(MLS) supervise -c config/demo.yaml

size:
	@$(MAKE) --no-print-directory KIND=release NO_GIT=0 NO_TLS=0 all
	@$(MAKE) --no-print-directory KIND=release NO_GIT=1 NO_TLS=1 all
	@full=$(B)$(if $(filter x86_64,$(ARCH)),,/$(ARCH)); \
	fs=$$(stat -c %s $$full/mls); ms=$$(stat -c %s $$full/min/mls); \
	printf '%-28s %8d bytes (%d KiB), limit %d\n' \
		"$$full/mls" $$fs $$((fs / 1024)) $(MAX_FULL) \
		"$$full/min/mls" $$ms $$((ms / 1024)) $(MAX_MIN); \
	if [ $(ARCH) != x86_64 ]; then \
		echo "size: the limits are for x86_64 (the issue's budget); $(ARCH) code is larger, reported only"; \
		exit 0; fi; \
	[ $$fs -le $(MAX_FULL) ] || { echo "size: $$full/mls is over $(MAX_FULL) bytes"; exit 1; }; \
	[ $$ms -le $(MAX_MIN) ] || { echo "size: $$full/min/mls is over $(MAX_MIN) bytes"; exit 1; }

# Each target runs FUZZ_SECONDS on tests/fuzz/corpus/<target>/ (read only);
# what it finds goes to build/fuzz/corpus/<target>/, crashes to
# build/fuzz/artifacts/. FUZZ_MERGE=1 merges new finds into the repo corpus.
fuzz:
	@scripts/install-tools.sh fuzz
	@$(MAKE) --no-print-directory KIND=fuzz fuzz-build
	@set -e; for t in $(FUZZ_NAMES); do \
		mkdir -p $(B)/fuzz/corpus/$$t $(B)/fuzz/artifacts/$$t; \
		seed=; [ -d tests/fuzz/corpus/$$t ] && seed=tests/fuzz/corpus/$$t; \
		dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(B)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(B)/fuzz/artifacts/$$t/ $$dict \
			$(B)/fuzz/corpus/$$t $$seed 2>$(B)/fuzz/$$t.log \
			|| { tail -n 60 $(B)/fuzz/$$t.log; \
			     echo "fuzz: $$t FAILED, see $(B)/fuzz/$$t.log and $(B)/fuzz/artifacts/$$t/"; \
			     exit 1; }; \
		grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ +DONE)' $(B)/fuzz/$$t.log || true; \
		if [ "$(FUZZ_MERGE)" = 1 ]; then \
			mkdir -p tests/fuzz/corpus/$$t; \
			$(B)/fuzz/$$t -merge=1 -max_len=65536 tests/fuzz/corpus/$$t \
				$(B)/fuzz/corpus/$$t 2>>$(B)/fuzz/$$t.log; \
		fi; \
	done

bench:
	@scripts/install-tools.sh bench aarch64
	@$(MAKE) --no-print-directory size ARCH=x86_64
	@$(MAKE) --no-print-directory size ARCH=aarch64
	@MLS=$(B)/mls MLS_MIN=$(B)/min/mls \
		MLS_AARCH64=$(B)/aarch64/mls MLS_AARCH64_MIN=$(B)/aarch64/min/mls \
		BENCH_DIR=$(B)/bench tests/bench/bench.sh

clean:
	rm -rf $(B)/obj $(B)/mls $(B)/min $(B)/nogit $(B)/notls $(B)/unit \
		$(B)/dev $(B)/fuzz $(B)/aarch64 $(B)/armhf $(B)/bench

distclean:
	rm -rf $(B)

help:
	@sed -n '3,/^$$/s/^# \{0,1\}//p' Makefile

# ---------------------------------------------------------------------------
# One configuration: compile, archive, link
# ---------------------------------------------------------------------------

# Objects are rebuilt when the compile command changes (flags, version).
# (the link flags too: the objects of an LTO build are compiled again at
# the link, and a changed -Wl,... must relink)
COMPILE = $(CC) $(CPPFLAGS) $(CFLAGS)
$(OBJ)/.flags: FORCE | tools-$(TOOLS_CC)
	@mkdir -p $(@D)
	@printf '%s\n' '$(subst ','\'',$(COMPILE) $(LDFLAGS))' >$@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv -f $@.new $@

$(OBJ)/%.o: %.c $(OBJ)/.flags $(DEP_STAMPS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(COMPILE) -MMD -MP -c $< -o $@

$(WEB_C): $(WEB_FILES) scripts/embed-web.sh
	@mkdir -p $(@D)
	$(call say,EMBED,$@)scripts/embed-web.sh $@ $(WEB_FILES)
$(OBJ)/gen/web.o: $(WEB_C) $(OBJ)/.flags
	$(call say,CC,$@)$(COMPILE) -c $< -o $@

# Unit tests and fuzz targets also see their own directory's headers.
# (private: not passed on to their prerequisites, such as .flags)
$(OBJ)/tests/%.o: private CPPFLAGS += -Itests/unit -Itests/fuzz

# lib/ as an archive: a test or fuzz target takes only what it uses
$(LIBMLS): $(LIB_OBJS)
	@rm -f $@
	$(call say,AR,$@)$(AR) rcD $@ $^

ifeq ($(STRIP_BIN),yes)
# Keep the unstripped binary beside the objects (symbols for bloat hunting)
$(MLS): $(OBJ)/mls.debug
	@mkdir -p $(@D)
	$(call say,STRIP,$@)$(STRIP) --strip-all -R .comment -o $@.tmp $< && mv -f $@.tmp $@
$(OBJ)/mls.debug: $(APPLET_OBJS) $(LIB_OBJS)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
else
$(MLS): $(APPLET_OBJS) $(LIB_OBJS)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
endif

# A unit test: its own main() + helpers + lib/ (no applets) + libraries
$(UNIT_DIR)/%: $(OBJ)/tests/unit/%.o $(UNIT_HELPER_OBJS) $(LIBMLS)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A libFuzzer target (KIND=fuzz)
$(OUT)/fuzz_%: $(OBJ)/tests/fuzz/fuzz_%.o $(LIBMLS)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the fuzz target itself is compiled with the full -fsanitize=fuzzer
$(OBJ)/tests/fuzz/%.o: private OPT = -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------
# Libraries from pinned Debian sources
# ---------------------------------------------------------------------------

# Download (cached in build/src/dl), check against the lock, unpack with
# Debian's patches. Shared by every target.
$(SRC_DIR)/%/.extracted: $(LOCK) scripts/fetch-dep.sh | tools-deps
	$(Q)scripts/fetch-dep.sh $* $(SRC_DIR)

# The libraries are rebuilt when their toolchain or flags change.
DEP_CONF := $(DEP_CC) | $(DEP_CFLAGS) | $(DEP_LDFLAGS) | $(CMAKE_ARGS) | $(AR)
$(DEP_DIR)/.flags: FORCE | tools-$(TOOLS_CC)
	@mkdir -p $(@D)
	@printf '%s\n' '$(subst ','\'',$(DEP_CONF))' >$@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv -f $@.new $@

$(DEP_DIR)/stamp/%: $(SRC_DIR)/%/.extracted $(DEP_DIR)/.flags scripts/build-dep.sh | tools-deps
	@echo "deps: building $* for $(DEP_TARGET)"
	@CC='$(DEP_CC)' CFLAGS='$(DEP_CFLAGS)' LDFLAGS='$(DEP_LDFLAGS)' \
		AR='$(AR)' RANLIB='$(RANLIB)' CMAKE_ARGS='$(CMAKE_ARGS)' \
		scripts/build-dep.sh $* $(SRC_DIR)/$* $(DEP_DIR)
	@mkdir -p $(@D) && touch $@

# libgit2 links against our zlib and http-parser
$(DEP_DIR)/stamp/cjson: deps/shim/cjson-sscanf.c
$(DEP_DIR)/stamp/libgit2: $(DEP_DIR)/stamp/zlib $(DEP_DIR)/stamp/http-parser

# Sources stay unpacked between runs (make would delete them as intermediates)
.SECONDARY:

# Tools: scripts/install-tools.sh GROUP is silent when all is there.
tools-%: FORCE
	@scripts/install-tools.sh $*

FORCE:
