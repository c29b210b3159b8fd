# The lab: real DNS (unbound), HTTPS (nginx) and SMTP (postfix) servers in a network
# namespace, and for alert and daemon tests a webhook receiver, Alertmanager and a
# submission server (postfix + Dovecot SASL); see docs/LAB.md. Included by the top
# Makefile; needs root.
#   make lab-up         start the lab in $(LAB_DIR) (namespace $(LAB_NS))
#   make lab-down       stop it; nothing is left running
#   make lab-test       the integration suite: stswatch, check_mta_sts, the engines
#   make lab-selftest   up in a temporary directory, prove every scenario with standard
#                       tools, apply every mutation, down, prove nothing is left
# Run stswatch against it:
#   ip netns exec $(LAB_NS) $(BUILD)/stswatch check --format json --resolver 10.53.0.1 \
#       --ca-file $(LAB_DIR)/ca/root.pem -c $(LAB_DIR)/stswatch.conf ok.test

LAB_PYTHON ?= /usr/bin/python3
LAB_DIR ?= $(BUILD)/lab
LAB_NS ?= stswlab

.PHONY: lab-up lab-down lab-selftest

lab-up:
	$(Q)LAB_NS=$(LAB_NS) $(LAB_PYTHON) tests/lab/lab.py up $(LAB_DIR)

lab-down:
	$(Q)LAB_NS=$(LAB_NS) $(LAB_PYTHON) tests/lab/lab.py down $(LAB_DIR)

lab-selftest:
	$(Q)$(LAB_PYTHON) tests/lab/selftest.py

# The integration suite: the real binaries against the lab (tests/lab/integration.py).
# T="check plugin" runs a subset; the lab always comes down, also on failure.
.PHONY: lab-test
lab-test: all
	$(Q)LAB_NS=$(LAB_NS) $(LAB_PYTHON) tests/lab/integration.py $(BUILD) $(LAB_DIR) $(T)
