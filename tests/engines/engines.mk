# tests/engines/engines.mk: the Icinga 2 and Nagios definitions, checked by the real engines.
# Included by the top Makefile. Needs icinga2-bin, icinga2-common and nagios4-core; both
# scripts work in a temporary directory, start no system service and leave nothing running.
#   make engines-validate   icinga2 daemon -C and nagios4 -v on packaging/{icinga2,nagios}
#   make engines-e2e        both engines run a stand-in plugin and record its state
# A missing engine is a skip (exit 77 of the scripts); SKIP=fail makes it a failure.

ENGINES_DIR := tests/engines

.PHONY: engines-validate engines-e2e

engines-validate:
	$(Q)$(ENGINES_DIR)/validate.sh; rc=$$?; \
	if [ $$rc -eq 77 ] && [ "$(SKIP)" != fail ]; then exit 0; fi; exit $$rc

engines-e2e:
	$(Q)$(ENGINES_DIR)/e2e.sh; rc=$$?; \
	if [ $$rc -eq 77 ] && [ "$(SKIP)" != fail ]; then exit 0; fi; exit $$rc
