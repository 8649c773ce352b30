# epws: the one build. Non-recursive; BUILD=release|debug|asan|tsan into build/$(BUILD)/.
#   make            build build/release/epws
#   make run        install what is missing, build, start the server on 127.0.0.1:8080
#   make test       install what is missing, build, run every suite, print "N passed, N failed"
#   make layers     check that no layer includes one above it
#   make install    PREFIX, SYSCONFDIR, DESTDIR; make check-unit (deploy/deploy.mk)
#   make format / make tidy

# Build on every core unless the caller chose a -j (the sub-makes share its job slots).
ifeq ($(MAKELEVEL),0)
ifeq (,$(filter -j%,$(MAKEFLAGS)))
MAKEFLAGS += -j$(shell nproc)
endif
endif

BUILD ?= release
CXX ?= g++
O ?= build/$(BUILD)

PKGS := openssl zlib simdjson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lssl -lcrypto -lz -lsimdjson)

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
CHAT_DIRS := chat chat/endpoints chat/program
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

.PHONY: all run test unit integration deps layers format tidy clean bench tools
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

# Every suite (doctest units, then integration tests against the real binary) for each
# build in TEST_BUILDS, then one total line "N passed, N failed" for CI. A plain `make test`
# runs the release build and the ASan+UBSan build.
ifeq ($(BUILD),release)
TEST_BUILDS ?= release asan
else
TEST_BUILDS ?= $(BUILD)
endif
test: deps
	@for b in $(TEST_BUILDS); do \
	    $(MAKE) --no-print-directory BUILD=$$b all build/$$b/unit_tests tools \
	        build/$$b/bench_tests build/$$b/epws-bench || exit 1; done
	@$(MAKE) --no-print-directory BUILD=tsan build/tsan/unit_tests build/tsan/epws
	@$(MAKE) --no-print-directory layers
	@BUILDS="$(TEST_BUILDS)" bash tests/run_all.sh

tools: $(TOOLS)

# The layer arrows (docs/architecture.md): net/ includes no ws/ or chat/; ws/ (and ws/http/)
# includes no chat/; the chat domain (chat/*) includes neither its endpoints nor the program;
# the endpoints include no program; no product code includes bench/ or tests/.
layers:
	@bad=$$( { grep -nE '#include "(ws|chat|bench|tests)/' $(foreach d,$(NET_DIRS),$(d)/*.h $(d)/*.cc); \
	           grep -nE '#include "(chat|bench|tests)/' $(foreach d,$(WS_DIRS),$(d)/*.h $(d)/*.cc); \
	           grep -nE '#include "(chat/endpoints|chat/program|bench|tests)/' chat/*.h chat/*.cc; \
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

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(O)/chat/program/main.d $(TOOL_SRCS:%.cc=$(O)/%.d)
