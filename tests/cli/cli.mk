# tests/cli/cli.mk: the real binary against hostile arguments, files and environments
# (tests/cli/cli_test.py): usage errors, the plugin's deadline, oversized configurations,
# domain lists and resolvers. No root, no network. Included by the top Makefile; make
# check runs it under ASan/UBSan.
#   make cli-test [CLI="plugin-escape domains-file"]

CLI_PYTHON ?= /usr/bin/python3
CLI ?=

.PHONY: cli-test

cli-test: all
	$(Q)$(CLI_PYTHON) tests/cli/cli_test.py $(BUILD) $(CLI)
