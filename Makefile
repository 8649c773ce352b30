# epws: the one build. Non-recursive; BUILD=release|debug|asan|tsan into build/$(BUILD)/.
#   make            build build/release/epws
#   make run        install what is missing, build, start the server on 127.0.0.1:8080
#   make test       install what is missing, build release, ASan+UBSan and TSan, run every suite
#                   against them, print "N passed, N failed" (the full gate CI runs; ~25 min)
#   make check      the same for the release build only (no sanitizers, no fuzz): a few minutes
#   make layers     check that no layer includes one above it
#   make install    PREFIX, SYSCONFDIR, DESTDIR; make check-unit (deploy/deploy.mk)
#   make testssl    testssl.sh against the TLS port: TLS 1.2+, no weak cipher, no vulnerability
#   make format / make tidy

# Build on every core unless the caller chose a -j (the sub-makes share its job slots).
ifeq ($(MAKELEVEL),0)
ifeq (,$(filter -j%,$(MAKEFLAGS)))
MAKEFLAGS += -j$(shell nproc)
endif
endif

BUILD ?= release
# make's built-in default for CXX is g++; say so, so that a CXX from the caller wins.
ifeq ($(origin CXX),default)
CXX := g++
endif
# ccache, when installed (tests/deps.txt lists it), makes a rebuild of an unchanged file a cache
# hit: every build in build/ shares one cache, keyed by the compiler flags. USE_CCACHE=0 turns
# it off. The wrapper is added once: sub-makes inherit the wrapped CXX from the environment.
USE_CCACHE ?= 1
CCACHE := $(if $(filter 1,$(USE_CCACHE)),$(shell command -v ccache 2>/dev/null))
ifneq ($(CCACHE),)
ifeq ($(findstring ccache,$(CXX)),)
CXX := $(CCACHE) $(CXX)
endif
endif
O ?= build/$(BUILD)

PKGS := openssl zlib libdeflate simdjson hiredis
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lssl -lcrypto -lz -ldeflate -lsimdjson -lhiredis)

WARN := -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion
# CI (and anyone who sets WERROR=1) treats warnings as errors.
ifeq ($(CI),true)
WERROR ?= 1
endif
ifeq ($(WERROR),1)
WARN += -Werror
endif

MODE_release := -O2 -g -DNDEBUG
MODE_debug := -O0 -g
MODE_asan := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
MODE_tsan := -O1 -g -fsanitize=thread
ifeq ($(origin MODE_$(BUILD)),undefined)
$(error BUILD must be release, debug, asan or tsan, not '$(BUILD)')
endif
MODE := $(MODE_$(BUILD))

CXXFLAGS += -std=c++20 $(WARN) $(MODE) -I. $(PKG_CFLAGS) -MMD -MP -pthread -DEPWS_WEB_ROOT=\"$(CURDIR)/web\"
LDFLAGS += $(filter -fsanitize=%,$(MODE)) -pthread
LDLIBS += $(PKG_LIBS)

# The folders of each layer (docs/architecture.md): net/; ws/ and its HTTP; chat/ (the domain),
# chat/endpoints/ and chat/program/ (the server binary around them).
NET_DIRS := net
WS_DIRS := ws ws/http
CHAT_DIRS := chat chat/endpoints chat/program chat/redis
LIB_SRCS := $(filter-out chat/program/main.cc,$(foreach d,$(NET_DIRS) $(WS_DIRS) $(CHAT_DIRS),$(wildcard $(d)/*.cc)))
SERVER_SRCS := chat/program/main.cc
UNIT_SRCS := tests/unit_main.cc $(foreach d,$(NET_DIRS) $(WS_DIRS) $(CHAT_DIRS),$(wildcard tests/$(d)/*_test.cc))
TOOL_SRCS := $(wildcard tests/tools/*.cc)

LIB_OBJS := $(LIB_SRCS:%.cc=$(O)/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.cc=$(O)/%.o)
LIB := $(O)/libepws.a
SERVER := $(O)/epws
UNIT := $(O)/unit_tests
TOOLS := $(TOOL_SRCS:tests/tools/%.cc=$(O)/tools/%)

.PHONY: all run test check unit integration deps layers format tidy clean bench tools testssl
all: $(SERVER)

$(O)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SERVER): $(O)/chat/program/main.o $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(UNIT): $(UNIT_OBJS) $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(O)/tools/%: $(O)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Installs what is missing (apt-get, npm ci); a no-op when everything is there.
deps:
	@bash tests/deps.sh

run: deps
	@$(MAKE) --no-print-directory BUILD=release all
	./build/release/epws $(ARGS)

unit: $(UNIT)
	$(UNIT)

# `make test`: the full gate CI runs. Every suite (doctest units, bench units and smoke, python and
# node integration, the browser suite on release) against each build in TEST_BUILDS (release and
# ASan+UBSan), the threaded units and both integration suites under TSan, the fuzz smoke (its own
# clang build), tests/fresh-machine.sh and `make layers`; then one line "N passed, N failed".
# `make check`: the release build only, every suite against it, fresh-machine and layers (no
# sanitizer builds, no fuzz smoke): a few minutes, for the edit-build-test loop.
ifeq ($(BUILD),release)
TEST_BUILDS ?= release asan
else
TEST_BUILDS ?= $(BUILD)
endif
# What each build needs for the suites. The tools (tests/tools/) are run by no suite: they are
# built, to keep them compiling, in the release build only.
SUITE_BINS = all build/$(1)/unit_tests build/$(1)/bench_tests build/$(1)/epws-bench

test: deps
	@echo "make test: the full gate, about 25 min of wall time (11 of CPU) on a busy 2-core machine."
	@echo "  Most of it compiles three builds of everything, $(TEST_BUILDS) and tsan (ccache makes a"
	@echo "  rebuild of unchanged files a cache hit), then runs the unit, bench, python, node and"
	@echo "  browser suites against them, the fuzz smoke (a fourth, clang build of the codecs) and"
	@echo "  fresh-machine, and the Autobahn conformance run (about 10 min: make conformance alone)."
	@echo "  The release build and every suite alone, in minutes: make check"
	@for b in $(TEST_BUILDS); do \
	    $(MAKE) --no-print-directory BUILD=$$b $(call SUITE_BINS,$$b) || exit 1; done
	@$(MAKE) --no-print-directory BUILD=release tools
	@$(MAKE) --no-print-directory BUILD=tsan build/tsan/unit_tests build/tsan/epws
	@$(MAKE) --no-print-directory layers
	@BUILDS="$(TEST_BUILDS)" bash tests/run_all.sh

check: deps
	@echo "make check: the release build and every suite against it (no ASan, TSan, fuzz smoke or"
	@echo "  Autobahn conformance run:"
	@echo "  those are make test's); about 2 min of wall time (35 s of CPU) on 2 cores once ccache is"
	@echo "  warm, plus about 2.5 min of CPU to compile from a cold cache; ends \"N passed, N failed\""
	@$(MAKE) --no-print-directory BUILD=release $(call SUITE_BINS,release) tools
	@$(MAKE) --no-print-directory layers
	@BUILDS=release RUN_TSAN=0 RUN_FUZZ=0 RUN_CONFORMANCE=0 bash tests/run_all.sh

tools: $(TOOLS)

# A few minutes: a scan of a TLS-only server with a throw-away certificate (tests/testssl.sh).
testssl:
	@$(MAKE) --no-print-directory BUILD=release build/release/epws
	@bash tests/testssl.sh build/release/epws

# The layer arrows (docs/architecture.md): net/ includes no ws/ or chat/; ws/ (and ws/http/)
# includes no chat/; the chat domain (chat/*) includes neither its endpoints nor the program;
# the endpoints include no program; no product code includes bench/ or tests/.
layers:
	@bad=$$( { grep -nE '#include "(ws|chat|bench|tests)/' $(foreach d,$(NET_DIRS),$(d)/*.h $(d)/*.cc); \
	           grep -nE '#include "(chat|bench|tests)/' $(foreach d,$(WS_DIRS),$(d)/*.h $(d)/*.cc); \
	           grep -nE '#include "(chat/endpoints|chat/program|bench|tests)/' chat/*.h chat/*.cc \
	               chat/redis/*.h chat/redis/*.cc; \
	           grep -nE '#include "(chat/program|bench|tests)/' chat/endpoints/*.h chat/endpoints/*.cc; \
	           grep -nE '#include "(bench|tests)/' chat/program/*.h chat/program/*.cc; } 2>/dev/null ); \
	if [ -n "$$bad" ]; then echo "layers: an include points upwards:"; echo "$$bad"; exit 1; fi; \
	echo "layers: ok"

format:
	clang-format -i $(foreach d,$(NET_DIRS) $(WS_DIRS) $(CHAT_DIRS) bench,$(wildcard $(d)/*.h $(d)/*.cc)) $(wildcard tests/*.cc tests/*/*.cc tests/*/*/*.cc)

tidy:
	clang-tidy $(LIB_SRCS) $(SERVER_SRCS) -- $(CXXFLAGS)

clean:
	rm -rf build

# The load generator and peer comparisons, and the fuzz targets, keep their rules beside them.
-include bench/bench.mk
-include tests/fuzz/fuzz.mk
-include tests/soak/soak.mk
-include deploy/deploy.mk
-include tests/conformance/conformance.mk
-include ws/cat/cat.mk
-include docs/docs.mk

# Every object's header dependencies, whichever makefile builds it (bench/, ws/cat/, the fuzz
# targets, the conformance client...): an object missing here is not rebuilt when a header it
# includes changes, and links against a layout that no longer exists.
-include $(shell find $(O) -name '*.d' 2>/dev/null)
