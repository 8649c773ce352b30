# tests/conformance/conformance.mk: the Autobahn TestSuite runs (included by the top-level
# Makefile, whose BUILD, O, SERVER and LIB it uses). docs/conformance.md says what they check.
#   make conformance        the fuzzing client against the server (--threads 1 and 2, --deflate
#                           shared and dedicated) and the fuzzing server against our client
#                           (with and without permessage-deflate): sections 1-7, 9, 10 and the
#                           first four cases of every 12.x/13.x group (a few minutes)
#   make conformance-full   the same with all of sections 12 and 13 (about an hour per run)
# The suite is $(WSTEST), else wstest on PATH, else ../shared/autobahn/wstest; without one the
# run says how to get it and counts as skipped. Reports go to $(O)/conformance/.

CONFORMANCE_CLIENT := $(O)/conformance_client
CONFORMANCE_PYTHON ?= /usr/bin/python3
CONFORMANCE_ARGS ?=

$(CONFORMANCE_CLIENT): $(O)/tests/conformance/autobahn_client.o $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

# make test builds `tools` for every build it tests: the driver comes with them.
tools: $(CONFORMANCE_CLIENT)

.PHONY: conformance conformance-full
conformance: $(SERVER) $(CONFORMANCE_CLIENT)
	@$(CONFORMANCE_PYTHON) tests/conformance/run.py --build $(BUILD) $(CONFORMANCE_ARGS)

conformance-full: $(SERVER) $(CONFORMANCE_CLIENT)
	@$(CONFORMANCE_PYTHON) tests/conformance/run.py --build $(BUILD) --full $(CONFORMANCE_ARGS)

-include $(O)/tests/conformance/autobahn_client.d
