# The benchmark, see docs/BENCHMARKS.md: stswatch check against mailauth's MTA-STS
# getPolicy on generated healthy domains in the lab, direct and with added round-trip
# latency. Included by the top Makefile; needs root. Figures and the command to
# reproduce them go to stdout (and $(BUILD)/bench/results.md). Performance is measured
# here, never asserted: only a domain that does not come back OK fails the target.
#   make bench                                       1000 domains, +100 ms RTT, 3 runs
#   make bench BENCH_ARGS="--domains 2000 --delay-ms 25 --repeat 5"

BENCH_PYTHON ?= /usr/bin/python3
BENCH_NS ?= stswbench
BENCH_ARGS ?=

.PHONY: bench

bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(BENCH_PYTHON) tests/bench/bench.py --stswatch $(BUILD)/stswatch \
		--dir $(BUILD)/bench --ns $(BENCH_NS) $(BENCH_ARGS)
