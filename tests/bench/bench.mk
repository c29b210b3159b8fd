# The benchmark, see docs/BENCHMARKS.md: stswatch check against mailauth's MTA-STS
# getPolicy on generated healthy domains in the lab, direct and with added round-trip
# latency (tests/bench/latency_proxy.c). Included by the top Makefile; needs root.
# Figures and the commands to reproduce them go to stdout and $(BUILD)/bench/results.md
# (every run in results.json). Performance is measured here, never asserted: only a
# domain that does not come back OK fails the target (after everything is printed).
#   make bench                     1,000 and 10,000 domains, direct and +30 ms RTT, 3 runs
#   make bench BENCH_QUICK=1       1,000 domains, 1 run (development)
#   make bench BENCH_N=100000      stswatch alone on a list of 100,000 domains
#   make bench BENCH_ARGS="--rtt 0,30,100 --concurrency 0,50,2000"
#   make bench-tools               only build the emulator, its load generator, tls_floor
#   make bench-soak                the daemon on 10,000 domains, interval 1 min, for
#                                  30 min (make bench runs it last, not with BENCH_QUICK
#                                  or BENCH_N; SOAK_MINUTES=10 and
#                                  SOAK_ARGS="--domains 2000" shorten it): RSS,
#                                  descriptors, database size, checks done and due, every
#                                  minute

BENCH_PYTHON ?= /usr/bin/python3
BENCH_NS ?= stswbench
BENCH_N ?=
BENCH_QUICK ?=
BENCH_ARGS ?=
SOAK_NS ?= stswsoak
SOAK_ARGS ?=
BENCH_TOOLS := $(BUILD)/bench-tools/latency_proxy $(BUILD)/bench-tools/latency_load \
	$(BUILD)/bench-tools/tls_floor

.PHONY: bench bench-tools bench-soak

$(BUILD)/bench-tools/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

# the least a fetch costs: OpenSSL alone (libssl, libcrypto)
$(BUILD)/bench-tools/tls_floor: tests/bench/tls_floor.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $< \
		$(shell pkg-config --libs openssl)

bench-tools: $(BENCH_TOOLS)

bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all bench-tools
	$(Q)$(BENCH_PYTHON) tests/bench/bench.py --stswatch $(BUILD)/stswatch \
		--proxy $(BUILD)/bench-tools/latency_proxy --load $(BUILD)/bench-tools/latency_load \
		--floor $(BUILD)/bench-tools/tls_floor \
		--dir $(BUILD)/bench --ns $(BENCH_NS) $(if $(BENCH_N),--sizes $(BENCH_N)) \
		$(if $(BENCH_QUICK),--quick) $(BENCH_ARGS)
	$(Q)$(if $(BENCH_QUICK)$(BENCH_N),: the soak is left out,$(MAKE) --no-print-directory bench-soak)

bench-soak:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(BENCH_PYTHON) tests/bench/soak.py --stswatch $(BUILD)/stswatch \
		--dir $(BUILD)/soak --ns $(SOAK_NS) $(SOAK_ARGS)
