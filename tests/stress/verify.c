/* verify: a randomized operation verifier for segments under a mount.
 *
 *   verify [--seed N] [--ops N] [--files N] [--max-size BYTES] [--reader]
 *          [--backing DIR --prefix P] [--tag T] [--trace] [--corrupt-at N] DIR
 *
 * Runs a seeded random sequence of write, read, mmap read, mmap write (through
 * short-lived and long-lived mappings), truncate to grow and shrink (by fd
 * and by path), fallocate (allocate, keep size, punch hole), msync, fsync,
 * fstat and close/reopen on FILES segments DIR/vfy.T.N, keeps a model of
 * every byte and checks every read against it. The operation sequence and
 * every byte written follow from the seed alone: the same command replays
 * exactly. With --backing, synced data is also compared with the backing
 * objects (DIR2/PREFIXvfy.T.N) read directly. With --reader a second process
 * keeps mapping and reading the same segments and checks that every byte it
 * sees is a value that was written at that offset (or zero).
 *
 * --corrupt-at N is a self-test: at op N a byte changes behind the model's
 * back, and the run must fail right there.
 *
 * On the first wrong byte or unexpected error it prints the seed, the failing
 * operation, the operations before it, and the command that replays it, then
 * exits 1. On success its last line is
 *   verify: seed=N ops=N bytes=N reader_bytes=N OK
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"

STRESS_SIGBUS_DEFINE

#define PAGE 4096u
#define RING 24

enum op {
	OP_WRITE, OP_READ, OP_MMAP_READ, OP_MMAP_WRITE, OP_MAP, OP_UNMAP, OP_PMAP_READ,
	OP_PMAP_WRITE, OP_TRUNCATE, OP_TRUNCATE_PATH, OP_FALLOCATE, OP_FALLOC_KEEP, OP_PUNCH,
	OP_MSYNC, OP_FSYNC, OP_REOPEN, OP_STAT, OP_BACKING, OP_VERIFY_ALL, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"write", "read", "mmap-read", "mmap-write", "map", "unmap", "pmap-read",
	"pmap-write", "truncate", "truncate-path", "fallocate", "fallocate-keep-size",
	"punch-hole", "msync", "fsync", "close-reopen", "stat", "backing-check", "verify-all",
};

static const unsigned op_weights[OP_COUNT] = {
	[OP_WRITE] = 16, [OP_READ] = 14, [OP_MMAP_READ] = 8, [OP_MMAP_WRITE] = 8,
	[OP_MAP] = 3, [OP_UNMAP] = 2, [OP_PMAP_READ] = 8, [OP_PMAP_WRITE] = 8,
	[OP_TRUNCATE] = 6, [OP_TRUNCATE_PATH] = 2, [OP_FALLOCATE] = 3, [OP_FALLOC_KEEP] = 2,
	[OP_PUNCH] = 3, [OP_MSYNC] = 3, [OP_FSYNC] = 2, [OP_REOPEN] = 5, [OP_STAT] = 3,
	[OP_BACKING] = 2, [OP_VERIFY_ALL] = 1,
};

struct seg {
	char path[PATH_MAX];
	char backing[PATH_MAX];  /* "" without --backing */
	unsigned char *data;     /* the model: what every byte must be */
	uint32_t *who;           /* the op that last wrote each byte, 0: none */
	size_t size;
	int fd;                  /* -1 while closed */
	unsigned char *map;      /* the long-lived mapping, or NULL */
	size_t maplen;
	unsigned char *allowed;  /* --reader: 256 bits per byte, shared */
};

struct reader_stats {
	volatile int stop;
	volatile int failed;
	volatile uint64_t bytes, sigbus, reads;
	char why[PATH_MAX + 200];
};

static struct {
	uint64_t seed, nops, max_size, corrupt_at;
	int nfiles, reader, trace;
	const char *dir, *backing_dir, *prefix, *tag;
	struct seg *segs;
	struct rng rng;
	uint64_t opno, bytes_checked;
	char ring[RING][PATH_MAX + 200];
	char cur[PATH_MAX + 200];
	struct reader_stats *rs;
	int argc;
	char **argv;
} V;

static unsigned char *scratch;

static void replay_hint(void)
{
	int has_seed = 0;

	fprintf(stderr, "verify: replay with:");
	for (int i = 0; i < V.argc; i++) {
		fprintf(stderr, " %s", V.argv[i]);
		has_seed |= strncmp(V.argv[i], "--seed", 6) == 0;
	}
	if (!has_seed)
		fprintf(stderr, " --seed %llu", (unsigned long long)V.seed);
	fprintf(stderr, "\n");
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;
	uint64_t first = V.opno > RING ? V.opno - RING : 1;

	if (V.rs)
		V.rs->stop = 1;
	fprintf(stderr, "verify: FAIL seed=%llu at op #%llu of %llu: %s\nverify: ",
		(unsigned long long)V.seed, (unsigned long long)V.opno,
		(unsigned long long)V.nops, V.cur);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nverify: the operations before it:\n");
	for (uint64_t i = first; i < V.opno; i++)
		fprintf(stderr, "  #%llu %s\n", (unsigned long long)i, V.ring[i % RING]);
	replay_hint();
	exit(1);
}

static void fail_errno(const char *what)
{
	fail("%s: %s (errno %d)", what, strerror(errno), errno);
}

/* Compare got with the model of s at [off, off+len). */
static void check_bytes(struct seg *s, size_t off, const unsigned char *got, size_t len,
			const char *how)
{
	if (memcmp(got, s->data + off, len) == 0) {
		V.bytes_checked += len;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (got[i] != s->data[off + i]) {
			uint32_t w = s->who[off + i];
			size_t bad = 0;

			for (size_t j = i; j < len; j++)
				bad += got[j] != s->data[off + j];
			char by[64];

			if (w)
				snprintf(by, sizeof(by), "written by op #%u", w);
			else
				snprintf(by, sizeof(by), "never written since, so zero");
			fail("%s %s: byte %zu is 0x%02x, expected 0x%02x (%s); "
			     "%zu of %zu bytes from there differ; size %zu",
			     how, s->path, off + i, got[i], s->data[off + i], by, bad, len - i,
			     s->size);
		}
	}
}

/* The model takes new bytes at [off, off+len) from buf, and (--reader) the
 * reader may now see them: mark them allowed before they are written. */
static void model_write(struct seg *s, size_t off, const unsigned char *buf, size_t len)
{
	if (s->allowed) {
		for (size_t i = 0; i < len; i++)
			__atomic_or_fetch(&s->allowed[(off + i) * 32 + buf[i] / 8],
					  (unsigned char)(1u << (buf[i] % 8)), __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	memcpy(s->data + off, buf, len);
	for (size_t i = 0; i < len; i++)
		s->who[off + i] = (uint32_t)V.opno;
	if (off + len > s->size)
		s->size = off + len;
}

static void model_zero(struct seg *s, size_t off, size_t len)
{
	memset(s->data + off, 0, len);
	memset(s->who + off, 0, len * sizeof(*s->who));
}

static void model_resize(struct seg *s, size_t size)
{
	if (size < s->size)
		model_zero(s, size, s->size - size);
	s->size = size;
}

/* An offset: page aligned, near the end, or anywhere up to limit. */
static size_t pick_offset(struct seg *s, size_t limit)
{
	size_t off;

	if (limit == 0)
		return 0;
	switch (rng_below(&V.rng, 4)) {
	case 0:
		off = (size_t)rng_below(&V.rng, limit / PAGE + 1) * PAGE;
		break;
	case 1:
		off = s->size > 64 ? s->size - 64 + (size_t)rng_below(&V.rng, 128) : 0;
		break;
	default:
		off = (size_t)rng_below(&V.rng, limit + 1);
	}
	return off > limit ? limit : off;
}

static size_t pick_length(size_t room)
{
	size_t len;

	if (room == 0)
		return 0;
	switch (rng_below(&V.rng, 6)) {
	case 0: case 1: case 2:
		len = 1 + (size_t)rng_below(&V.rng, 4096);
		break;
	case 3: case 4:
		len = 1 + (size_t)rng_below(&V.rng, 65536);
		break;
	default: /* past FUSE's max_write: the kernel splits it */
		len = 1 + (size_t)rng_below(&V.rng, 600 * 1024);
	}
	return len > room ? room : len;
}

static void seg_open(struct seg *s, int flags)
{
	s->fd = open(s->path, O_RDWR | O_CLOEXEC | flags, 0600);
	if (s->fd < 0)
		fail_errno("open");
	if (flags & O_TRUNC)
		model_resize(s, 0);
}

static void ensure_open(struct seg *s)
{
	if (s->fd < 0)
		seg_open(s, 0);
}

static void full_pwrite(struct seg *s, const unsigned char *buf, size_t len, size_t off)
{
	while (len) {
		ssize_t n = pwrite(s->fd, buf, len, (off_t)off);

		if (n <= 0)
			fail_errno(n ? "pwrite" : "pwrite wrote nothing");
		buf += n;
		len -= (size_t)n;
		off += (size_t)n;
	}
}

/* pread that must return exactly what the model says is there. */
static void checked_pread(struct seg *s, size_t off, size_t len, const char *how)
{
	size_t want = off >= s->size ? 0 : (off + len > s->size ? s->size - off : len);
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(s->fd, scratch + got, len - got, (off_t)(off + got));

		if (n < 0)
			fail_errno("pread");
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != want)
		fail("%s %s: read %zu bytes at %zu, expected %zu (size %zu)", how, s->path, got,
		     off, want, s->size);
	check_bytes(s, off, scratch, got, how);
}

static void op_write(struct seg *s)
{
	size_t off = pick_offset(s, V.max_size - 1);
	size_t len = pick_length(V.max_size - off);

	snprintf(V.cur, sizeof(V.cur), "write %s off=%zu len=%zu", s->path, off, len);
	rng_fill(&V.rng, scratch, len);
	ensure_open(s);
	model_write(s, off, scratch, len);
	full_pwrite(s, scratch, len, off);
}

static void op_read(struct seg *s)
{
	size_t off = pick_offset(s, s->size + PAGE);
	size_t len = pick_length(V.max_size + 2 * PAGE - off);

	snprintf(V.cur, sizeof(V.cur), "read %s off=%zu len=%zu", s->path, off, len);
	ensure_open(s);
	checked_pread(s, off, len, "read");
}

/* A fresh mapping of the page-aligned range covering [off, off+len). */
static unsigned char *map_range(struct seg *s, size_t off, size_t len, int prot, size_t *base)
{
	unsigned char *p;

	*base = off / PAGE * PAGE;
	p = mmap(NULL, off + len - *base, prot, MAP_SHARED, s->fd, (off_t)*base);
	if (p == MAP_FAILED)
		fail_errno("mmap");
	return p;
}

static void op_mmap_read(struct seg *s)
{
	size_t off, len, base;
	unsigned char *p;

	if (s->size == 0)
		return;
	off = pick_offset(s, s->size - 1);
	len = pick_length(s->size - off);
	snprintf(V.cur, sizeof(V.cur), "mmap-read %s off=%zu len=%zu", s->path, off, len);
	ensure_open(s);
	p = map_range(s, off, len, PROT_READ, &base);
	if (sigbus_guard())
		fail("mmap-read %s: SIGBUS at a byte below the size %zu", s->path, s->size);
	check_bytes(s, off, p + (off - base), len, "mmap-read");
	sigbus_unguard();
	munmap(p, off + len - base);
}

static void op_mmap_write(struct seg *s)
{
	size_t off, len, base;
	unsigned char *p;
	int sync = rng_chance(&V.rng, 30);

	if (s->size == 0)
		return;
	off = pick_offset(s, s->size - 1);
	len = pick_length(s->size - off);
	snprintf(V.cur, sizeof(V.cur), "mmap-write %s off=%zu len=%zu%s", s->path, off, len,
		 sync ? " msync" : "");
	rng_fill(&V.rng, scratch, len);
	ensure_open(s);
	p = map_range(s, off, len, PROT_READ | PROT_WRITE, &base);
	model_write(s, off, scratch, len);
	if (sigbus_guard())
		fail("mmap-write %s: SIGBUS at a byte below the size %zu", s->path, s->size);
	memcpy(p + (off - base), scratch, len);
	sigbus_unguard();
	if (sync && msync(p, off + len - base, MS_SYNC))
		fail_errno("msync");
	munmap(p, off + len - base);
}

static void op_map(struct seg *s)
{
	size_t len = s->size ? s->size : PAGE;

	if (s->map)
		return;
	/* Sometimes larger than the file: the file may grow into it. */
	if (rng_chance(&V.rng, 40))
		len += (size_t)rng_below(&V.rng, V.max_size);
	len = (len + PAGE - 1) / PAGE * PAGE;
	snprintf(V.cur, sizeof(V.cur), "map %s len=%zu (size %zu)", s->path, len, s->size);
	ensure_open(s);
	s->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		fail_errno("mmap");
	}
	s->maplen = len;
}

static void op_unmap(struct seg *s)
{
	if (!s->map)
		return;
	snprintf(V.cur, sizeof(V.cur), "unmap %s", s->path);
	if (munmap(s->map, s->maplen))
		fail_errno("munmap");
	s->map = NULL;
}

/* The part of the long-lived mapping that is safe to touch: below the size. */
static size_t pmap_room(struct seg *s)
{
	return s->maplen < s->size ? s->maplen : s->size;
}

static void op_pmap_read(struct seg *s)
{
	size_t room = s->map ? pmap_room(s) : 0, off, len;

	if (room == 0)
		return;
	off = pick_offset(s, room - 1);
	len = pick_length(room - off);
	snprintf(V.cur, sizeof(V.cur), "pmap-read %s off=%zu len=%zu", s->path, off, len);
	if (sigbus_guard())
		fail("pmap-read %s: SIGBUS below the size %zu", s->path, s->size);
	memcpy(scratch, s->map + off, len);
	sigbus_unguard();
	check_bytes(s, off, scratch, len, "pmap-read");
}

static void op_pmap_write(struct seg *s)
{
	size_t room = s->map ? pmap_room(s) : 0, off, len;

	if (room == 0)
		return;
	off = pick_offset(s, room - 1);
	len = pick_length(room - off);
	snprintf(V.cur, sizeof(V.cur), "pmap-write %s off=%zu len=%zu", s->path, off, len);
	rng_fill(&V.rng, scratch, len);
	model_write(s, off, scratch, len);
	if (sigbus_guard())
		fail("pmap-write %s: SIGBUS below the size %zu", s->path, s->size);
	memcpy(s->map + off, scratch, len);
	sigbus_unguard();
}

static size_t pick_size(struct seg *s)
{
	switch (rng_below(&V.rng, 6)) {
	case 0:
		return 0;
	case 1: /* a few bytes either way: partial pages */
		return s->size > 100 ? s->size - (size_t)rng_below(&V.rng, 100)
				     : s->size + (size_t)rng_below(&V.rng, 100);
	case 2:
		return (size_t)rng_below(&V.rng, V.max_size / PAGE + 1) * PAGE;
	default:
		return (size_t)rng_below(&V.rng, V.max_size + 1);
	}
}

static void op_truncate(struct seg *s, int by_path)
{
	size_t size = pick_size(s);

	snprintf(V.cur, sizeof(V.cur), "%s %s %zu -> %zu", by_path ? "truncate(path)" : "ftruncate",
		 s->path, s->size, size);
	if (size > V.max_size)
		size = V.max_size;
	if (by_path) {
		if (truncate(s->path, (off_t)size))
			fail_errno("truncate");
	} else {
		ensure_open(s);
		if (ftruncate(s->fd, (off_t)size))
			fail_errno("ftruncate");
	}
	model_resize(s, size);
}

static void op_fallocate(struct seg *s, enum op op)
{
	size_t off = pick_offset(s, op == OP_PUNCH ? s->size : V.max_size - 1);
	size_t len = pick_length((op == OP_PUNCH ? s->size + PAGE : V.max_size) - off);
	int mode = op == OP_FALLOCATE ? 0
		 : op == OP_FALLOC_KEEP ? FALLOC_FL_KEEP_SIZE
				       : FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;

	if (len == 0)
		return;
	snprintf(V.cur, sizeof(V.cur), "%s %s off=%zu len=%zu (size %zu)", op_names[op],
		 s->path, off, len, s->size);
	ensure_open(s);
	if (fallocate(s->fd, mode, (off_t)off, (off_t)len))
		fail_errno("fallocate");
	if (op == OP_FALLOCATE && off + len > s->size)
		model_resize(s, off + len);
	if (op == OP_PUNCH && off < s->size)
		model_zero(s, off, (off + len > s->size ? s->size : off + len) - off);
}

static void op_msync(struct seg *s)
{
	int flags = rng_chance(&V.rng, 70) ? MS_SYNC : MS_ASYNC;

	if (!s->map)
		return;
	snprintf(V.cur, sizeof(V.cur), "msync %s %s", s->path, flags == MS_SYNC ? "MS_SYNC" : "MS_ASYNC");
	if (msync(s->map, s->maplen, flags))
		fail_errno("msync");
}

static void op_fsync(struct seg *s)
{
	int data = rng_chance(&V.rng, 50);

	snprintf(V.cur, sizeof(V.cur), "%s %s", data ? "fdatasync" : "fsync", s->path);
	ensure_open(s);
	if (data ? fdatasync(s->fd) : fsync(s->fd))
		fail_errno("fsync");
}

static void op_reopen(struct seg *s)
{
	int trunc = rng_chance(&V.rng, 10);

	snprintf(V.cur, sizeof(V.cur), "close-reopen %s%s", s->path, trunc ? " O_TRUNC" : "");
	if (s->fd >= 0 && close(s->fd))
		fail_errno("close");
	s->fd = -1;
	seg_open(s, trunc ? O_TRUNC : 0);
}

static void op_stat(struct seg *s)
{
	struct stat st;

	snprintf(V.cur, sizeof(V.cur), "stat %s (size %zu)", s->path, s->size);
	ensure_open(s);
	if (fstat(s->fd, &st))
		fail_errno("fstat");
	if ((size_t)st.st_size != s->size)
		fail("fstat %s: size %lld, expected %zu", s->path, (long long)st.st_size, s->size);
	if (stat(s->path, &st))
		fail_errno("stat");
	if ((size_t)st.st_size != s->size)
		fail("stat %s: size %lld, expected %zu", s->path, (long long)st.st_size, s->size);
}

/* After fsync, the backing object itself holds exactly the model. */
static void op_backing(struct seg *s)
{
	struct stat st;
	size_t got = 0;
	int fd;

	if (!s->backing[0])
		return;
	snprintf(V.cur, sizeof(V.cur), "backing-check %s (size %zu)", s->backing, s->size);
	ensure_open(s);
	if (s->map && msync(s->map, s->maplen, MS_SYNC))
		fail_errno("msync");
	if (fsync(s->fd))
		fail_errno("fsync");
	fd = open(s->backing, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_errno("open backing");
	if (fstat(fd, &st))
		fail_errno("fstat backing");
	if ((size_t)st.st_size != s->size)
		fail("backing %s: size %lld, expected %zu", s->backing, (long long)st.st_size, s->size);
	while (got < s->size) {
		ssize_t n = pread(fd, scratch + got, s->size - got, (off_t)got);

		if (n <= 0)
			fail_errno("pread backing");
		got += (size_t)n;
	}
	close(fd);
	check_bytes(s, 0, scratch, s->size, "backing");
}

static void op_verify_all(struct seg *s)
{
	snprintf(V.cur, sizeof(V.cur), "verify-all %s (size %zu)", s->path, s->size);
	ensure_open(s);
	checked_pread(s, 0, V.max_size + PAGE, "verify-all");
}

static void run_op(enum op op, struct seg *s)
{
	switch (op) {
	case OP_WRITE: op_write(s); break;
	case OP_READ: op_read(s); break;
	case OP_MMAP_READ: op_mmap_read(s); break;
	case OP_MMAP_WRITE: op_mmap_write(s); break;
	case OP_MAP: op_map(s); break;
	case OP_UNMAP: op_unmap(s); break;
	case OP_PMAP_READ: op_pmap_read(s); break;
	case OP_PMAP_WRITE: op_pmap_write(s); break;
	case OP_TRUNCATE: op_truncate(s, 0); break;
	case OP_TRUNCATE_PATH: op_truncate(s, 1); break;
	case OP_FALLOCATE: case OP_FALLOC_KEEP: case OP_PUNCH: op_fallocate(s, op); break;
	case OP_MSYNC: op_msync(s); break;
	case OP_FSYNC: op_fsync(s); break;
	case OP_REOPEN: op_reopen(s); break;
	case OP_STAT: op_stat(s); break;
	case OP_BACKING: op_backing(s); break;
	case OP_VERIFY_ALL: op_verify_all(s); break;
	case OP_COUNT: break;
	}
}

/* --reader: the second process. Every byte it sees at offset o of a segment
 * must be zero or a value the writer marked allowed at o before writing it. */
static void reader_check(struct seg *s, size_t off, const volatile unsigned char *p, size_t len,
			 const char *how)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char v = p[i];
		unsigned char bits;

		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		bits = __atomic_load_n(&s->allowed[(off + i) * 32 + v / 8], __ATOMIC_ACQUIRE);
		if (!(bits & (1u << (v % 8)))) {
			snprintf(V.rs->why, sizeof(V.rs->why),
				 "reader: %s %s: byte %zu is 0x%02x, a value never written there",
				 how, s->path, off + i, v);
			V.rs->failed = 1;
			V.rs->stop = 1;
			_exit(1);
		}
	}
	V.rs->bytes += len;
}

static void reader_pass(struct rng *r, struct seg *s, unsigned char *buf)
{
	struct stat st;
	size_t size, off, len;
	int fd = open(s->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st)) {
		snprintf(V.rs->why, sizeof(V.rs->why), "reader: open %s: %s", s->path, strerror(errno));
		V.rs->failed = 1;
		_exit(1);
	}
	size = (size_t)st.st_size;
	if (size > V.max_size)
		size = V.max_size;
	if (size == 0) {
		close(fd);
		return;
	}
	off = (size_t)rng_below(r, size);
	len = 1 + (size_t)rng_below(r, size - off);
	if (rng_chance(r, 30)) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

		if (n > 0)
			reader_check(s, off, buf, (size_t)n, "pread");
	} else {
		size_t maplen = (size + PAGE - 1) / PAGE * PAGE;
		unsigned char *p = mmap(NULL, maplen, PROT_READ, MAP_SHARED, fd, 0);

		if (p != MAP_FAILED) {
			for (volatile int k = 0; k < 8 && !V.rs->stop; k++) {
				if (sigbus_guard()) {
					V.rs->sigbus++; /* shrunk meanwhile: fine */
					break;
				}
				reader_check(s, off, p + off, len, "mmap");
				sigbus_unguard();
				off = (size_t)rng_below(r, size);
				len = 1 + (size_t)rng_below(r, size - off);
			}
			munmap(p, maplen);
		}
	}
	V.rs->reads++;
	close(fd);
}

static pid_t reader_start(void)
{
	pid_t pid = fork();

	if (pid < 0)
		fail_errno("fork");
	if (pid == 0) {
		struct rng r = { V.seed ^ 0x5eed5eedull };
		unsigned char *buf = xmalloc(V.max_size);

		while (!V.rs->stop)
			reader_pass(&r, &V.segs[rng_below(&r, (uint64_t)V.nfiles)], buf);
		_exit(0);
	}
	return pid;
}

static void reader_stop(pid_t pid)
{
	int status;

	V.rs->stop = 1;
	if (waitpid(pid, &status, 0) < 0)
		fail_errno("waitpid");
	snprintf(V.cur, sizeof(V.cur), "(the concurrent reader)");
	if (V.rs->failed)
		fail("%s", V.rs->why);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("the reader process ended with status 0x%x", status);
}

/* --corrupt-at N, a self-test: at op N one byte of the segment changes
 * behind the model's back (by a write through a second open file), and a
 * full read follows at once: the run must fail there. */
static void corrupt(struct seg *s)
{
	unsigned char b;
	size_t off;
	int fd;

	if (s->size == 0) {
		unsigned char z = 0x5a;

		snprintf(V.cur, sizeof(V.cur), "self-test: one byte written behind the model's back");
		fd = open(s->path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || pwrite(fd, &z, 1, 0) != 1)
			fail_errno("self-test write");
		close(fd);
	} else {
		off = (size_t)rng_below(&V.rng, s->size);
		b = s->data[off] ^ 0xff;
		snprintf(V.cur, sizeof(V.cur), "self-test: byte %zu of %s changed behind the model's back",
			 off, s->path);
		fd = open(s->path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || pwrite(fd, &b, 1, (off_t)off) != 1)
			fail_errno("self-test write");
		close(fd);
	}
	ensure_open(s);
	checked_pread(s, 0, V.max_size + PAGE, "self-test read");
	fail("self-test: the changed byte was not noticed");
}

static void usage(void)
{
	fprintf(stderr, "usage: verify [--seed N] [--ops N] [--files N] [--max-size BYTES] "
			"[--reader] [--backing DIR --prefix P] [--tag T] [--trace] [--corrupt-at N] DIR\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "files", required_argument, NULL, 'f' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "reader", no_argument, NULL, 'r' },
		{ "backing", required_argument, NULL, 'b' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "tag", required_argument, NULL, 't' },
		{ "trace", no_argument, NULL, 'v' },
		{ "corrupt-at", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	V.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	V.nops = 10000;
	V.nfiles = 3;
	V.max_size = 0;
	V.prefix = "";
	V.tag = "0";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': V.seed = parse_u64(optarg, "--seed"); break;
		case 'n': V.nops = parse_u64(optarg, "--ops"); break;
		case 'f': V.nfiles = (int)parse_u64(optarg, "--files"); break;
		case 'm': V.max_size = parse_u64(optarg, "--max-size"); break;
		case 'r': V.reader = 1; break;
		case 'b': V.backing_dir = optarg; break;
		case 'p': V.prefix = optarg; break;
		case 't': V.tag = optarg; break;
		case 'v': V.trace = 1; break;
		case 'c': V.corrupt_at = parse_u64(optarg, "--corrupt-at"); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || V.nfiles < 1)
		usage();
	V.dir = argv[optind];
	if (!V.max_size)
		V.max_size = V.reader ? 256 * 1024 : 1024 * 1024;
}

static void setup(void)
{
	V.segs = xmalloc((size_t)V.nfiles * sizeof(*V.segs));
	scratch = xmalloc(V.max_size + 4 * PAGE);
	if (V.reader) {
		V.rs = mmap(NULL, sizeof(*V.rs), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			    -1, 0);
		if (V.rs == MAP_FAILED)
			fail_errno("mmap");
	}
	for (int i = 0; i < V.nfiles; i++) {
		struct seg *s = &V.segs[i];

		snprintf(s->path, sizeof(s->path), "%s/vfy.%s.%d", V.dir, V.tag, i);
		if (V.backing_dir)
			snprintf(s->backing, sizeof(s->backing), "%s/%svfy.%s.%d", V.backing_dir,
				 V.prefix, V.tag, i);
		s->data = xmalloc(V.max_size);
		s->who = xmalloc(V.max_size * sizeof(*s->who));
		s->fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		snprintf(V.cur, sizeof(V.cur), "create %s", s->path);
		if (s->fd < 0)
			fail_errno("create");
		if (V.reader) {
			size_t n = V.max_size * 32;

			s->allowed = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			if (s->allowed == MAP_FAILED)
				fail_errno("mmap");
			for (size_t o = 0; o < V.max_size; o++)
				s->allowed[o * 32] = 1; /* zero is always there to see */
		}
	}
}

static void teardown(void)
{
	for (int i = 0; i < V.nfiles; i++) {
		struct seg *s = &V.segs[i];

		snprintf(V.cur, sizeof(V.cur), "final check and unlink %s", s->path);
		ensure_open(s);
		checked_pread(s, 0, V.max_size + PAGE, "final read");
		if (s->map)
			munmap(s->map, s->maplen);
		close(s->fd);
		if (unlink(s->path))
			fail_errno("unlink");
	}
}

int main(int argc, char **argv)
{
	pid_t reader = 0;

	V.argc = argc;
	V.argv = argv;
	parse_args(argc, argv);
	sigbus_install();
	V.rng.s = V.seed;
	fprintf(stderr, "verify: seed=%llu ops=%llu files=%d max_size=%llu%s dir=%s\n",
		(unsigned long long)V.seed, (unsigned long long)V.nops, V.nfiles,
		(unsigned long long)V.max_size, V.reader ? " reader" : "", V.dir);
	setup();
	if (V.reader)
		reader = reader_start();
	for (V.opno = 1; V.opno <= V.nops; V.opno++) {
		enum op op = (enum op)rng_weighted(&V.rng, op_weights, OP_COUNT);
		struct seg *s = &V.segs[rng_below(&V.rng, (uint64_t)V.nfiles)];

		snprintf(V.cur, sizeof(V.cur), "%s %s", op_names[op], s->path);
		if (V.opno == V.corrupt_at)
			corrupt(s);
		run_op(op, s);
		if (V.trace)
			fprintf(stderr, "#%llu %s\n", (unsigned long long)V.opno, V.cur);
		snprintf(V.ring[V.opno % RING], sizeof(V.ring[0]), "%s", V.cur);
		if (V.rs && V.rs->failed)
			reader_stop(reader);
	}
	V.opno = V.nops;
	if (V.reader)
		reader_stop(reader);
	teardown();
	printf("verify: seed=%llu ops=%llu bytes=%llu reader_bytes=%llu reader_sigbus=%llu OK\n",
	       (unsigned long long)V.seed, (unsigned long long)V.nops,
	       (unsigned long long)V.bytes_checked,
	       (unsigned long long)(V.rs ? V.rs->bytes : 0),
	       (unsigned long long)(V.rs ? V.rs->sigbus : 0));
	return 0;
}
