# bench/bench.mk: the load generator, its unit tests and the peer comparison; included by the
# top-level Makefile, whose CXX, CXXFLAGS, LDFLAGS, LDLIBS, LIB and O it uses.
#   make bench-bin     build $(O)/epws-bench (and the Beast peer when Boost is there)
#   make bench-tests   build and run $(O)/bench_tests, then the smoke run against the real server
#   make bench         install the peers, build, run bench/compare: bench/results/ and docs/benchmarks.md
#   make bench-tls     wss:// beside ws:// on one epws (bench/tls_compare; also part of make bench)

BENCH_LIB_SRCS := $(filter-out bench/main.cc,$(wildcard bench/*.cc))
BENCH_LIB_OBJS := $(BENCH_LIB_SRCS:%.cc=$(O)/%.o)
BENCH_TEST_SRCS := $(wildcard tests/bench/*_test.cc)
BENCH_TEST_OBJS := $(BENCH_TEST_SRCS:%.cc=$(O)/%.o) $(O)/tests/unit_main.o
BENCH := $(O)/epws-bench
BENCH_TESTS := $(O)/bench_tests
BEAST_PEER := $(O)/peers/beast_server
LWS_PEER := $(O)/peers/lws_server

.PHONY: bench-bin bench-tests bench-peers bench-tls

$(BENCH): $(O)/bench/main.o $(BENCH_LIB_OBJS) $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BENCH_TESTS): $(BENCH_TEST_OBJS) $(BENCH_LIB_OBJS) $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Peers are built with the same optimisation as epws (-O2) so the comparison is of code, not flags.
# Beast uses C++17: Boost 1.74's asio coroutine header misses <utility> under C++20.
$(BEAST_PEER): bench/peers/beast_server.cpp
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -O2 -DNDEBUG -pthread $< -o $@

$(LWS_PEER): bench/peers/lws_server.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -DNDEBUG $< $(shell pkg-config --cflags --libs libwebsockets 2>/dev/null || echo -lwebsockets) -o $@

# The broadcast ring alone against a mutex-and-deque baseline (chat/broadcast_ring.h).
RING_BENCH := $(O)/ring_bench
$(RING_BENCH): $(O)/bench/ring/ring_bench.o
	$(CXX) $(LDFLAGS) $^ -o $@

bench-bin: $(BENCH) $(SERVER) $(RING_BENCH)

bench-peers: $(BEAST_PEER) $(LWS_PEER)

bench-tests: $(BENCH_TESTS) $(BENCH) $(SERVER)
	$(BENCH_TESTS)
	BUILD=$(BUILD) bash tests/bench/smoke.sh

bench:
	@bash bench/deps.sh
	@$(MAKE) --no-print-directory BUILD=release bench-bin bench-peers
	@/usr/bin/python3 bench/compare --build release   # also runs $(RING_BENCH) into the doc
	@/usr/bin/python3 bench/tls_compare --build release

bench-tls:
	@$(MAKE) --no-print-directory BUILD=release build/release/epws build/release/epws-bench
	@/usr/bin/python3 bench/tls_compare --build release

-include $(BENCH_LIB_OBJS:.o=.d) $(O)/bench/main.d $(O)/bench/ring/ring_bench.d $(BENCH_TEST_SRCS:%.cc=$(O)/%.d)
