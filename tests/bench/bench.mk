# The benchmark, see docs/BENCHMARKS.md: stswatch check against mailauth's MTA-STS
# getPolicy on generated healthy domains in the lab, direct and with added round-trip
# latency. Included by the top Makefile; needs root. Figures and the command to
# reproduce them go to stdout (and $(BUILD)/bench/results.md). Performance is measured
# here, never asserted: only a domain that does not come back OK fails the target.
#   make bench                                       1000 domains, +100 ms RTT, 3 runs,
#                                                    then the soak (below)
#   make bench BENCH_ARGS="--domains 2000 --delay-ms 25 --repeat 5"
#   make bench-soak                                  the daemon on 10,000 domains, interval
#                                                    1 min, for 30 min (SOAK_MINUTES=10 and
#                                                    SOAK_ARGS="--domains 2000" shorten it):
#                                                    RSS, descriptors, database size, checks
#                                                    done and due, every minute

BENCH_PYTHON ?= /usr/bin/python3
BENCH_NS ?= stswbench
BENCH_ARGS ?=
SOAK_NS ?= stswsoak
SOAK_ARGS ?=

.PHONY: bench bench-soak

bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(BENCH_PYTHON) tests/bench/bench.py --stswatch $(BUILD)/stswatch \
		--dir $(BUILD)/bench --ns $(BENCH_NS) $(BENCH_ARGS)
	$(Q)$(MAKE) --no-print-directory bench-soak

bench-soak:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(BENCH_PYTHON) tests/bench/soak.py --stswatch $(BUILD)/stswatch \
		--dir $(BUILD)/soak --ns $(SOAK_NS) $(SOAK_ARGS)
