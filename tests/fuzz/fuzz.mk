# tests/fuzz/fuzz.mk: libFuzzer targets for the parsers of network input (included by the
# top Makefile).
#   make fuzz            build $(BUILD)/fuzz/fuzz_<t> for every target and run each on a copy
#                        of tests/fuzz/corpus/<t> (in $(BUILD)/fuzz/corpus-<t>, so the tree is
#                        not modified); a crash, leak, hang or failed invariant fails make.
#   make -j2 fuzz        the same, two targets at a time
#   make fuzz FUZZ_RUNS=2000000     longer runs (a target with its own FUZZ_RUNS_<t> below
#                        keeps it unless that is given too: FUZZ_RUNS_tlscert=100000)
# Crash inputs land in $(BUILD)/fuzz/crash-<t>-*; replay one with $(BUILD)/fuzz/fuzz_<t> FILE.
# Seeds that are not written by hand are made by tests/fuzz/make_<t>_seeds.*.

FUZZ_CC ?= clang
FUZZ_CFLAGS ?= -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=c11 \
	-D_GNU_SOURCE -I. -g -O1
FUZZ_TARGETS := sts_txt policy tlsrpt mx_match smtp_reply dns_answer tlscert config
# FUZZ_SRCS and FUZZ_LIBS go into every target; a target's own sources and libraries are in
# FUZZ_SRCS_<t> and FUZZ_LIBS_<t>.
FUZZ_SRCS := lib/xalloc.c lib/dynbuf.c lib/str.c lib/timeutil.c checks/dnsname.c checks/findings.c checks/mx_match.c checks/abnf.c checks/tagrec.c checks/sts_txt.c \
	checks/policy.c checks/tlsrpt.c checks/smtp_reply.c checks/senders.c
# libidn2: dnsname.c turns U-labels into A-labels (the policy parser names them in its fix)
FUZZ_LIBS := $(shell $(PKG_CONFIG) --libs libidn2 2>/dev/null)
FUZZ_SRCS_dns_answer := checks/dns_answer.c checks/facts.c
FUZZ_LIBS_dns_answer := $(shell $(PKG_CONFIG) --libs libcares 2>/dev/null)
FUZZ_SRCS_tlscert := checks/tlscert.c checks/facts.c
FUZZ_LIBS_tlscert := $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null)
FUZZ_SRCS_config := agent/config.c agent/config_alerts.c checks/judge.c checks/renewal.c checks/facts.c lib/log.c
FUZZ_LIBS_config := $(shell $(PKG_CONFIG) --libs libconfig openssl libcurl 2>/dev/null)
# the trust anchor of the tlscert seeds' chains, written with them by make_tlscert_seeds.py
FUZZ_CFLAGS_tlscert := -DFUZZ_TLSCERT_CA='"$(CURDIR)/tests/fuzz/tlscert-ca.pem"'
FUZZ_HDRS := $(patsubst %.c,%.h,$(FUZZ_SRCS))
FUZZ_RUNS ?= 200000
FUZZ_MAX_LEN ?= 70000
FUZZ_DIR := $(BUILD)/fuzz
# per-target run counts (FUZZ_RUNS_<t>) override FUZZ_RUNS, to keep make fuzz near a minute:
# policy bodies are up to 64 KiB, a chain is verified with its signatures (~2000 runs/s), a
# configuration is written to a file and read by libconfig (~12000 runs/s)
FUZZ_RUNS_policy ?= 100000
FUZZ_RUNS_tlscert ?= 10000
FUZZ_RUNS_config ?= 50000
# per-target input limits (FUZZ_MAX_LEN_<t>): a few certificates, a configuration file
FUZZ_MAX_LEN_tlscert ?= 8192
FUZZ_MAX_LEN_config ?= 8192
# per-target libFuzzer flags (FUZZ_FLAGS_<t>). libconfig 1.5 leaks a token on most syntax
# errors (suppressed in fuzz_config.c), and a leak check after each such input costs 90% of
# the run: leaks are checked once at exit instead, which still fails on any leak of ours.
FUZZ_FLAGS_config ?= -detect_leaks=0

FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_RUN_TARGETS := $(FUZZ_TARGETS:%=fuzz-run-%)

.PHONY: fuzz fuzz-build $(FUZZ_RUN_TARGETS)

fuzz: $(FUZZ_RUN_TARGETS)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS) $(FUZZ_HDRS) tests/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) $(FUZZ_CFLAGS_$*) -o $@ $< \
		$(FUZZ_SRCS) $(FUZZ_SRCS_$*) $(FUZZ_LIBS_$*) $(FUZZ_LIBS)

# a target's own sources and headers are prerequisites too (the pattern rule gives the recipe)
$(foreach t,$(FUZZ_TARGETS),$(eval $(FUZZ_DIR)/fuzz_$(t): $(FUZZ_SRCS_$(t)) \
	$(wildcard $(patsubst %.c,%.h,$(FUZZ_SRCS_$(t))))))
$(FUZZ_DIR)/fuzz_tlscert: tests/fuzz/tlscert-ca.pem

# A static pattern rule: make skips implicit rule search for phony targets.
$(FUZZ_RUN_TARGETS): fuzz-run-%: $(FUZZ_DIR)/fuzz_%
	$(Q)rm -rf $(FUZZ_DIR)/corpus-$* && mkdir -p $(FUZZ_DIR)/corpus-$* && \
		cp tests/fuzz/corpus/$*/* $(FUZZ_DIR)/corpus-$*/
	$(call say,FUZZ,$*)if ! $< -runs=$(or $(FUZZ_RUNS_$*),$(FUZZ_RUNS)) \
		-max_len=$(or $(FUZZ_MAX_LEN_$*),$(FUZZ_MAX_LEN)) -timeout=10 -print_final_stats=1 \
		$(FUZZ_FLAGS_$*) \
		-artifact_prefix=$(FUZZ_DIR)/crash-$*- $(FUZZ_DIR)/corpus-$* \
		>$(FUZZ_DIR)/fuzz_$*.log 2>&1; then \
		tail -n 60 $(FUZZ_DIR)/fuzz_$*.log; \
		echo "FAIL fuzz $* (log: $(FUZZ_DIR)/fuzz_$*.log)"; \
		exit 1; fi; \
	printf 'ok   fuzz %-10s %s runs, %s exec/s, %s corpus files\n' $* \
		"$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/fuzz_$*.log)" \
		"$$(sed -n 's/^stat::average_exec_per_sec: *//p' $(FUZZ_DIR)/fuzz_$*.log)" \
		"$$(ls $(FUZZ_DIR)/corpus-$* | wc -l)"
