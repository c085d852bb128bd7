# make stress: the reliability suite (tests/stress/run.py, docs/RELIABILITY.md).
#   make stress            a few minutes: verifier, stress, ASan stress, crashes,
#                          permissions, bad input
#   make stress QUICK=1    the same, smaller, in under a minute
#   tests/stress/quick     the < 30 s subset for make test (BUILD=... honoured)
#   make stress STRESS_URING=1   every mount over FUSE io_uring (sets enable_uring
#                          to Y for the run, then back)
# Helpers: stress-progs (the C clients), stress-asan (the daemon under ASan,
# as make asan builds it, in $(BUILD)/asan).

STRESS_BIN = $(BUILD)/stress
STRESS_PROGS = $(STRESS_BIN)/verify $(STRESS_BIN)/worker $(STRESS_BIN)/map_writer
STRESS_ASAN_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
STRESS_TIMEOUT ?= 1500

$(STRESS_BIN)/%: tests/stress/%.c tests/stress/common.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDLIBS)

stress-progs: $(STRESS_PROGS)

stress-asan:
	$(MAKE) BUILD=$(BUILD)/asan CC=gcc CFLAGS="$(STRESS_ASAN_CFLAGS)" $(BUILD)/asan/shmfs

stress: $(BUILD)/shmfs $(STRESS_PROGS) stress-asan
	timeout $(STRESS_TIMEOUT) python3 tests/stress/run.py --shmfs $(BUILD)/shmfs \
		--asan-shmfs $(BUILD)/asan/shmfs --bin $(STRESS_BIN) $(if $(QUICK),--quick) \
		$(if $(STRESS_SEED),--seed $(STRESS_SEED)) --figures $(STRESS_BIN)/figures.txt

.PHONY: stress stress-progs stress-asan

-include $(STRESS_PROGS:=.d)
