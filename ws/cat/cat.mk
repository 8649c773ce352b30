# ws/cat/cat.mk: epws-cat, the terminal client for learners (included by the top-level Makefile,
# whose O and LIB it uses).   make build/release/epws-cat
CAT_SRCS := $(wildcard ws/cat/*.cc)
CAT_OBJS := $(CAT_SRCS:%.cc=$(O)/%.o)
CAT := $(O)/epws-cat

$(CAT): $(CAT_OBJS) $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

.PHONY: cat
cat: $(CAT)
# make test builds `tools` for every build it tests; the integration tests drive epws-cat.
tools: $(CAT)

-include $(CAT_OBJS:.o=.d)
