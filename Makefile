# stswatch: build, test, benchmark and install. Plain GNU make with pkg-config.
#   make            build build/stswatch (and build/check_mta_sts, the systemd units)
#   make run        install missing Debian packages, build, run the main job once
#   make check      no root, no network, installs nothing: unit tests, short fuzz runs
#                   and the fake-server probe tests (tests/fakes), all under ASan/UBSan
#   make test       as root: lint, unit tests, fuzz runs, the lab (real servers in a netns)
#                   plain and under ASan/UBSan, the engines, the installed tree
#   make bench      the benchmark in the lab; figures go to stdout
#   make lint       the layer order of the folders, cppcheck
#   make install    DESTDIR, PREFIX, BINDIR, SYSCONFDIR, LOCALSTATEDIR, UNITDIR... honoured
#   make deb        the Debian packages (dpkg-buildpackage, debian/) into build/deb/, lintian
#   make deb-test   as root: build, install, upgrade, remove and purge them (tests/deb.sh)
# V=1 shows the commands; WERROR=0 for packagers whose compiler warns more. CPPFLAGS,
# CFLAGS and LDFLAGS are the packager's (for example from dpkg-buildflags) and reach
# every compile and link; what the build needs itself is added to them, never replaced.

VERSION := 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
PLUGINDIR ?= $(PREFIX)/lib/nagios/plugins
# systemd reads units, sysusers.d and tmpfiles.d under /usr/lib and /usr/local/lib alike
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
# the service's group (packaging/systemd/stswatch.sysusers creates it): it may read the
# configuration, installed 0640 root:$(SERVICE_GROUP) when that group exists
SERVICE_GROUP ?= stswatch

BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libcurl libcares libconfig jansson sqlite3 openssl libsystemd libidn2
WERROR ?= 1
SAN ?= 0

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wno-format-nonliteral -Wvla -Wpointer-arith -Wundef
ifeq ($(WERROR),1)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
CPPFLAGS ?=
LDFLAGS ?=
# what the build needs comes first; the packager's CPPFLAGS (-D_FORTIFY_SOURCE=2...) and
# CFLAGS follow, so theirs win where both set something
ALL_CPPFLAGS := -D_GNU_SOURCE -I. -DSTSWATCH_VERSION='"$(VERSION)"' \
	-DSTSWATCH_SYSCONFDIR='"$(SYSCONFDIR)"' -DSTSWATCH_LOCALSTATEDIR='"$(LOCALSTATEDIR)"' \
	$(CPPFLAGS)
SAN_FLAGS :=
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ALL_CFLAGS := -std=c11 $(WARN) $(CFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS := $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS)
LDLIBS := $(PKG_LIBS) -lm

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

LIB_SRCS := $(filter-out agent/main.c,$(wildcard lib/*.c agent/*.c checks/*.c alerts/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/agent/main.o
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_OBJS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/obj/tests/unit/%.o)
UNIT_FIXTURE := $(BUILD)/obj/tests/unit/fixture.o
# made by pattern rules only, so make would delete them as intermediates after each run
# and compile them again the next time
.SECONDARY: $(UNIT_OBJS) $(UNIT_FIXTURE)

# systemd units: the daemon's stswatch.service and the timer's stswatch-run.service are
# made from packaging/systemd/*.service.in with the install paths (ExecStart follows
# BINDIR); the timer names no path
GEN_UNITS := $(BUILD)/systemd/stswatch.service $(BUILD)/systemd/stswatch-run.service
UNIT_FILES := $(GEN_UNITS) packaging/systemd/stswatch-run.timer

.PHONY: all run test check unit install uninstall clean deps lint deb deb-test FORCE
.DEFAULT_GOAL := all

# the README's run command: the main job once, on the example configuration, with the
# database under ./state (a development checkout needs no root and touches no /var)
RUN_CONFIG ?= packaging/stswatch.conf.example
RUN_DB ?= state/stswatch.db

all: $(BUILD)/stswatch $(BUILD)/check_mta_sts $(GEN_UNITS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libstswatch.a: $(LIB_OBJS)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(BUILD)/stswatch: $(MAIN_OBJ) $(BUILD)/libstswatch.a
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/check_mta_sts: $(BUILD)/stswatch
	$(Q)ln -sf stswatch $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_FIXTURE) $(BUILD)/libstswatch.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka -lsqlite3

# The install paths the generated files name, rewritten only when one changes, so
# "make install BINDIR=..." after "make" makes the units again (and only then).
$(BUILD)/paths: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' 'BINDIR=$(BINDIR)' 'SYSCONFDIR=$(SYSCONFDIR)' \
		'LOCALSTATEDIR=$(LOCALSTATEDIR)' >$@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi

$(BUILD)/systemd/%: packaging/systemd/%.in $(BUILD)/paths
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		-e 's|@LOCALSTATEDIR@|$(LOCALSTATEDIR)|g' $< >$@.new && mv -f $@.new $@

# Debian packages are installed on demand (as root), or the command is printed.
deps:
	$(Q)scripts/deps.sh build

run:
	$(Q)scripts/deps.sh build
	$(Q)$(MAKE) --no-print-directory all
	$(BUILD)/stswatch run --once -c $(RUN_CONFIG) --db $(RUN_DB)

# The root tier: lint, the unit tests, the fuzz runs, the lab's selftest, the integration
# suite against the lab's real servers (plain, then again under ASan/UBSan so the real
# probes on real peers run sanitized too), the monitoring engines and the installed tree
# (tests/install.sh: DESTDIR and PREFIX installs, systemd-analyze verify, sysusers.d and
# tmpfiles.d applied to the staged tree, uninstall). Needs root for the lab's network
# namespace (the lab says so) and installs the Debian packages it needs.
test:
	$(Q)scripts/deps.sh test
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)$(MAKE) --no-print-directory fuzz
	$(Q)$(MAKE) --no-print-directory lab-selftest
	$(Q)$(MAKE) --no-print-directory lab-test
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SAN=1 lab-test
	$(Q)$(MAKE) --no-print-directory env-test
	$(Q)$(MAKE) --no-print-directory engines-validate SKIP=fail
	$(Q)$(MAKE) --no-print-directory install-test
	@echo "make test: all passed"

# The tier that needs no root, no network and installs nothing (scripts/deps.sh check
# prints the apt-get command and fails when a package is missing): under ASan/UBSan, in a
# build directory of its own, the unit tests, short fuzz runs, the probes against the
# scripted fake servers on 127.0.0.1 (tests/fakes) and the binary against hostile
# arguments and files (tests/cli).
CHECK_BUILD ?= $(BUILD)/asan
CHECK_FUZZ := FUZZ_RUNS=20000 FUZZ_RUNS_policy=10000 FUZZ_RUNS_tlscert=1000 FUZZ_RUNS_config=5000
check:
	$(Q)scripts/deps.sh check
	$(Q)$(MAKE) --no-print-directory BUILD=$(CHECK_BUILD) SAN=1 all unit
	$(Q)$(MAKE) --no-print-directory BUILD=$(CHECK_BUILD) SAN=1 $(CHECK_FUZZ) fuzz
	$(Q)$(MAKE) --no-print-directory BUILD=$(CHECK_BUILD) SAN=1 fakes-test
	$(Q)$(MAKE) --no-print-directory BUILD=$(CHECK_BUILD) SAN=1 cli-test
	@echo "make check: all passed under ASan/UBSan"

# the installed tree, see tests/install.sh (root: it applies sysusers.d and tmpfiles.d
# to a staged tree, which chowns)
.PHONY: install-test
install-test: all
	$(Q)MAKE=$(MAKE) tests/install.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/stswatch $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 0755 $(BUILD)/stswatch $(DESTDIR)$(BINDIR)/stswatch
	ln -sfn "$$(realpath -sm --relative-to=$(PLUGINDIR) $(BINDIR)/stswatch)" \
		$(DESTDIR)$(PLUGINDIR)/check_mta_sts
	install -m 0644 packaging/man/stswatch.1 packaging/man/check_mta_sts.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 packaging/man/stswatch.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(UNIT_FILES) $(DESTDIR)$(UNITDIR)/
	install -m 0644 packaging/systemd/stswatch.sysusers $(DESTDIR)$(SYSUSERSDIR)/stswatch.conf
	install -m 0644 packaging/systemd/stswatch.tmpfiles $(DESTDIR)$(TMPFILESDIR)/stswatch.conf
	$(Q)conf=$(DESTDIR)$(SYSCONFDIR)/stswatch/stswatch.conf; \
	if [ -e "$$conf" ]; then echo "kept $$conf (not replaced)"; \
	elif getent group $(SERVICE_GROUP) >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo install -m 0640 -o root -g $(SERVICE_GROUP) packaging/stswatch.conf "$$conf"; \
		install -m 0640 -o root -g $(SERVICE_GROUP) packaging/stswatch.conf "$$conf"; \
	else \
		echo install -m 0640 packaging/stswatch.conf "$$conf"; \
		install -m 0640 packaging/stswatch.conf "$$conf"; \
		echo "note: group $(SERVICE_GROUP) does not exist here (or this is not root): $$conf is"; \
		echo "      0640 $$(id -un):$$(id -gn), which the service cannot read. Once the group exists"; \
		echo "      (systemd-sysusers $(SYSUSERSDIR)/stswatch.conf): chgrp $(SERVICE_GROUP) $(SYSCONFDIR)/stswatch/stswatch.conf"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/stswatch $(DESTDIR)$(PLUGINDIR)/check_mta_sts \
		$(DESTDIR)$(MANDIR)/man1/stswatch.1 $(DESTDIR)$(MANDIR)/man1/check_mta_sts.1 \
		$(DESTDIR)$(MANDIR)/man5/stswatch.conf.5 $(DESTDIR)$(UNITDIR)/stswatch.service \
		$(DESTDIR)$(UNITDIR)/stswatch-run.service $(DESTDIR)$(UNITDIR)/stswatch-run.timer \
		$(DESTDIR)$(SYSUSERSDIR)/stswatch.conf \
		$(DESTDIR)$(TMPFILESDIR)/stswatch.conf

# The Debian packages (debian/): dpkg-buildpackage -b in a copy of the tree under
# $(BUILD)/deb/src (its clean step must not delete this build directory), the source
# package beside them for lintian; .deb, .buildinfo, .changes, .dsc end in $(BUILD)/deb/.
# scripts/deb.sh prints the lintian summary and fails on any error or warning.
deb:
	$(Q)scripts/deps.sh deb
	$(Q)scripts/deb.sh $(BUILD)/deb

# As root: make deb, then install, check, upgrade, remove and purge the packages as a
# user would (apt-get install ./...deb), and leave the machine as it was (tests/deb.sh).
deb-test:
	$(Q)scripts/deps.sh deb-test
	$(Q)$(MAKE) --no-print-directory deb
	$(Q)tests/deb.sh $(BUILD)/deb

# the layer order (scripts/check-layers.sh), then cppcheck on every folder of C
lint:
	$(Q)scripts/check-layers.sh
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
		--suppress=missingIncludeSystem -D_GNU_SOURCE -I. $(wildcard lib agent checks alerts tests/fakes)
	@echo "ok   lint: cppcheck"


unit: $(UNIT_BINS)
	$(Q)failed=0; for t in $(UNIT_BINS); do \
		if ! $$t >$$t.log 2>&1; then echo "FAIL $$t"; cat $$t.log; failed=1; \
		else echo "ok   $$t ($$(grep -c '\[       OK \]' $$t.log) tests)"; fi; \
	done; exit $$failed

clean:
	rm -rf $(BUILD) build-*

include tests/fuzz/fuzz.mk
include tests/fakes/fakes.mk
include tests/engines/engines.mk
include tests/lab/lab.mk
include tests/bench/bench.mk
include tests/env/env.mk
include tests/cli/cli.mk

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_OBJS:.o=.d) $(UNIT_FIXTURE:.o=.d) \
	$(FAKES_OBJS:.o=.d)
