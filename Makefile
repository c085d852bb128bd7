# shmfs: named shared-memory segments as files.
#   make            build build/shmfs
#   make test       unit tests, the layering check (scripts/layers), integration
#                   tests on real mounts (both data paths) and a short stress subset
#                   (root: it mounts and switches users)
#   make check      the unit tests alone, as the invoking user: no root, no mount,
#                   nothing installed; tests that need root are counted as skipped
#   make stress, make fuzz, make bench: see tests/stress, tests/fuzz, tests/bench
#   make run        mount ./mnt with the built-in defaults in the foreground (Ctrl-C unmounts)
#   make asan       the same tests with address and undefined-behaviour sanitizers
#   make install    PREFIX (/usr/local) and DESTDIR honoured; make uninstall

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/shmfs
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
BUILD ?= build
PKG_CONFIG ?= pkg-config

CFLAGS ?= -O2 -g
# override: these hold also when CFLAGS is given on the command line (make
# asan does), so that warnings and header dependencies (-MMD) never go missing.
# -Wswitch-enum: a switch on an enum (lifetimes, store kinds: lib/kinds.h)
# names every value, so that a new one is not missed where it matters.
override CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	  -Wswitch-enum -Wformat=2 -Wno-format-nonliteral -fno-strict-aliasing -MMD -MP
# Messages that name long paths may be cut short: that is intended. (gcc only.)
ifeq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),)
override CFLAGS += -Wno-format-truncation
endif
ifeq ($(WERROR),1)
override CFLAGS += -Werror
endif
CPPFLAGS += -D_GNU_SOURCE -Ilib
FUSE_CFLAGS = $(shell $(PKG_CONFIG) --cflags fuse3 2>/dev/null)
FUSE_LIBS = $(shell $(PKG_CONFIG) --libs fuse3 2>/dev/null)
INIH_LIBS = $(shell $(PKG_CONFIG) --libs inih 2>/dev/null || echo -linih)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
LDLIBS += -lpthread -lm

LIB_SRC = $(wildcard lib/*.c)
FS_SRC = $(wildcard fs/*.c)
UNIT_SRC = $(wildcard tests/unit/*.c)
HELPER_SRC = $(wildcard tests/integration/*.c)

LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
FS_OBJ = $(FS_SRC:%.c=$(BUILD)/%.o)
UNIT_OBJ = $(UNIT_SRC:%.c=$(BUILD)/%.o)
HELPERS = $(HELPER_SRC:tests/integration/%.c=$(BUILD)/tests/%)

all: $(BUILD)/shmfs

$(BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/fs/%.o: fs/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(FUSE_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CHECK_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libshmfs.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/shmfs: $(FS_OBJ) $(BUILD)/libshmfs.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(FUSE_LIBS) $(INIH_LIBS) $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_OBJ) $(BUILD)/fs/order.o $(BUILD)/libshmfs.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(INIH_LIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/integration/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -lrt $(LDLIBS)

deps:
	@scripts/deps

# No import circle between fs/ files (docs/ARCHITECTURE.md, "Layers").
layers: $(BUILD)/shmfs
	scripts/layers $(BUILD)

unit: $(BUILD)/unit_tests
	$(BUILD)/unit_tests

# The unit tests under the name users look for; as unit, they need no root.
check: unit

integration: $(BUILD)/shmfs $(HELPERS)
	SHMFS=$(abspath $(BUILD)/shmfs) SHMFS_HELPERS=$(abspath $(BUILD)/tests) \
		timeout 900 python3 tests/integration/run.py

# A short subset of make stress: the verifier in both modes, a few seconds
# of multi-process stress, crash rounds, permissions, bad input, fuzz replay.
stress-quick: all
	BUILD=$(BUILD) timeout 300 tests/stress/quick

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) layers
	$(MAKE) integration
	$(MAKE) stress-quick

asan:
	$(MAKE) BUILD=build/asan CC=gcc \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		test

# RUN_OPTS: more options for the daemon, e.g. RUN_OPTS="-o passthrough=off".
run: deps
	$(MAKE) all
	@findmnt -n --mountpoint "$(CURDIR)/mnt" >/dev/null || mkdir -p mnt
	$(BUILD)/shmfs -f $(RUN_OPTS) none mnt

# The example config goes to $(SYSCONFDIR)/shmfs.ini only when there is none.
install: all
	install -Dm755 $(BUILD)/shmfs $(DESTDIR)$(BINDIR)/shmfs
	install -Dm644 docs/shmfs.1 $(DESTDIR)$(MANDIR)/man1/shmfs.1
	install -Dm644 config/shmfs.ini $(DESTDIR)$(DOCDIR)/shmfs.ini
	install -Dm644 config/fstab.example $(DESTDIR)$(DOCDIR)/fstab.example
	@mkdir -p $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' config/shmfs@.service > $(DESTDIR)$(UNITDIR)/shmfs@.service
	chmod 644 $(DESTDIR)$(UNITDIR)/shmfs@.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/shmfs.ini ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/shmfs.ini"; \
	else \
		install -Dm644 config/shmfs.ini $(DESTDIR)$(SYSCONFDIR)/shmfs.ini; \
	fi

# $(SYSCONFDIR)/shmfs.ini stays: it may hold the administrator's edits.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/shmfs $(DESTDIR)$(MANDIR)/man1/shmfs.1 \
		$(DESTDIR)$(UNITDIR)/shmfs@.service
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf $(BUILD)

.PHONY: all deps unit check layers integration stress-quick test asan run install uninstall clean

# make bench, make stress, make fuzz: each in its own file.
-include tests/bench/bench.mk tests/stress/stress.mk tests/fuzz/fuzz.mk

-include $(LIB_OBJ:.o=.d) $(FS_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(HELPERS:=.d)
