# tests/env/env.mk: the database under hostile environments (tests/env/db_env.py), with the
# real binary: truncated, garbage and damaged files, a full disk, a read-only file system,
# a reader in the database's group. Included by the top Makefile; needs root (tmpfs, users).
#   make env-test

.PHONY: env-test
env-test: all
	$(Q)/usr/bin/python3 tests/env/db_env.py $(BUILD)
