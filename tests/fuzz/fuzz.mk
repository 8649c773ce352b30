# tests/fuzz/fuzz.mk: libFuzzer targets, one per parser (included by the top-level Makefile).
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="http frame"]   fuzz each target, corpus grows in place
#   make fuzz-smoke                                           the committed corpus + a few seconds each
# Built with clang (libFuzzer + ASan + UBSan) into build/fuzz/, from the product sources directly:
# the g++ objects of the other builds are not reused (different compiler, instrumentation).

CXX_FUZZ ?= $(if $(CCACHE),$(CCACHE) )clang++
FUZZ_SECONDS ?= 60
FUZZ_O := build/fuzz
FUZZ_CXXFLAGS := -std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I. $(PKG_CFLAGS) -MMD -MP
FUZZ_ALL := http frame deflate_params inflate chat_protocol jwt trace redis_codec
FUZZ_TARGETS ?= $(FUZZ_ALL)

# Only the codecs: no sockets, no loop, no application (LIB_SRCS minus everything that does I/O).
FUZZ_LIB_SRCS := $(filter ws/base64.cc ws/error.cc ws/frame.cc ws/utf8.cc ws/message_reader.cc \
    ws/http/request.cc ws/http/response.cc ws/handshake.cc ws/client_handshake.cc ws/deflate.cc \
    ws/deflate_params.cc ws/one_shot_deflate.cc ws/trace.cc \
    chat/protocol.cc chat/protocol_events.cc chat/names.cc chat/jwt.cc chat/redis/redis_codec.cc chat/redis/redis_url.cc chat/redis/redis_cluster.cc chat/redis/reply_limits.cc,$(LIB_SRCS))
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.cc=$(FUZZ_O)/%.o)
FUZZ_BINS := $(FUZZ_ALL:%=$(FUZZ_O)/%_fuzz)

.PHONY: fuzz fuzz-build fuzz-smoke
# Keep the objects: they are intermediate to make, and rebuilding them all is slow.
.SECONDARY: $(FUZZ_LIB_OBJS) $(FUZZ_ALL:%=$(FUZZ_O)/tests/fuzz/%_fuzz.o)
fuzz-build: $(FUZZ_BINS)

$(FUZZ_O)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX_FUZZ) $(FUZZ_CXXFLAGS) -c $< -o $@

# -fsanitize=fuzzer links libFuzzer's main; the target file defines LLVMFuzzerTestOneInput.
$(FUZZ_O)/%_fuzz: $(FUZZ_O)/tests/fuzz/%_fuzz.o $(FUZZ_LIB_OBJS)
	$(CXX_FUZZ) $(FUZZ_CXXFLAGS) $^ $(PKG_LIBS) -o $@

# Each target for FUZZ_SECONDS; new interesting inputs go into its corpus directory, crashes
# into build/fuzz/crashes/. Runs one target at a time (use -j with care: each is one core).
fuzz: $(FUZZ_TARGETS:%=$(FUZZ_O)/%_fuzz)
	@mkdir -p $(FUZZ_O)/crashes
	@for t in $(FUZZ_TARGETS); do \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	    mkdir -p tests/fuzz/corpus/$$t; \
	    $(FUZZ_O)/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -artifact_prefix=$(FUZZ_O)/crashes/$$t- -print_final_stats=1 \
	        tests/fuzz/corpus/$$t || exit 1; \
	done

fuzz-smoke: $(FUZZ_BINS)
	@bash tests/fuzz/smoke.sh

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_ALL:%=$(FUZZ_O)/tests/fuzz/%_fuzz.d)
