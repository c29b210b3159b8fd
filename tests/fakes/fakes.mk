# tests/fakes/fakes.mk: the real probes against scripted fake servers on 127.0.0.1 (no
# root, no network; see tests/fakes/README.md). Included by the top Makefile.
#   make fakes-test                 build $(BUILD)/tests/probe, run every case of run.py
#   make fakes-test FAKES="smtp-split-banner https-redirect"    some cases
#   python3 tests/fakes/run.py --list                           the cases
# make check runs it under ASan/UBSan (BUILD=build/asan SAN=1).

FAKES_PYTHON ?= /usr/bin/python3
FAKES_OBJS := $(BUILD)/obj/tests/fakes/probe.o
FAKES_PROBE := $(BUILD)/tests/probe
FAKES ?=

.PHONY: fakes-test

$(FAKES_PROBE): $(FAKES_OBJS) $(BUILD)/libstswatch.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

fakes-test: $(FAKES_PROBE)
	$(Q)$(FAKES_PYTHON) tests/fakes/run.py --probe $(FAKES_PROBE) --dir $(BUILD)/fakes $(FAKES)
