# stswatch: build, test, benchmark and install. Plain GNU make with pkg-config.
#   make            build build/stswatch (and build/check_mta_sts)
#   make run        install missing Debian packages, build, run the main job once
#   make test       unit tests, fuzz smoke runs, the lab (real servers in a netns)
#   make check      everything again under AddressSanitizer and UBSan
#   make bench      the benchmark in the lab; figures go to stdout
#   make lint       the layer order of the folders, cppcheck
#   make install    DESTDIR, PREFIX, SYSCONFDIR, LOCALSTATEDIR honoured
# V=1 shows the commands; WERROR=0 for packagers whose compiler warns more.

VERSION := 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
PLUGINDIR ?= $(PREFIX)/lib/nagios/plugins
UNITDIR ?= /lib/systemd/system

BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libcurl libcares libconfig jansson sqlite3 openssl
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
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -I. $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP \
	-DSTSWATCH_VERSION='"$(VERSION)"' \
	-DSTSWATCH_SYSCONFDIR='"$(SYSCONFDIR)"' -DSTSWATCH_LOCALSTATEDIR='"$(LOCALSTATEDIR)"'
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
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
UNIT_FIXTURE := $(BUILD)/obj/tests/unit/fixture.o

.PHONY: all run test check unit install uninstall clean deps lint
.DEFAULT_GOAL := all

# the README's run command: the main job once, on the example configuration, with the
# database under ./state (a development checkout needs no root and touches no /var)
RUN_CONFIG ?= packaging/stswatch.conf.example
RUN_DB ?= state/stswatch.db

all: $(BUILD)/stswatch $(BUILD)/check_mta_sts

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libstswatch.a: $(LIB_OBJS)
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(BUILD)/stswatch: $(MAIN_OBJ) $(BUILD)/libstswatch.a
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/check_mta_sts: $(BUILD)/stswatch
	$(Q)ln -sf stswatch $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_FIXTURE) $(BUILD)/libstswatch.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka -lsqlite3

# Debian packages are installed on demand (as root), or the command is printed.
deps:
	$(Q)scripts/deps.sh build

run:
	$(Q)scripts/deps.sh build
	$(Q)$(MAKE) --no-print-directory all
	$(BUILD)/stswatch run --once -c $(RUN_CONFIG) --db $(RUN_DB)

# Everything a user can run: unit tests, fuzz smoke runs, the lab's selftest, the
# integration suite against the lab's real servers, the monitoring engines. Needs root for the lab's network namespace (the lab says so).
test:
	$(Q)scripts/deps.sh test
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)$(MAKE) --no-print-directory fuzz
	$(Q)$(MAKE) --no-print-directory lab-selftest
	$(Q)$(MAKE) --no-print-directory lab-test
	$(Q)$(MAKE) --no-print-directory env-test
	$(Q)$(MAKE) --no-print-directory engines-validate SKIP=fail
	@echo "make test: all passed"

# The same under AddressSanitizer and UBSan, in a build directory of its own.
check:
	$(Q)scripts/deps.sh test
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all unit
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SAN=1 lab-test
	@echo "make check: all passed under ASan/UBSan"

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/stswatch $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/stswatch $(DESTDIR)$(BINDIR)/stswatch
	ln -sf $(BINDIR)/stswatch $(DESTDIR)$(PLUGINDIR)/check_mta_sts
	install -m 0644 packaging/man/stswatch.1 packaging/man/check_mta_sts.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 packaging/man/stswatch.conf.5 $(DESTDIR)$(MANDIR)/man5/
	test -e $(DESTDIR)$(SYSCONFDIR)/stswatch/stswatch.conf || \
		install -m 0640 packaging/stswatch.conf.example $(DESTDIR)$(SYSCONFDIR)/stswatch/stswatch.conf
	install -m 0644 packaging/systemd/stswatch-run.service packaging/systemd/stswatch-run.timer \
		$(DESTDIR)$(UNITDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/stswatch $(DESTDIR)$(PLUGINDIR)/check_mta_sts \
		$(DESTDIR)$(MANDIR)/man1/stswatch.1 $(DESTDIR)$(MANDIR)/man1/check_mta_sts.1 \
		$(DESTDIR)$(MANDIR)/man5/stswatch.conf.5 $(DESTDIR)$(UNITDIR)/stswatch-run.service \
		$(DESTDIR)$(UNITDIR)/stswatch-run.timer

# the layer order (scripts/check-layers.sh), then cppcheck on every folder of C
lint:
	$(Q)scripts/check-layers.sh
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
		--suppress=missingIncludeSystem -D_GNU_SOURCE -I. $(wildcard lib agent checks alerts)
	@echo "ok   lint: cppcheck"


unit: $(UNIT_BINS)
	$(Q)failed=0; for t in $(UNIT_BINS); do \
		if ! $$t >$$t.log 2>&1; then echo "FAIL $$t"; cat $$t.log; failed=1; \
		else echo "ok   $$t ($$(grep -c '\[       OK \]' $$t.log) tests)"; fi; \
	done; exit $$failed

clean:
	rm -rf $(BUILD) build-*

include tests/fuzz/fuzz.mk
include tests/engines/engines.mk
include tests/lab/lab.mk
include tests/bench/bench.mk
include tests/env/env.mk

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/obj/tests/unit/%.d)
