# make bench: shmfs against the tmpfs that backs it, in both data-path modes,
# passthrough over FUSE io_uring too where the kernel has it (mode uring: the
# fuse module's enable_uring is set to Y for that run and set back).
#   make bench           full run (about five minutes on 2 cores); also
#                        refreshes docs/bench.md and docs/bench.png
#   make bench QUICK=1   the same operations, small sizes, under a minute
# Results: $(BUILD)/bench/results.json and $(BUILD)/bench/bench.png.
# Needs root (FUSE passthrough needs CAP_SYS_ADMIN). Not part of make test.

BENCH_SRC = $(wildcard tests/bench/*.c)
BENCH_OBJ = $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/obj/%.o)
BENCH_FLAGS = $(if $(QUICK),--quick) $(if $(BENCH_ONLY),--only $(BENCH_ONLY))

$(BUILD)/bench/obj/%.o: tests/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/bench/bench: $(BENCH_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench: deps
	$(MAKE) all $(BUILD)/bench/bench
	scripts/bench --shmfs $(BUILD)/shmfs --bench $(BUILD)/bench/bench \
		--out $(BUILD)/bench $(if $(QUICK),,--docs docs) $(BENCH_FLAGS)

.PHONY: bench

-include $(BENCH_OBJ:.o=.d)
