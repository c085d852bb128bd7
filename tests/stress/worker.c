/* worker: one process of the concurrency stress and the crash tests.
 *
 *   worker --id N --root DIR [--disk DIR] [--seconds S] [--seed N] [--shared K]
 *          [--state FILE] [--final]
 *
 * Private names (DIR/pN.K and, with --disk, DISK/pN.K): the worker creates,
 * sizes, writes (write and mmap), verifies against its model of every byte,
 * renames and unlinks them. Shared names (DIR/shared.K, K of them, used by
 * every worker): segments of 256-byte records, each written under an OFD
 * write lock with a version one above the one it replaces, a checksum and its
 * index; every read (under a read lock) must find a whole record (not torn),
 * and, while the worker keeps the file open, a version no older than the
 * last it saw there (no lost write). Shared names are also grown, renamed
 * over each other and unlinked; ENOENT is the only error expected there.
 *
 * Crash mode (--state FILE): every mmap write is msynced; when the daemon
 * dies under it (ENOTCONN, ECONNABORTED, SIGBUS on a mapping, or, over FUSE
 * io_uring, ECANCELED for a request the dead daemon's ring held), the worker
 * saves its model and the operation in flight to FILE and exits 3. The next
 * run with the same FILE first checks that every private segment is exactly
 * as the model says (the operation in flight either done or not), owned by
 * the worker with the mode it was made with (no half-made objects); --final
 * then unlinks them all. Exit: 0 done, 1 failure, 3 the daemon died.
 * The last line is "worker N: ops=N bytes=N records=N".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common.h"

STRESS_SIGBUS_DEFINE

#define PAGE 4096u
#define NPRIV 4            /* private names per directory */
#define MAXSLOTS (2 * NPRIV)
#define PRIV_MAX (256 * 1024)
#define REC 256u
#define SHARED_RECS 64     /* records a shared segment is made with */
#define SHARED_MAX_RECS 256
#define NSHARED_OPEN 2
#define FILE_MODE 0640

struct slot {
	char path[PATH_MAX];
	int dir;               /* 0: root, 1: disk */
	int exists;
	size_t size;
	unsigned char *data;
	int fd;
};

struct shared_open {
	int fd;
	int k;
	uint64_t seen[SHARED_MAX_RECS];
};

struct record {
	uint64_t magic;
	uint64_t version;
	uint32_t writer;
	uint32_t index;
	unsigned char payload[REC - 32];
	uint64_t sum;
};

#define REC_MAGIC 0x5348464d52454331ull /* "SHFMREC1" */

enum pending_kind { PEND_NONE, PEND_ATOMIC, PEND_BYTES };

static struct {
	int id, nshared, ndirs, final;
	double seconds;
	uint64_t seed;
	const char *dirs[2], *state;
	struct slot slots[MAXSLOTS];
	struct slot before[MAXSLOTS]; /* crash mode: the model before the op in flight */
	enum pending_kind pending;
	char pending_what[PATH_MAX + 100];
	struct shared_open sh[NSHARED_OPEN];
	struct rng rng;
	uint64_t ops, bytes, records;
	unsigned char *buf;
	char cur[PATH_MAX * 2 + 100];
} W;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "worker %d: FAIL (seed %llu, op %llu: %s): ", W.id,
		(unsigned long long)W.seed, (unsigned long long)W.ops, W.cur);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void save_state(void);

/* The daemon died under us: keep what we know and stop. */
static void __attribute__((noreturn)) crashed(const char *what)
{
	fprintf(stderr, "worker %d: the daemon is gone (%s during %s)\n", W.id, what, W.cur);
	save_state();
	printf("worker %d: ops=%llu bytes=%llu records=%llu crashed\n", W.id,
	       (unsigned long long)W.ops, (unsigned long long)W.bytes,
	       (unsigned long long)W.records);
	exit(3);
}

static int crash_errno(int e)
{
	return W.state && (e == ENOTCONN || e == ECONNABORTED || e == EIO || e == ECANCELED);
}

/* An unexpected error, unless it says the daemon died in crash mode. */
static void fail_errno(const char *what)
{
	int e = errno;

	if (crash_errno(e))
		crashed(strerror(e));
	fail("%s: %s (errno %d)", what, strerror(e), e);
}

/* ---- crash-mode state ---------------------------------------------------- */

static void begin(enum pending_kind kind)
{
	if (!W.state)
		return;
	for (int i = 0; i < W.ndirs * NPRIV; i++) {
		struct slot *b = &W.before[i], *s = &W.slots[i];

		b->exists = s->exists;
		b->size = s->size;
		memcpy(b->data, s->data, s->size);
	}
	W.pending = kind;
	snprintf(W.pending_what, sizeof(W.pending_what), "%s", W.cur);
}

static void done(void)
{
	W.pending = PEND_NONE;
}

static void write_slot(FILE *f, const struct slot *s)
{
	uint64_t hdr[2] = { (uint64_t)s->exists, s->size };

	fwrite(hdr, sizeof(hdr), 1, f);
	fwrite(s->data, 1, s->size, f);
}

static int read_slot(FILE *f, struct slot *s)
{
	uint64_t hdr[2];

	if (fread(hdr, sizeof(hdr), 1, f) != 1 || hdr[1] > PRIV_MAX)
		return -1;
	s->exists = (int)hdr[0];
	s->size = hdr[1];
	memset(s->data, 0, PRIV_MAX);
	return fread(s->data, 1, s->size, f) == s->size ? 0 : -1;
}

static void save_state(void)
{
	char tmp[PATH_MAX + 8];
	uint64_t hdr[3] = { REC_MAGIC, (uint64_t)(W.ndirs * NPRIV), (uint64_t)W.pending };
	FILE *f;

	if (!W.state)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", W.state);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "worker %d: cannot save %s: %s\n", W.id, tmp, strerror(errno));
		exit(1);
	}
	fwrite(hdr, sizeof(hdr), 1, f);
	fwrite(W.pending_what, 1, sizeof(W.pending_what), f);
	for (int i = 0; i < W.ndirs * NPRIV; i++) {
		write_slot(f, &W.slots[i]);
		write_slot(f, W.pending ? &W.before[i] : &W.slots[i]);
	}
	if (fclose(f) || rename(tmp, W.state)) {
		fprintf(stderr, "worker %d: cannot save %s\n", W.id, W.state);
		exit(1);
	}
}

/* What is really there, read through the mount. */
static int observe(struct slot *s, struct slot *seen)
{
	struct stat st;
	size_t got = 0;
	int fd = open(s->path, O_RDONLY | O_CLOEXEC);

	seen->exists = 0;
	seen->size = 0;
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		fail_errno("open to check");
	}
	if (fstat(fd, &st))
		fail_errno("fstat to check");
	if (st.st_uid != getuid() || (st.st_mode & 07777) != FILE_MODE)
		fail("%s: owner %u mode %04o, expected %u and %04o (a half-made object?)", s->path,
		     (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)getuid(),
		     FILE_MODE);
	if (st.st_size > PRIV_MAX)
		fail("%s: size %lld is larger than ever written", s->path, (long long)st.st_size);
	seen->exists = 1;
	seen->size = (size_t)st.st_size;
	while (got < seen->size) {
		ssize_t n = pread(fd, seen->data + got, seen->size - got, (off_t)got);

		if (n <= 0)
			fail("%s: read to check: %s", s->path, n ? strerror(errno) : "short");
		got += (size_t)n;
	}
	close(fd);
	return 1;
}

static int same(const struct slot *a, const struct slot *b)
{
	return a->exists == b->exists && (!a->exists ||
		(a->size == b->size && memcmp(a->data, b->data, a->size) == 0));
}

static unsigned char byte_at(const struct slot *s, size_t i)
{
	return i < s->size ? s->data[i] : 0;
}

/* A write cut short by the crash: each byte old or new, the size between. */
static int either_bytes(const struct slot *seen, const struct slot *old, const struct slot *new)
{
	size_t lo = old->size < new->size ? old->size : new->size;
	size_t hi = old->size < new->size ? new->size : old->size;

	if (seen->exists != old->exists || seen->exists != new->exists)
		return 0;
	if (!seen->exists)
		return 1;
	if (seen->size < lo || seen->size > hi)
		return 0;
	for (size_t i = 0; i < seen->size; i++)
		if (seen->data[i] != byte_at(old, i) && seen->data[i] != byte_at(new, i))
			return 0;
	return 1;
}

static void report_mismatch(const struct slot *want, const struct slot *seen, const char *which)
{
	size_t i = 0;

	if (want->exists != seen->exists)
		fail("%s: %s, expected it %s (%s)", want->path, seen->exists ? "exists" : "is missing",
		     want->exists ? "to exist" : "gone", which);
	if (want->size != seen->size)
		fail("%s: size %zu, expected %zu (%s)", want->path, seen->size, want->size, which);
	while (i < want->size && want->data[i] == seen->data[i])
		i++;
	fail("%s: byte %zu is 0x%02x, expected 0x%02x (%s)", want->path, i, seen->data[i],
	     want->data[i], which);
}

/* After a crash: every private segment is as the model says. */
static void check_after_crash(void)
{
	int n = W.ndirs * NPRIV, ok_new = 1, ok_old = 1;
	struct slot *seen = xmalloc(sizeof(*seen) * (size_t)n);

	snprintf(W.cur, sizeof(W.cur), "checking after the crash; in flight: %s",
		 W.pending ? W.pending_what : "nothing");
	for (int i = 0; i < n; i++) {
		seen[i].data = xmalloc(PRIV_MAX);
		observe(&W.slots[i], &seen[i]);
		W.bytes += seen[i].size;
	}
	for (int i = 0; i < n; i++) {
		if (W.pending == PEND_BYTES) {
			if (!either_bytes(&seen[i], &W.before[i], &W.slots[i]))
				report_mismatch(&W.slots[i], &seen[i],
						"neither before nor after the write in flight");
			continue;
		}
		ok_new &= same(&seen[i], &W.slots[i]);
		ok_old &= W.pending == PEND_ATOMIC && same(&seen[i], &W.before[i]);
	}
	if (W.pending != PEND_BYTES && !ok_new && !ok_old) {
		for (int i = 0; i < n; i++)
			if (!same(&seen[i], &W.slots[i]))
				report_mismatch(&W.slots[i], &seen[i],
						W.pending ? "after the op in flight" : "nothing was in flight");
	}
	/* Adopt what is there: the op in flight happened or not. */
	for (int i = 0; i < n; i++) {
		W.slots[i].exists = seen[i].exists;
		W.slots[i].size = seen[i].size;
		memcpy(W.slots[i].data, seen[i].data, seen[i].size);
		free(seen[i].data);
	}
	free(seen);
	W.pending = PEND_NONE;
}

static void load_state(void)
{
	uint64_t hdr[3];
	FILE *f = fopen(W.state, "r");

	if (!f)
		return; /* the first round */
	if (fread(hdr, sizeof(hdr), 1, f) != 1 || hdr[0] != REC_MAGIC ||
	    hdr[1] != (uint64_t)(W.ndirs * NPRIV) ||
	    fread(W.pending_what, 1, sizeof(W.pending_what), f) != sizeof(W.pending_what))
		fail("%s: not a state file of this worker", W.state);
	W.pending = (enum pending_kind)hdr[2];
	W.pending_what[sizeof(W.pending_what) - 1] = '\0';
	for (int i = 0; i < W.ndirs * NPRIV; i++)
		if (read_slot(f, &W.slots[i]) || read_slot(f, &W.before[i]))
			fail("%s: truncated state file", W.state);
	fclose(f);
	check_after_crash();
}

/* ---- private segments ---------------------------------------------------- */

static void verify_range(struct slot *s, size_t off, const unsigned char *got, size_t len,
			 const char *how)
{
	if (memcmp(got, s->data + off, len) == 0) {
		W.bytes += len;
		return;
	}
	for (size_t i = 0; i < len; i++)
		if (got[i] != s->data[off + i])
			fail("%s %s: byte %zu is 0x%02x, expected 0x%02x (size %zu)", how, s->path,
			     off + i, got[i], s->data[off + i], s->size);
}

static void ensure_open(struct slot *s)
{
	if (s->fd >= 0)
		return;
	s->fd = open(s->path, O_RDWR | O_CLOEXEC);
	if (s->fd < 0)
		fail_errno("open");
}

static void priv_create(struct slot *s)
{
	snprintf(W.cur, sizeof(W.cur), "create %s", s->path);
	begin(PEND_ATOMIC);
	s->exists = 1;
	s->size = 0;
	s->fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
	if (s->fd < 0)
		fail_errno("create");
	done();
}

static void priv_write(struct slot *s)
{
	size_t off = (size_t)rng_below(&W.rng, s->size + PAGE < PRIV_MAX ? s->size + PAGE : PRIV_MAX);
	size_t len = 1 + (size_t)rng_below(&W.rng, rng_chance(&W.rng, 70) ? 8192 : PRIV_MAX);
	ssize_t n;

	if (off + len > PRIV_MAX)
		len = PRIV_MAX - off;
	snprintf(W.cur, sizeof(W.cur), "write %s off=%zu len=%zu", s->path, off, len);
	ensure_open(s);
	rng_fill(&W.rng, W.buf, len);
	begin(PEND_BYTES);
	memcpy(s->data + off, W.buf, len);
	if (off + len > s->size) {
		if (off > s->size)
			memset(s->data + s->size, 0, off - s->size);
		s->size = off + len;
	}
	n = pwrite(s->fd, W.buf, len, (off_t)off);
	if (n < 0)
		fail_errno("pwrite");
	if ((size_t)n != len && W.state)
		crashed("a short write"); /* cut off by the abort: pending covers it */
	if ((size_t)n != len)
		fail("pwrite: %zd of %zu bytes", n, len);
	done();
}

static void priv_truncate(struct slot *s)
{
	size_t size = (size_t)rng_below(&W.rng, PRIV_MAX + 1);

	if (rng_chance(&W.rng, 30))
		size = size / PAGE * PAGE;
	snprintf(W.cur, sizeof(W.cur), "ftruncate %s %zu -> %zu", s->path, s->size, size);
	ensure_open(s);
	begin(PEND_ATOMIC);
	if (size > s->size)
		memset(s->data + s->size, 0, size - s->size);
	s->size = size;
	if (ftruncate(s->fd, (off_t)size))
		fail_errno("ftruncate");
	done();
}

static void priv_mmap_write(struct slot *s)
{
	size_t off, len, base;
	unsigned char *p;
	volatile int sync = W.state || rng_chance(&W.rng, 30);

	if (s->size == 0)
		return;
	off = (size_t)rng_below(&W.rng, s->size);
	len = 1 + (size_t)rng_below(&W.rng, s->size - off);
	snprintf(W.cur, sizeof(W.cur), "mmap-write %s off=%zu len=%zu%s", s->path, off, len,
		 sync ? " msync" : "");
	ensure_open(s);
	base = off / PAGE * PAGE;
	p = mmap(NULL, off + len - base, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, (off_t)base);
	if (p == MAP_FAILED)
		fail_errno("mmap");
	rng_fill(&W.rng, W.buf, len);
	begin(PEND_BYTES);
	memcpy(s->data + off, W.buf, len);
	if (sigbus_guard()) {
		if (W.state)
			crashed("SIGBUS");
		fail("SIGBUS writing below the size");
	}
	memcpy(p + (off - base), W.buf, len);
	sigbus_unguard();
	if (sync && msync(p, off + len - base, MS_SYNC))
		fail_errno("msync");
	munmap(p, off + len - base);
	done();
}

static void priv_read(struct slot *s)
{
	size_t off = (size_t)rng_below(&W.rng, s->size + 1), want, got = 0;
	size_t len = 1 + (size_t)rng_below(&W.rng, PRIV_MAX);

	snprintf(W.cur, sizeof(W.cur), "read %s off=%zu len=%zu", s->path, off, len);
	ensure_open(s);
	want = off + len > s->size ? s->size - off : len;
	while (got < len) {
		ssize_t n = pread(s->fd, W.buf + got, len - got, (off_t)(off + got));

		if (n < 0)
			fail_errno("pread");
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != want)
		fail("read %zu bytes at %zu, expected %zu (size %zu)", got, off, want, s->size);
	verify_range(s, off, W.buf, got, "read");
}

static void priv_mmap_read(struct slot *s)
{
	size_t off, len, base;
	unsigned char *p;

	if (s->size == 0)
		return;
	off = (size_t)rng_below(&W.rng, s->size);
	len = 1 + (size_t)rng_below(&W.rng, s->size - off);
	snprintf(W.cur, sizeof(W.cur), "mmap-read %s off=%zu len=%zu", s->path, off, len);
	ensure_open(s);
	base = off / PAGE * PAGE;
	p = mmap(NULL, off + len - base, PROT_READ, MAP_SHARED, s->fd, (off_t)base);
	if (p == MAP_FAILED)
		fail_errno("mmap");
	if (sigbus_guard()) {
		if (W.state)
			crashed("SIGBUS");
		fail("SIGBUS reading below the size");
	}
	memcpy(W.buf, p + (off - base), len);
	sigbus_unguard();
	munmap(p, off + len - base);
	verify_range(s, off, W.buf, len, "mmap-read");
}

static void priv_stat(struct slot *s)
{
	struct stat st;

	snprintf(W.cur, sizeof(W.cur), "stat %s", s->path);
	if (stat(s->path, &st))
		fail_errno("stat");
	if ((size_t)st.st_size != s->size)
		fail("stat: size %lld, expected %zu", (long long)st.st_size, s->size);
}

static void priv_close(struct slot *s)
{
	if (s->fd >= 0 && close(s->fd) && !crash_errno(errno))
		fail_errno("close");
	s->fd = -1;
}

static void priv_unlink(struct slot *s)
{
	snprintf(W.cur, sizeof(W.cur), "unlink %s", s->path);
	priv_close(s);
	begin(PEND_ATOMIC);
	s->exists = 0;
	s->size = 0;
	if (unlink(s->path))
		fail_errno("unlink");
	done();
}

static void priv_rename(struct slot *a, struct slot *b)
{
	snprintf(W.cur, sizeof(W.cur), "rename %s -> %s", a->path, b->path);
	if (a == b)
		return;
	if (a->dir != b->dir) {
		if (rename(a->path, b->path) == 0)
			fail("a rename across stores succeeded");
		if (errno != EXDEV)
			fail_errno("rename across stores (expected EXDEV)");
		return;
	}
	priv_close(b);
	begin(PEND_ATOMIC);
	b->exists = 1;
	b->size = a->size;
	memcpy(b->data, a->data, a->size);
	b->fd = a->fd;
	a->fd = -1;
	a->exists = 0;
	a->size = 0;
	if (rename(a->path, b->path))
		fail_errno("rename");
	done();
}

static void private_op(void)
{
	int n = W.ndirs * NPRIV;
	struct slot *s = &W.slots[rng_below(&W.rng, (uint64_t)n)];
	unsigned x = (unsigned)rng_below(&W.rng, 100);

	if (!s->exists) {
		priv_create(s);
		return;
	}
	if (x < 22)
		priv_write(s);
	else if (x < 30)
		priv_truncate(s);
	else if (x < 45)
		priv_mmap_write(s);
	else if (x < 62)
		priv_read(s);
	else if (x < 76)
		priv_mmap_read(s);
	else if (x < 80)
		priv_stat(s);
	else if (x < 86) {
		snprintf(W.cur, sizeof(W.cur), "close %s", s->path);
		priv_close(s);
	} else if (x < 94)
		priv_rename(s, &W.slots[rng_below(&W.rng, (uint64_t)n)]);
	else
		priv_unlink(s);
}

/* ---- shared segments ----------------------------------------------------- */

static void shared_path(int k, char *out, size_t len)
{
	snprintf(out, len, "%s/shared.%d", W.dirs[0], k);
}

static int lock_range(int fd, short type, off_t off, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = off, .l_len = len };

	return fcntl(fd, F_OFD_SETLKW, &fl);
}

static void make_record(struct record *r, uint64_t version, uint32_t index)
{
	struct rng g = { version * 0x9e37u ^ ((uint64_t)W.id << 40) ^ index };

	memset(r, 0, sizeof(*r));
	r->magic = REC_MAGIC;
	r->version = version;
	r->writer = (uint32_t)W.id;
	r->index = index;
	rng_fill(&g, r->payload, sizeof(r->payload));
	r->sum = fnv64(r, offsetof(struct record, sum));
}

/* The version of a record as read, or fail: never written (0), or whole. */
static uint64_t check_record(const struct record *r, uint32_t index, const char *path)
{
	static const struct record zero;

	if (memcmp(r, &zero, sizeof(zero)) == 0)
		return 0;
	if (r->magic != REC_MAGIC || r->index != index ||
	    r->sum != fnv64(r, offsetof(struct record, sum)))
		fail("%s: record %u is torn or corrupt (magic %llx index %u version %llu writer %u)",
		     path, index, (unsigned long long)r->magic, r->index,
		     (unsigned long long)r->version, r->writer);
	W.records++;
	W.bytes += REC;
	return r->version;
}

static void shared_open(struct shared_open *so)
{
	char path[PATH_MAX];
	struct stat st;

	so->k = (int)rng_below(&W.rng, (uint64_t)W.nshared);
	shared_path(so->k, path, sizeof(path));
	snprintf(W.cur, sizeof(W.cur), "open shared %s", path);
	so->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (so->fd < 0)
		fail_errno("open shared");
	memset(so->seen, 0, sizeof(so->seen));
	/* A new segment is sized by whoever opens it first. */
	if (lock_range(so->fd, F_WRLCK, 0, 0))
		fail_errno("lock");
	if (fstat(so->fd, &st))
		fail_errno("fstat");
	if (st.st_size < (off_t)(SHARED_RECS * REC) && ftruncate(so->fd, SHARED_RECS * REC))
		fail_errno("ftruncate shared");
	if (lock_range(so->fd, F_UNLCK, 0, 0))
		fail_errno("unlock");
}

static size_t shared_records(struct shared_open *so)
{
	struct stat st;

	if (fstat(so->fd, &st))
		fail_errno("fstat shared");
	if (st.st_size % REC)
		fail("shared.%d: size %lld is not whole records", so->k, (long long)st.st_size);
	return (size_t)st.st_size / REC;
}

/* Read record i of so under a lock the caller holds, by read() or mmap. */
static void shared_get(struct shared_open *so, uint32_t i, struct record *r)
{
	if (rng_chance(&W.rng, 50)) {
		ssize_t n = pread(so->fd, r, REC, (off_t)i * REC);

		if (n != (ssize_t)REC)
			fail("pread record %u: %s", i, n < 0 ? strerror(errno) : "short");
	} else {
		off_t base = (off_t)i * REC / PAGE * PAGE;
		size_t len = (size_t)((off_t)i * REC - base) + REC;
		unsigned char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, so->fd, base);

		if (p == MAP_FAILED)
			fail_errno("mmap shared");
		if (sigbus_guard())
			fail("SIGBUS reading record %u", i);
		memcpy(r, p + ((off_t)i * REC - base), REC);
		sigbus_unguard();
		munmap(p, len);
	}
}

static void shared_put(struct shared_open *so, uint32_t i, const struct record *r)
{
	if (rng_chance(&W.rng, 50)) {
		if (pwrite(so->fd, r, REC, (off_t)i * REC) != (ssize_t)REC)
			fail_errno("pwrite record");
	} else {
		off_t base = (off_t)i * REC / PAGE * PAGE;
		size_t len = (size_t)((off_t)i * REC - base) + REC;
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, so->fd, base);

		if (p == MAP_FAILED)
			fail_errno("mmap shared");
		if (sigbus_guard())
			fail("SIGBUS writing record %u", i);
		memcpy(p + ((off_t)i * REC - base), r, REC);
		sigbus_unguard();
		munmap(p, len);
	}
}

static void shared_rw(struct shared_open *so, int write)
{
	size_t nrec = shared_records(so);
	uint32_t i;
	struct record r;
	uint64_t v;

	if (nrec == 0)
		return;
	i = (uint32_t)rng_below(&W.rng, nrec);
	snprintf(W.cur, sizeof(W.cur), "%s record %u of shared.%d", write ? "write" : "read", i, so->k);
	if (lock_range(so->fd, write ? F_WRLCK : F_RDLCK, (off_t)i * REC, REC))
		fail_errno("lock record");
	shared_get(so, i, &r);
	v = check_record(&r, i, "shared");
	if (v < so->seen[i])
		fail("shared.%d record %u: version %llu, but %llu was seen here before (a lost write)",
		     so->k, i, (unsigned long long)v, (unsigned long long)so->seen[i]);
	so->seen[i] = v;
	if (write) {
		make_record(&r, v + 1, i);
		shared_put(so, i, &r);
		so->seen[i] = v + 1;
	}
	if (lock_range(so->fd, F_UNLCK, (off_t)i * REC, REC))
		fail_errno("unlock record");
}

static void shared_grow(struct shared_open *so)
{
	size_t nrec;

	snprintf(W.cur, sizeof(W.cur), "grow shared.%d", so->k);
	if (lock_range(so->fd, F_WRLCK, 0, 0))
		fail_errno("lock");
	nrec = shared_records(so) + 1 + (size_t)rng_below(&W.rng, 16);
	if (nrec <= SHARED_MAX_RECS && ftruncate(so->fd, (off_t)(nrec * REC)))
		fail_errno("ftruncate shared");
	if (lock_range(so->fd, F_UNLCK, 0, 0))
		fail_errno("unlock");
}

static void shared_namespace(void)
{
	char a[PATH_MAX], b[PATH_MAX];

	shared_path((int)rng_below(&W.rng, (uint64_t)W.nshared), a, sizeof(a));
	if (rng_chance(&W.rng, 50)) {
		snprintf(W.cur, sizeof(W.cur), "unlink %s", a);
		if (unlink(a) && errno != ENOENT)
			fail_errno("unlink shared");
	} else {
		shared_path((int)rng_below(&W.rng, (uint64_t)W.nshared), b, sizeof(b));
		snprintf(W.cur, sizeof(W.cur), "rename %s -> %s", a, b);
		if (rename(a, b) && errno != ENOENT)
			fail_errno("rename shared");
	}
}

static void shared_op(void)
{
	struct shared_open *so = &W.sh[rng_below(&W.rng, NSHARED_OPEN)];
	unsigned x = (unsigned)rng_below(&W.rng, 100);

	if (so->fd < 0) {
		shared_open(so);
		return;
	}
	if (x < 40)
		shared_rw(so, 1);
	else if (x < 85)
		shared_rw(so, 0);
	else if (x < 88)
		shared_grow(so);
	else if (x < 94)
		shared_namespace();
	else {
		close(so->fd);
		so->fd = -1;
	}
}

/* ---- main ------------------------------------------------------------------ */

static void unlink_all(void)
{
	for (int i = 0; i < W.ndirs * NPRIV; i++) {
		struct slot *s = &W.slots[i];

		snprintf(W.cur, sizeof(W.cur), "final check of %s", s->path);
		if (s->exists) {
			size_t got = 0;

			ensure_open(s);
			while (got < s->size) {
				ssize_t n = pread(s->fd, W.buf + got, s->size - got, (off_t)got);

				if (n <= 0)
					fail("final read: %s", n ? strerror(errno) : "short");
				got += (size_t)n;
			}
			verify_range(s, 0, W.buf, s->size, "final read");
			priv_unlink(s);
		} else if (access(s->path, F_OK) == 0) {
			fail("%s exists, but the model says it does not", s->path);
		}
	}
	for (int j = 0; j < NSHARED_OPEN; j++)
		if (W.sh[j].fd >= 0)
			close(W.sh[j].fd);
}

static void usage(void)
{
	fprintf(stderr, "usage: worker --id N --root DIR [--disk DIR] [--seconds S] [--seed N] "
			"[--shared K] [--state FILE] [--final]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "root", required_argument, NULL, 'r' },
		{ "disk", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "shared", required_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 'S' },
		{ "final", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	double deadline;
	int c;

	W.seconds = 5;
	W.nshared = 4;
	W.seed = (uint64_t)time(NULL);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': W.id = (int)parse_u64(optarg, "--id"); break;
		case 'r': W.dirs[0] = optarg; break;
		case 'd': W.dirs[1] = optarg; break;
		case 't': W.seconds = atof(optarg); break;
		case 's': W.seed = parse_u64(optarg, "--seed"); break;
		case 'k': W.nshared = (int)parse_u64(optarg, "--shared"); break;
		case 'S': W.state = optarg; break;
		case 'F': W.final = 1; break;
		default: usage();
		}
	}
	if (!W.dirs[0] || optind != argc)
		usage();
	umask(0);
	sigbus_install();
	W.ndirs = W.dirs[1] ? 2 : 1;
	W.rng.s = W.seed ^ ((uint64_t)W.id << 32);
	W.buf = xmalloc(PRIV_MAX + PAGE);
	for (int i = 0; i < W.ndirs * NPRIV; i++) {
		struct slot *s = &W.slots[i];

		s->dir = i / NPRIV;
		s->fd = -1;
		s->data = xmalloc(PRIV_MAX);
		W.before[i].data = xmalloc(PRIV_MAX);
		snprintf(s->path, sizeof(s->path), "%s/p%d.%d", W.dirs[s->dir], W.id, i % NPRIV);
		/* memcpy, not snprintf "%s": gcc -O1 (make asan) cannot tell
		 * that two slots of W do not overlap (-Wrestrict). */
		memcpy(W.before[i].path, s->path, sizeof(W.before[i].path));
	}
	for (int j = 0; j < NSHARED_OPEN; j++)
		W.sh[j].fd = -1;
	if (W.state)
		load_state();
	deadline = now_seconds() + W.seconds;
	while (!W.final && now_seconds() < deadline) {
		/* Crash mode keeps to private names: their model is what is checked. */
		if (W.state || W.nshared == 0 || rng_chance(&W.rng, 60))
			private_op();
		else
			shared_op();
		W.ops++;
	}
	if (W.final || !W.state)
		unlink_all();
	save_state();
	printf("worker %d: ops=%llu bytes=%llu records=%llu\n", W.id, (unsigned long long)W.ops,
	       (unsigned long long)W.bytes, (unsigned long long)W.records);
	return 0;
}
