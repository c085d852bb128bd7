# make fuzz: libFuzzer targets for the config parser and the name mapping,
# run for FUZZ_SECONDS (both targets at once, one per core), then every crash
# input kept in tests/fuzz/regressions/TARGET/ is replayed (docs/RELIABILITY.md).
#   make fuzz FUZZ_SECONDS=30
#   make fuzz-replay       corpus and regressions through plain builds ($(CC)):
#                          the quick step for make test, no clang needed

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR = $(BUILD)/fuzz
FUZZ_TARGETS = config names
FUZZ_FLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
# Every lib/ object: the config loader alone is several files (lib/config*.c,
# lib/kinds.c, lib/strindex.c), and the linker keeps only what is used.
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=$(FUZZ_DIR)/%.o)
FUZZ_BINS = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_REPLAYS = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/replay_%)

$(FUZZ_DIR)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(INIH_LIBS)

$(FUZZ_DIR)/plain/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/replay_%: $(FUZZ_DIR)/plain/fuzz_%.o $(FUZZ_DIR)/plain/replay.o $(BUILD)/libshmfs.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(INIH_LIBS) $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	timeout $$(( $(FUZZ_SECONDS) + 300 )) python3 tests/fuzz/run.py --bin $(FUZZ_DIR) \
		--seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-replay: $(FUZZ_REPLAYS)
	@for t in $(FUZZ_TARGETS); do \
		$(FUZZ_DIR)/replay_$$t tests/fuzz/corpus/$$t tests/fuzz/regressions/$$t || exit 1; \
	done

.PHONY: fuzz fuzz-build fuzz-replay
.SECONDARY: $(FUZZ_LIB_OBJ) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/plain/fuzz_%.o) $(FUZZ_DIR)/plain/replay.o

-include $(FUZZ_DIR)/plain/*.d
