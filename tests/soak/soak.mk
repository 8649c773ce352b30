# tests/soak/soak.mk: the soak (included by the top-level Makefile, whose BUILD, O and SERVER it
# uses). Minutes long, so not part of `make test`. docs/soak.md says what it checks.
#   make soak                                   release build, 180 s, 3000 clients
#   make soak BUILD=asan SOAK_SECONDS=120       the ASan+UBSan server (build/asan/epws)
#   make soak BUILD=tsan                        the TSan server (build/tsan/epws)
#   make soak SOAK_ARGS="--seed 7 --say-rate 50"  any other soak.py flag (--help lists them)
#   make soak-nodes                             three nodes sharing one Redis (docs/redis.md)
# The server's stderr is kept in $(O)/soak-server.log.

SOAK_SECONDS ?= 180
SOAK_CLIENTS ?= 3000
SOAK_ARGS ?=
# The Debian interpreter, as in tests/run_all.sh; the soak itself needs only its standard library.
SOAK_PYTHON ?= /usr/bin/python3
# TSan: keep going after a report (the soak reads every report from the log at the end) and let
# the sanitizer's exit status say there was one.
SOAK_ENV := TSAN_OPTIONS="halt_on_error=0 exitcode=66 $(TSAN_OPTIONS)"

.PHONY: soak soak-nodes
soak-nodes:
	@$(MAKE) --no-print-directory soak SOAK_ARGS="--nodes 3 $(SOAK_ARGS)"

soak: $(SERVER)
	@$(SOAK_PYTHON) tests/soak/test_checker.py
	$(SOAK_ENV) EPWS_BIN=$(SERVER) $(SOAK_PYTHON) tests/soak/soak.py --seconds $(SOAK_SECONDS) \
	    --clients $(SOAK_CLIENTS) --server-log $(O)/soak-server.log $(SOAK_ARGS)
