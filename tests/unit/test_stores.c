/* stores: what a mount finds in shm_dir and in grafted directories when it
 * starts and after it unmounts, and what the limits let it take. Real
 * directories, no FUSE: shm_dir is a directory of the test's own under
 * /dev/shm, on-disk paths are under /tmp. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "store.h"
#include "stores.h"
#include "suites.h"
#include "unit.h"

/* Made once per TCase in the runner itself, so that everything in them is
 * removed even when a test fails; each test works in fresh directories
 * inside (shm_dir and disk_dir). */
static char shm_base[] = "/dev/shm/shmfs-unit-XXXXXX";
static char disk_base[] = "/tmp/shmfs-unit-XXXXXX";

static char shm_dir[PATH_MAX];
static char disk_dir[PATH_MAX];
static struct stores s;
static mode_t saved_umask;

static void bases_setup(void)
{
	make_temp_dir(shm_base, sizeof(shm_base), "/dev/shm/shmfs-unit-XXXXXX");
	make_temp_dir(disk_base, sizeof(disk_base), "/tmp/shmfs-unit-XXXXXX");
}

static void bases_teardown(void)
{
	remove_tree(shm_base);
	remove_tree(disk_base);
}

static void setup(void)
{
	/* As the daemon does: declared modes are given as they are. */
	saved_umask = umask(0);
	log_set_level(LOG_LEVEL_ERROR);
	snprintf(shm_dir, sizeof(shm_dir), "%s/t-XXXXXX", shm_base);
	snprintf(disk_dir, sizeof(disk_dir), "%s/t-XXXXXX", disk_base);
	ck_assert_ptr_nonnull(mkdtemp(shm_dir));
	ck_assert_ptr_nonnull(mkdtemp(disk_dir));
	config_init(&cfg);
}

static void teardown(void)
{
	config_free(&cfg);
	log_set_level(LOG_LEVEL_INFO);
	umask(saved_umask);
}

/* The path of rel in dir; a few at a time stay valid. */
static const char *at(const char *dir, const char *rel)
{
	static char bufs[8][PATH_MAX];
	static unsigned next;
	char *buf = bufs[next++ % 8];

	snprintf(buf, PATH_MAX, "%s/%s", dir, rel);
	return buf;
}

#define SHM(rel) at(shm_dir, rel)
#define DISK(rel) at(disk_dir, rel)

/* A fresh config from the text fmt makes, which continues a [shmfs] section
 * that already names shm_dir. */
static void configure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void configure(const char *fmt, ...)
{
	char text[4096];
	va_list ap;
	int n, rc;

	n = snprintf(text, sizeof(text), "[shmfs]\nshm_dir = %s\n", shm_dir);
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	cfg_reset();
	rc = parse_config(&cfg, text, "t.ini");
	ck_assert_msg(rc == 0, "config:\n%s\nerrors:\n%s", text, cfg.errors);
}

static void open_stores(void)
{
	ck_assert_int_eq(stores_open(&s, &cfg), 0);
}

static void make_file(const char *path, off_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(ftruncate(fd, size), 0);
	close(fd);
}

static void make_dir(const char *path)
{
	ck_assert_msg(mkdir(path, 0755) == 0, "%s: %s", path, strerror(errno));
}

static void make_link(const char *target, const char *path)
{
	ck_assert_msg(symlink(target, path) == 0, "%s: %s", path, strerror(errno));
}

/* The lifetime mark a root daemon trusts (the runner is root). */
static void mark(const char *path, const char *lifetime)
{
	ck_assert_msg(setxattr(path, STORE_TRUSTED_LIFETIME_XATTR, lifetime, strlen(lifetime), 0) == 0,
		      "%s: %s", path, strerror(errno));
}

/* A mark anyone with write access could put on the store directly. */
static void forge(const char *path, const char *lifetime)
{
	ck_assert_msg(setxattr(path, STORE_LIFETIME_XATTR, lifetime, strlen(lifetime), 0) == 0,
		      "%s: %s", path, strerror(errno));
}

/* Mark path as made by the mount of the store at dir with prefix, as
 * store_mark_made does for what the daemon makes. */
static void made_by(const char *path, const char *dir, const char *prefix)
{
	char token[2 * PATH_MAX];
	int n = snprintf(token, sizeof(token), "%s/%s", dir, prefix);

	ck_assert_msg(setxattr(path, STORE_TRUSTED_MOUNT_XATTR, token, (size_t)n, 0) == 0,
		      "%s: %s", path, strerror(errno));
}

/* Made by the root store's mount (prefix shmfs.). */
#define MADE(rel) made_by(SHM(rel), shm_dir, "shmfs.")

static int exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static struct stat stat_of(const char *path)
{
	struct stat sb;

	ck_assert_msg(lstat(path, &sb) == 0, "%s: %s", path, strerror(errno));
	return sb;
}

static int is_empty_dir(const char *path)
{
	DIR *dp = opendir(path);
	struct dirent *de;
	int entries = 0;

	ck_assert_msg(dp != NULL, "%s: %s", path, strerror(errno));
	while ((de = readdir(dp)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	closedir(dp);
	return entries == 0;
}

#define ck_assert_exists(path) ck_assert_msg(exists(path), "%s is gone", path)
#define ck_assert_gone(path) ck_assert_msg(!exists(path), "%s is still there", path)

static void write_at(const char *path, const char *text, off_t off)
{
	int fd = open(path, O_WRONLY);

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(pwrite(fd, text, strlen(text), off), (ssize_t)strlen(text));
	close(fd);
}

/* Whether path holds text at off. */
static int holds(const char *path, const char *text, off_t off)
{
	char buf[256];
	size_t len = strlen(text);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len && memcmp(buf, text, len) == 0;
}

/* Whether path holds len zero bytes at off. */
static int zeros(const char *path, size_t len, off_t off)
{
	char buf[256] = { 0 }, none[256] = { 0 };
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_uint_le(len, sizeof(buf));
	memset(buf, 'x', sizeof(buf));
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len && memcmp(buf, none, len) == 0;
}

/* ---- open: declared names ---- */

START_TEST(test_segment_created)
{
	struct stat sb;

	configure("[segment cam]\nsize = 64K\nmode = 0640\n");
	ck_assert_gone(SHM("shmfs.cam"));
	open_stores();
	sb = stat_of(SHM("shmfs.cam"));
	ck_assert(S_ISREG(sb.st_mode));
	ck_assert_int_eq(sb.st_size, 64 * KiB);
	ck_assert_uint_eq(sb.st_mode & 07777, 0640);
	/* A new segment reads as zeros. */
	ck_assert(zeros(SHM("shmfs.cam"), 256, 1000));
	stores_close(&s, 1);
	/* lifetime kernel: still there after unmount. */
	ck_assert_int_eq(stat_of(SHM("shmfs.cam")).st_size, 64 * KiB);
}
END_TEST

/* A restart with another declared size keeps what a program wrote, and the
 * size it had; the declared mode is applied. */
START_TEST(test_segment_keeps_data)
{
	struct stat sb;

	configure("[segment cam]\nsize = 64K\nmode = 0640\n");
	open_stores();
	write_at(SHM("shmfs.cam"), "frame 1", 4096);
	stores_close(&s, 1);

	configure("[segment cam]\nsize = 128K\nmode = 0600\n");
	open_stores();
	sb = stat_of(SHM("shmfs.cam"));
	ck_assert_int_eq(sb.st_size, 64 * KiB);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	ck_assert(holds(SHM("shmfs.cam"), "frame 1", 4096));
	stores_close(&s, 0);
}
END_TEST

START_TEST(test_segment_prefault)
{
	struct stat sb;

	configure("[segment hot]\nsize = 256K\nprefault = yes\n[segment cold]\nsize = 256K\n");
	open_stores();
	sb = stat_of(SHM("shmfs.hot"));
	ck_assert_int_eq(sb.st_size, 256 * KiB);
	ck_assert_uint_ge((uint64_t)sb.st_blocks * 512, 256 * KiB);
	/* Without prefault the pages come at first touch. */
	sb = stat_of(SHM("shmfs.cold"));
	ck_assert_int_eq(sb.st_size, 256 * KiB);
	ck_assert_uint_lt((uint64_t)sb.st_blocks * 512, 256 * KiB);
	stores_close(&s, 0);
}
END_TEST

/* The daemon runs as root; owners are then the declared ones. */
START_TEST(test_declared_owner)
{
	struct stat sb;

	skip_unless_root("chown to the declared owners needs root");
	configure("[segment seg]\nowner = 1234\ngroup = 5678\n"
		  "[dir d]\nowner = 1234\ngroup = 5678\n"
		  "[dir p]\npath = %s\nowner = 4321\n",
		  DISK("p"));
	open_stores();
	sb = stat_of(SHM("shmfs.seg"));
	ck_assert_uint_eq(sb.st_uid, 1234);
	ck_assert_uint_eq(sb.st_gid, 5678);
	sb = stat_of(SHM("shmfs.d"));
	ck_assert_uint_eq(sb.st_uid, 1234);
	ck_assert_uint_eq(sb.st_gid, 5678);
	sb = stat_of(DISK("p"));
	ck_assert_uint_eq(sb.st_uid, 4321);
	ck_assert_uint_eq(sb.st_gid, 0);
	stores_close(&s, 0);
}
END_TEST

/* stores_open fails on cfg, leaving nothing open. */
static void open_refused(void)
{
	ck_assert_int_eq(stores_open(&s, &cfg), -1);
	stores_close(&s, 0);
}

/* What another user planted at a declared name is refused, never taken
 * over, followed or swept. */
START_TEST(test_planted_names_refused)
{
	struct stat sb;

	skip_unless_root("trusted.* marks need root");
	make_dir(DISK("victim"));
	make_file(DISK("victim/precious"), 10);
	mark(DISK("victim/precious"), "process");
	made_by(DISK("victim/precious"), SHM("shmfs.p"), "");
	make_link(DISK("victim"), SHM("shmfs.p"));
	configure("[dir p]\nlifetime = process\n");
	open_refused();
	ck_assert_exists(DISK("victim/precious"));
	ck_assert_int_eq(unlink(SHM("shmfs.p")), 0);

	/* A directory, a segment of another user's. */
	make_dir(SHM("shmfs.d"));
	ck_assert_int_eq(chown(SHM("shmfs.d"), 61001, 61001), 0);
	configure("[dir d]\nmode = 0700\n");
	open_refused();
	ck_assert_uint_eq(stat_of(SHM("shmfs.d")).st_uid, 61001);
	make_file(SHM("shmfs.seg"), 0);
	ck_assert_int_eq(chown(SHM("shmfs.seg"), 61001, 61001), 0);
	configure("[segment seg]\nsize = 4K\nowner = 61002\nlifetime = mount\n");
	open_refused();
	sb = stat_of(SHM("shmfs.seg"));
	ck_assert_uint_eq(sb.st_uid, 61001);
	ck_assert_int_eq(sb.st_size, 0);
	/* The declared owner's own is theirs to give. */
	configure("[segment seg]\nsize = 4K\nowner = 61001\n");
	open_stores();
	stores_close(&s, 0);
	ck_assert_int_eq(unlink(SHM("shmfs.seg")), 0);

	/* A hard link to an object the daemon would take (root's). */
	make_file(SHM("roots"), 0);
	ck_assert_int_eq(link(SHM("roots"), SHM("shmfs.seg")), 0);
	configure("[segment seg]\nsize = 4K\nowner = 61001\n");
	open_refused();
	ck_assert_uint_eq(stat_of(SHM("roots")).st_uid, 0);
	ck_assert_int_eq(unlink(SHM("shmfs.seg")), 0);

	/* A FIFO or symlink at a placeholder or a segment: refused at once. */
	ck_assert_int_eq(mkfifo(SHM("shmfs.f"), 0666), 0);
	configure("[segment f]\nbackend = file\npath = %s\n", DISK("f.dat"));
	open_refused();
	make_link("/etc/passwd", SHM("shmfs.l"));
	configure("[segment l]\n");
	open_refused();
	ck_assert(S_ISLNK(stat_of(SHM("shmfs.l")).st_mode));
}
END_TEST

START_TEST(test_shm_dir_graft)
{
	struct stat sb;

	configure("[dir d]\n[dir private]\nmode = 0700\n");
	open_stores();
	sb = stat_of(SHM("shmfs.d"));
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 07777, 0755);
	sb = stat_of(SHM("shmfs.private"));
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 07777, 0700);
	stores_close(&s, 1);
	ck_assert_exists(SHM("shmfs.d"));
}
END_TEST

START_TEST(test_disk_dir_graft)
{
	struct graft *g;
	struct stat sb;

	configure("[dir p]\npath = %s\nmode = 0750\n", DISK("a/b/p"));
	open_stores();
	/* Made with its parents. */
	sb = stat_of(DISK("a/b/p"));
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 07777, 0750);
	/* The name is listed and taken in shm_dir. */
	ck_assert(S_ISDIR(stat_of(SHM("shmfs.p")).st_mode));
	g = stores_graft(&s, "p");
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_eq(g->store, &g->own);
	ck_assert_str_eq(g->store->path, DISK("a/b/p"));
	ck_assert_int_eq(g->store->backend, STORE_FILE);
	ck_assert_int_eq(g->store->lifetime, LIFETIME_DISK);
	stores_close(&s, 1);
	ck_assert_exists(DISK("a/b/p"));
}
END_TEST

START_TEST(test_file_segment)
{
	struct graft *g;
	struct stat sb;

	configure("[segment f]\nbackend = file\npath = %s\nsize = 8K\nmode = 0640\n", DISK("f.dat"));
	open_stores();
	sb = stat_of(DISK("f.dat"));
	ck_assert(S_ISREG(sb.st_mode));
	ck_assert_int_eq(sb.st_size, 8 * KiB);
	ck_assert_uint_eq(sb.st_mode & 07777, 0640);
	/* An empty placeholder keeps the name in shm_dir. */
	sb = stat_of(SHM("shmfs.f"));
	ck_assert(S_ISREG(sb.st_mode));
	ck_assert_int_eq(sb.st_size, 0);
	g = stores_graft(&s, "f");
	ck_assert_ptr_nonnull(g);
	ck_assert_str_eq(g->store->path, disk_dir);
	ck_assert_str_eq(g->leaf, "f.dat");
	write_at(DISK("f.dat"), "kept", 0);
	stores_close(&s, 1);
	/* lifetime disk: kept, with its data. */
	ck_assert(holds(DISK("f.dat"), "kept", 0));
}
END_TEST

START_TEST(test_stores_graft)
{
	struct graft *g;

	configure("[segment cam]\nsize = 4K\n[dir d]\n[dir p]\npath = %s\n", DISK("p"));
	open_stores();
	ck_assert_uint_eq(s.ngrafts, 3);
	g = stores_graft(&s, "cam");
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_eq(g->decl, config_find_graft(&cfg, "cam"));
	ck_assert_str_eq(g->entry, "shmfs.cam");
	ck_assert_str_eq(g->leaf, "shmfs.cam");
	ck_assert_ptr_eq(g->store, &s.root);
	g = stores_graft(&s, "d");
	ck_assert_ptr_nonnull(g);
	ck_assert_str_eq(g->entry, "shmfs.d");
	ck_assert_ptr_eq(g->store, &g->own);
	ck_assert_ptr_nonnull(stores_graft(&s, "p"));
	/* Names are the mount's, not the backing's; only declared ones. */
	ck_assert_ptr_null(stores_graft(&s, "shmfs.cam"));
	ck_assert_ptr_null(stores_graft(&s, "nope"));
	ck_assert_ptr_null(stores_graft(&s, ""));
	stores_close(&s, 0);
	ck_assert_ptr_null(s.grafts);
	ck_assert_uint_eq(s.ngrafts, 0);
}
END_TEST

/* shm_dir gone between checking the config and mounting: an error, and a
 * close that is safe. */
START_TEST(test_open_missing_shm_dir)
{
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
	int rc;

	configure("[segment cam]\n");
	ck_assert_int_eq(rmdir(shm_dir), 0);
	/* Logged as an error, which this test need not show. */
	ck_assert(saved >= 0 && null >= 0 && dup2(null, STDERR_FILENO) == STDERR_FILENO);
	rc = stores_open(&s, &cfg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	ck_assert_int_eq(rc, -1);
	stores_close(&s, 1);
	ck_assert_gone(shm_dir);
}
END_TEST

/* ---- lifetimes ---- */

/* lifetime = mount: what the mount made is gone at unmount, and at the next
 * start when a crash skipped the unmount. */
START_TEST(test_root_mount_lifetime)
{
	skip_unless_root("trusted.* marks need root");
	configure("lifetime = mount\n[segment keep]\nsize = 4K\n[dir d]\n[dir p]\npath = %s\n",
		  DISK("p"));
	/* Left over by a crash. */
	make_file(SHM("shmfs.stale"), 100);
	MADE("shmfs.stale");
	make_dir(SHM("shmfs.staledir"));
	MADE("shmfs.staledir");
	make_file(SHM("shmfs.staledir/x"), 100);
	MADE("shmfs.staledir/x");
	/* Not ours: no prefix, or not made by this mount. */
	make_file(SHM("other"), 100);
	make_dir(SHM("otherdir"));
	make_file(SHM("otherdir/x"), 100);
	make_file(SHM("shmfs.planted"), 100);
	make_file(SHM("shmfs.forged"), 100);
	forge(SHM("shmfs.forged"), "mount");
	ck_assert_int_eq(setxattr(SHM("shmfs.forged"), STORE_USER_MOUNT_XATTR, "x", 1, 0), 0);
	make_file(SHM("shmfs.other-mount"), 100);
	made_by(SHM("shmfs.other-mount"), shm_dir, "shmfs.other-");

	open_stores();
	ck_assert_gone(SHM("shmfs.stale"));
	ck_assert_gone(SHM("shmfs.staledir"));
	ck_assert_exists(SHM("other"));
	ck_assert_exists(SHM("otherdir/x"));
	ck_assert_exists(SHM("shmfs.planted"));
	ck_assert_exists(SHM("shmfs.forged"));
	ck_assert_exists(SHM("shmfs.other-mount"));
	make_file(SHM("shmfs.a"), 100);
	MADE("shmfs.a");
	make_dir(SHM("shmfs.sub"));
	MADE("shmfs.sub");
	make_dir(SHM("shmfs.sub/deeper"));
	MADE("shmfs.sub/deeper");
	make_file(SHM("shmfs.sub/deeper/x"), 100);
	MADE("shmfs.sub/deeper/x");
	make_file(SHM("shmfs.d/inside"), 100);
	write_at(SHM("shmfs.keep"), "declared", 0);

	/* The daemon stopped without unmounting: nothing is removed... */
	stores_close(&s, 0);
	ck_assert_exists(SHM("shmfs.a"));
	ck_assert_exists(SHM("shmfs.sub/deeper/x"));
	/* ...until it starts again. */
	open_stores();
	ck_assert_gone(SHM("shmfs.a"));
	ck_assert_gone(SHM("shmfs.sub"));
	ck_assert(holds(SHM("shmfs.keep"), "declared", 0));
	ck_assert_exists(SHM("shmfs.d/inside"));

	make_file(SHM("shmfs.b"), 100);
	MADE("shmfs.b");
	make_dir(SHM("shmfs.sub2"));
	MADE("shmfs.sub2");
	make_file(SHM("shmfs.sub2/y"), 100);
	MADE("shmfs.sub2/y");
	/* A directory the mount made keeps what others put in it. */
	make_dir(SHM("shmfs.sub3"));
	MADE("shmfs.sub3");
	make_file(SHM("shmfs.sub3/theirs"), 100);
	stores_close(&s, 1);
	ck_assert_gone(SHM("shmfs.b"));
	ck_assert_gone(SHM("shmfs.sub2"));
	ck_assert_exists(SHM("shmfs.sub3/theirs"));
	ck_assert_exists(SHM("shmfs.planted"));
	/* Declared names have their own lifetimes (kernel, disk). */
	ck_assert(holds(SHM("shmfs.keep"), "declared", 0));
	ck_assert_int_eq(stat_of(SHM("shmfs.keep")).st_size, 4 * KiB);
	ck_assert_exists(SHM("shmfs.d/inside"));
	ck_assert_exists(SHM("shmfs.p"));
	ck_assert_exists(DISK("p"));
	ck_assert_exists(SHM("other"));
	ck_assert_exists(SHM("otherdir/x"));
}
END_TEST

START_TEST(test_root_kernel_lifetime)
{
	configure("lifetime = kernel\n");
	make_file(SHM("shmfs.a"), 100);
	open_stores();
	make_dir(SHM("shmfs.sub"));
	make_file(SHM("shmfs.sub/x"), 100);
	stores_close(&s, 1);
	open_stores();
	stores_close(&s, 1);
	ck_assert_exists(SHM("shmfs.a"));
	ck_assert_exists(SHM("shmfs.sub/x"));
}
END_TEST

/* A declared segment with lifetime = mount starts afresh at every mount. */
START_TEST(test_segment_mount_lifetime)
{
	configure("[segment m]\nsize = 4K\nlifetime = mount\n"
		  "[segment f]\nbackend = file\npath = %s\nsize = 4K\nlifetime = mount\n",
		  DISK("f.dat"));
	open_stores();
	write_at(SHM("shmfs.m"), "old", 0);
	write_at(DISK("f.dat"), "old", 0);
	stores_close(&s, 0);
	ck_assert(holds(SHM("shmfs.m"), "old", 0));

	open_stores();
	ck_assert_int_eq(stat_of(SHM("shmfs.m")).st_size, 4 * KiB);
	ck_assert(zeros(SHM("shmfs.m"), 3, 0));
	ck_assert_int_eq(stat_of(DISK("f.dat")).st_size, 4 * KiB);
	ck_assert(zeros(DISK("f.dat"), 3, 0));
	stores_close(&s, 1);
	ck_assert_gone(SHM("shmfs.m"));
	ck_assert_gone(DISK("f.dat"));
}
END_TEST

/* A [dir] with lifetime process or mount holds nothing a previous run left. */
START_TEST(test_dir_leftovers_removed)
{
	skip_unless_root("trusted.* marks need root");
	configure("[dir p]\nlifetime = process\n"
		  "[dir m]\npath = %s\nlifetime = mount\n"
		  "[dir k]\n"
		  "[dir disk]\npath = %s\n",
		  DISK("m"), DISK("disk"));
	make_dir(SHM("shmfs.p"));
	make_file(SHM("shmfs.p/x"), 100);
	made_by(SHM("shmfs.p/x"), SHM("shmfs.p"), "");
	make_dir(SHM("shmfs.p/sub"));
	made_by(SHM("shmfs.p/sub"), SHM("shmfs.p"), "");
	make_file(SHM("shmfs.p/sub/y"), 100);
	made_by(SHM("shmfs.p/sub/y"), SHM("shmfs.p"), "");
	make_dir(DISK("m"));
	make_file(DISK("m/x"), 100);
	made_by(DISK("m/x"), DISK("m"), "");
	make_dir(DISK("m/sub"));
	made_by(DISK("m/sub"), DISK("m"), "");
	make_file(DISK("m/sub/y"), 100);
	made_by(DISK("m/sub/y"), DISK("m"), "");
	/* Put there directly: not the mount's to remove. */
	make_file(DISK("m/planted"), 100);
	make_dir(SHM("shmfs.k"));
	make_file(SHM("shmfs.k/x"), 100);
	make_dir(DISK("disk"));
	make_file(DISK("disk/x"), 100);

	open_stores();
	ck_assert(is_empty_dir(SHM("shmfs.p")));
	ck_assert_gone(DISK("m/x"));
	ck_assert_gone(DISK("m/sub"));
	ck_assert_exists(DISK("m/planted"));
	ck_assert_int_eq(unlink(DISK("m/planted")), 0);
	ck_assert_exists(SHM("shmfs.k/x"));
	ck_assert_exists(DISK("disk/x"));

	make_file(DISK("m/z"), 100);
	made_by(DISK("m/z"), DISK("m"), "");
	make_dir(DISK("m/zz"));
	made_by(DISK("m/zz"), DISK("m"), "");
	stores_close(&s, 1);
	/* Emptied at unmount, and still there. */
	ck_assert(is_empty_dir(DISK("m")));
	ck_assert_exists(SHM("shmfs.m"));
	ck_assert_exists(SHM("shmfs.k/x"));
	ck_assert_exists(DISK("disk/x"));
}
END_TEST

/* Segments marked lifetime = process whose users are gone (the daemon
 * crashed) are removed at the next start; nothing else is. */
START_TEST(test_process_marks_swept)
{
	skip_unless_root("trusted.* marks need root");
	configure("[segment decl]\n[dir k]\n[dir disk]\npath = %s\n", DISK("disk"));
	make_file(SHM("shmfs.marked"), 100);
	mark(SHM("shmfs.marked"), "process");
	make_file(SHM("shmfs.plain"), 100);
	make_file(SHM("shmfs.kernel"), 100);
	mark(SHM("shmfs.kernel"), "kernel");
	make_file(SHM("shmfs.bogus"), 100);
	mark(SHM("shmfs.bogus"), "bogus");
	/* Written on the store directly: a root daemon does not trust it. */
	make_file(SHM("shmfs.forged"), 100);
	forge(SHM("shmfs.forged"), "process");
	make_dir(SHM("shmfs.sub"));
	make_file(SHM("shmfs.sub/marked"), 100);
	mark(SHM("shmfs.sub/marked"), "process");
	make_file(SHM("shmfs.sub/plain"), 100);
	/* Other programs' objects are not ours to remove. */
	make_file(SHM("other"), 100);
	mark(SHM("other"), "process");
	/* Declared segments are pinned. */
	make_file(SHM("shmfs.decl"), 0);
	mark(SHM("shmfs.decl"), "process");
	/* In grafted dirs, on shm and on disk. */
	make_dir(SHM("shmfs.k"));
	make_file(SHM("shmfs.k/marked"), 100);
	mark(SHM("shmfs.k/marked"), "process");
	make_file(SHM("shmfs.k/plain"), 100);
	make_dir(DISK("disk"));
	make_file(DISK("disk/marked"), 100);
	mark(DISK("disk/marked"), "process");
	make_file(DISK("disk/plain"), 100);

	open_stores();
	ck_assert_gone(SHM("shmfs.marked"));
	ck_assert_gone(SHM("shmfs.sub/marked"));
	ck_assert_gone(SHM("shmfs.k/marked"));
	ck_assert_gone(DISK("disk/marked"));
	ck_assert_exists(SHM("shmfs.plain"));
	ck_assert_exists(SHM("shmfs.kernel"));
	ck_assert_exists(SHM("shmfs.bogus"));
	ck_assert_exists(SHM("shmfs.forged"));
	ck_assert_exists(SHM("shmfs.sub/plain"));
	ck_assert_exists(SHM("other"));
	ck_assert_exists(SHM("shmfs.decl"));
	ck_assert_exists(SHM("shmfs.k/plain"));
	ck_assert_exists(DISK("disk/plain"));
	stores_close(&s, 1);
	ck_assert_exists(SHM("shmfs.plain"));
}
END_TEST

/* A symlink in shm_dir (anyone may write /dev/shm) is neither followed nor
 * removed, whatever the lifetimes. */
START_TEST(test_symlinks_not_followed)
{
	skip_unless_root("trusted.* marks need root");
	configure("lifetime = mount\n[dir m]\npath = %s\nlifetime = mount\n", DISK("m"));
	make_dir(DISK("outside"));
	make_file(DISK("outside/victim"), 100);
	mark(DISK("outside/victim"), "process");
	made_by(DISK("outside/victim"), shm_dir, "shmfs.");
	make_file(DISK("victim"), 100);
	mark(DISK("victim"), "process");
	made_by(DISK("victim"), shm_dir, "shmfs.");
	make_link(DISK("outside"), SHM("shmfs.evil"));
	make_link(DISK("victim"), SHM("shmfs.evilf"));
	make_dir(SHM("shmfs.sub"));
	MADE("shmfs.sub");
	make_link(DISK("outside"), SHM("shmfs.sub/evil"));
	make_dir(DISK("m"));
	make_link(DISK("outside"), DISK("m/evil"));

	/* A mount-lifetime store loses only what the mount made: symlinks
	 * that others planted stay (so does the made directory that holds
	 * one), and none is followed. */
	open_stores();
	ck_assert(exists(SHM("shmfs.evil")));
	ck_assert(exists(SHM("shmfs.evilf")));
	ck_assert(exists(SHM("shmfs.sub/evil")));
	ck_assert(exists(DISK("m/evil")));
	ck_assert_exists(DISK("outside/victim"));
	ck_assert_exists(DISK("victim"));
	stores_close(&s, 1);
	ck_assert_exists(DISK("outside/victim"));
	ck_assert_exists(DISK("victim"));

	/* Without lifetime mount, only process marks are swept, and a
	 * symlink to a marked file is neither followed nor removed. */
	configure("[dir m]\npath = %s\n", DISK("m"));
	open_stores();
	stores_close(&s, 1);
	ck_assert_exists(DISK("outside/victim"));
	ck_assert_exists(DISK("victim"));
	ck_assert(S_ISLNK(stat_of(SHM("shmfs.evilf")).st_mode));
}
END_TEST

/* ---- usage ---- */

START_TEST(test_usage_counted_at_open)
{
	configure("max_segments = 100\nmax_total_size = 1M\n"
		  "[segment decl]\nsize = 4K\n"
		  "[dir d]\n"
		  "[dir p]\npath = %s\n"
		  "[segment f]\nbackend = file\npath = %s\nsize = 8K\n",
		  DISK("p"), DISK("f.dat"));
	make_file(SHM("shmfs.a"), 1000);
	make_dir(SHM("shmfs.sub"));
	make_file(SHM("shmfs.sub/b"), 2000);
	make_file(SHM("other"), 5000);
	make_dir(SHM("shmfs.d"));
	make_file(SHM("shmfs.d/c"), 300);
	make_dir(DISK("p"));
	make_file(DISK("p/e"), 50);
	make_file(DISK("unrelated"), 7000);

	open_stores();
	/* a, b, decl, c, e, f; not other, nor placeholders, nor directories. */
	ck_assert_uint_eq(s.limits.usage.segments, 6);
	ck_assert_uint_eq(s.limits.usage.bytes, 1000 + 2000 + 4096 + 300 + 50 + 8192);
	ck_assert_uint_eq(s.limits.max_segments, 100);
	ck_assert_uint_eq(s.limits.max_total_size, 1024 * KiB);
	stores_close(&s, 0);
}
END_TEST

/* A change of usage as the daemon's operations make it: new segments, then
 * a growth (or, for negative bytes, a truncate that gives back). */
static int charge(int64_t segments, int64_t bytes)
{
	struct limits_charge c;
	int rc = 0;

	for (int64_t i = 0; !rc && i < segments; i++)
		rc = limits_add_segment(&s.limits, &c);
	if (!rc && bytes > 0)
		rc = limits_resize(&s.limits, 0, (uint64_t)bytes, 0, &c);
	if (!rc && bytes < 0)
		rc = limits_resize(&s.limits, (uint64_t)-bytes, 0, 1, &c);
	return rc;
}

START_TEST(test_charge_segments)
{
	configure("max_segments = 3\n");
	make_file(SHM("shmfs.a"), 10);
	make_file(SHM("shmfs.b"), 10);
	open_stores();
	ck_assert_uint_eq(s.limits.usage.segments, 2);
	/* The third fits exactly. */
	ck_assert_int_eq(charge(1, 0), 0);
	make_file(SHM("shmfs.c"), 10);
	ck_assert_uint_eq(s.limits.usage.segments, 3);
	ck_assert_int_eq(charge(1, 0), -ENOSPC);
	ck_assert_uint_eq(s.limits.usage.segments, 3);
	/* Bytes have no limit here. */
	ck_assert_int_eq(charge(0, 1 << 30), 0);
	/* Removing one makes room for one. */
	ck_assert_int_eq(unlink(SHM("shmfs.c")), 0);
	limits_release(&s.limits, 1, 0);
	ck_assert_uint_eq(s.limits.usage.segments, 2);
	ck_assert_int_eq(charge(1, 0), 0);
	ck_assert_uint_eq(s.limits.usage.segments, 3);
	stores_close(&s, 0);
}
END_TEST

START_TEST(test_charge_bytes)
{
	configure("max_total_size = 64K\n");
	make_file(SHM("shmfs.a"), 60 * KiB);
	open_stores();
	ck_assert_uint_eq(s.limits.usage.bytes, 60 * KiB);
	ck_assert_int_eq(charge(0, 4 * KiB + 1), -ENOSPC);
	ck_assert_uint_eq(s.limits.usage.bytes, 60 * KiB);
	/* Exactly up to the limit. */
	ck_assert_int_eq(charge(1, 4 * KiB), 0);
	make_file(SHM("shmfs.b"), 4 * KiB);
	ck_assert_uint_eq(s.limits.usage.bytes, 64 * KiB);
	ck_assert_uint_eq(s.limits.usage.segments, 2);
	ck_assert_int_eq(charge(0, 1), -ENOSPC);
	/* Shrinking is always allowed. */
	ck_assert_int_eq(charge(0, -(int64_t)KiB), 0);
	ck_assert_uint_eq(s.limits.usage.bytes, 63 * KiB);
	/* What is given back can be taken again. */
	limits_release(&s.limits, 1, 4 * KiB);
	ck_assert_uint_eq(s.limits.usage.bytes, 59 * KiB);
	ck_assert_uint_eq(s.limits.usage.segments, 1);
	ck_assert_int_eq(charge(0, 5 * KiB), 0);
	ck_assert_uint_eq(s.limits.usage.bytes, 64 * KiB);
	stores_close(&s, 0);
}
END_TEST

/* The count drifts (other programs, passthrough writes): a charge the stale
 * count would refuse is taken when a fresh count allows it. */
START_TEST(test_charge_recounts)
{
	configure("max_segments = 2\nmax_total_size = 64K\n");
	make_file(SHM("shmfs.a"), 32 * KiB);
	make_file(SHM("shmfs.b"), 32 * KiB);
	open_stores();
	ck_assert_uint_eq(s.limits.usage.segments, 2);
	ck_assert_uint_eq(s.limits.usage.bytes, 64 * KiB);
	/* Behind the daemon's back. */
	make_file(SHM("shmfs.c"), 32 * KiB);
	ck_assert_int_eq(unlink(SHM("shmfs.a")), 0);
	ck_assert_int_eq(unlink(SHM("shmfs.b")), 0);
	ck_assert_int_eq(unlink(SHM("shmfs.c")), 0);
	ck_assert_uint_eq(s.limits.usage.segments, 2);

	ck_assert_int_eq(charge(1, 16 * KiB), 0);
	ck_assert_uint_eq(s.limits.usage.segments, 1);
	ck_assert_uint_eq(s.limits.usage.bytes, 16 * KiB);
	/* A fresh count that confirms the limit refuses. */
	make_file(SHM("shmfs.x"), 32 * KiB);
	make_file(SHM("shmfs.y"), 32 * KiB);
	ck_assert_int_eq(charge(0, 48 * KiB + 1), -ENOSPC);
	ck_assert_uint_eq(s.limits.usage.segments, 2);
	ck_assert_uint_eq(s.limits.usage.bytes, 64 * KiB);
	stores_close(&s, 0);
}
END_TEST

START_TEST(test_recount)
{
	configure("max_segments = 100\n[dir d]\n[dir p]\npath = %s\n", DISK("p"));
	open_stores();
	ck_assert_uint_eq(s.limits.usage.segments, 0);
	ck_assert_uint_eq(s.limits.usage.bytes, 0);
	make_file(SHM("shmfs.a"), 1);
	make_dir(SHM("shmfs.sub"));
	make_file(SHM("shmfs.sub/b"), 20);
	make_file(SHM("shmfs.d/c"), 300);
	make_file(DISK("p/e"), 4000);
	make_file(SHM("other"), 50000);
	ck_assert_uint_eq(s.limits.usage.segments, 0);
	limits_recount(&s.limits);
	ck_assert_uint_eq(s.limits.usage.segments, 4);
	ck_assert_uint_eq(s.limits.usage.bytes, 4321);
	ck_assert_int_eq(unlink(SHM("shmfs.sub/b")), 0);
	limits_recount(&s.limits);
	ck_assert_uint_eq(s.limits.usage.segments, 3);
	ck_assert_uint_eq(s.limits.usage.bytes, 4301);
	/* A segment with three names counts once; symlinks and FIFOs not at all. */
	ck_assert_int_eq(link(SHM("shmfs.a"), SHM("shmfs.a2")), 0);
	ck_assert_int_eq(link(SHM("shmfs.a"), SHM("shmfs.sub/a3")), 0);
	make_link("shmfs.a", SHM("shmfs.l"));
	ck_assert_int_eq(mkfifo(SHM("shmfs.f"), 0600), 0);
	limits_recount(&s.limits);
	ck_assert_uint_eq(s.limits.usage.segments, 3);
	ck_assert_uint_eq(s.limits.usage.bytes, 4301);
	stores_close(&s, 0);
}
END_TEST

START_TEST(test_no_limits_no_count)
{
	configure("max_segment_size = 0\n");
	make_file(SHM("shmfs.a"), 100);
	open_stores();
	ck_assert(!limits_active(&s.limits));
	ck_assert_uint_eq(s.limits.usage.segments, 0);
	ck_assert_int_eq(charge(1000, 1 << 30), 0);
	stores_close(&s, 0);
}
END_TEST

/* What statfs and user.shmfs.limits report is recounted when the count is
 * older than a second: growth behind the daemon's back shows. */
START_TEST(test_usage_is_fresh)
{
	struct usage u;
	uint64_t walks;

	configure("max_total_size = 16M\n");
	make_file(SHM("shmfs.a"), 4 * KiB);
	open_stores();
	/* Grown behind the daemon's back (a passthrough write). */
	make_file(SHM("shmfs.b"), 20 * MiB);
	walks = s.limits.recounts;
	limits_usage(&s.limits, &u);
	ck_assert_uint_eq(u.bytes, 4 * KiB); /* counted at open, just now */
	ck_assert_uint_eq(s.limits.recounts, walks);
	s.limits.counted_at -= LIMITS_FRESH_NS; /* a second later */
	limits_usage(&s.limits, &u);
	ck_assert_uint_eq(u.bytes, 20 * MiB + 4 * KiB);
	ck_assert_uint_eq(u.segments, 2);
	ck_assert_uint_eq(s.limits.recounts, walks + 1);
	/* ... and the store past its limit takes no new segment. */
	ck_assert_int_eq(charge(1, 0), -ENOSPC);
	/* Growth noted without asking (the last release of a passthrough file). */
	limits_note(&s.limits, MiB);
	ck_assert_uint_eq(s.limits.usage.bytes, 21 * MiB + 4 * KiB);
	stores_close(&s, 0);
}
END_TEST

/* ---- walk: what lifetimes and counts see ---- */

struct visits {
	char names[32][NAME_MAX + 1];
	struct stat sb[32];
	int n;
	char skipped[32][NAME_MAX + 1];
	int nskipped;
	int located; /* every (dirfd, name) reached what sb says */
};

static void record(int dirfd, const char *name, const struct stat *sb, void *arg)
{
	struct visits *v = arg;
	struct stat again;

	if (fstatat(dirfd, name, &again, AT_SYMLINK_NOFOLLOW) || again.st_ino != sb->st_ino ||
	    again.st_dev != sb->st_dev)
		v->located = 0;
	if (v->n < 32) {
		snprintf(v->names[v->n], sizeof(v->names[0]), "%s", name);
		v->sb[v->n] = *sb;
	}
	v->n++;
}

static int skip_d(const char *name, void *arg)
{
	struct visits *v = arg;

	if (v->nskipped < 32)
		snprintf(v->skipped[v->nskipped], sizeof(v->skipped[0]), "%s", name);
	v->nskipped++;
	return strcmp(name, "d") == 0;
}

/* The place of name among the visits, or -1. */
static int visited(const struct visits *v, const char *name)
{
	for (int i = 0; i < v->n && i < 32; i++)
		if (strcmp(v->names[i], name) == 0)
			return i;
	return -1;
}

static void make_tree(void)
{
	make_file(SHM("shmfs.a"), 123);
	make_dir(SHM("shmfs.d"));
	make_file(SHM("shmfs.d/x"), 1);
	make_dir(SHM("shmfs.d/sub"));
	make_file(SHM("shmfs.d/sub/y"), 1);
	make_link("..", SHM("shmfs.d/sub/up"));
	ck_assert_int_eq(mkfifo(SHM("shmfs.d/fifo"), 0600), 0);
	make_file(SHM("other"), 1);
	make_dir(SHM("plain"));
	make_file(SHM("plain/z"), 1);
	make_link("shmfs.a", SHM("shmfs.link"));
	make_link(shm_base, SHM("shmfs.out"));
	ck_assert_int_eq(mkfifo(SHM("shmfs.fifo"), 0600), 0);
	make_file(SHM("shmfs."), 1);
}

START_TEST(test_walk)
{
	struct visits v = { .located = 1 };
	struct store st;

	make_tree();
	ck_assert_int_eq(store_open(&st, shm_dir, "shmfs.", STORE_SHM, LIFETIME_KERNEL), 0);
	store_walk(&st, NULL, NULL, record, &v);
	store_close(&st);
	/* Every type is visited; symlinks and FIFOs as themselves. */
	ck_assert_int_eq(v.n, 10);
	ck_assert(S_ISLNK(v.sb[visited(&v, "shmfs.out")].st_mode));
	ck_assert(S_ISLNK(v.sb[visited(&v, "up")].st_mode));
	ck_assert(S_ISFIFO(v.sb[visited(&v, "shmfs.fifo")].st_mode));
	ck_assert_int_lt(visited(&v, "fifo"), visited(&v, "shmfs.d"));
	ck_assert_int_ge(visited(&v, "shmfs.a"), 0);
	ck_assert_int_ge(visited(&v, "x"), 0);
	ck_assert_int_ge(visited(&v, "y"), 0);
	/* Children before their directory. */
	ck_assert_int_lt(visited(&v, "y"), visited(&v, "sub"));
	ck_assert_int_lt(visited(&v, "sub"), visited(&v, "shmfs.d"));
	ck_assert_int_lt(visited(&v, "x"), visited(&v, "shmfs.d"));
	ck_assert_int_eq(v.sb[visited(&v, "shmfs.a")].st_size, 123);
	ck_assert(S_ISDIR(v.sb[visited(&v, "shmfs.d")].st_mode));
	ck_assert(v.located);
}
END_TEST

/* skip sees the names the mount shows, at the top only. */
START_TEST(test_walk_skip)
{
	struct visits v = { .located = 1 };
	struct store st;

	make_tree();
	ck_assert_int_eq(store_open(&st, shm_dir, "shmfs.", STORE_SHM, LIFETIME_KERNEL), 0);
	store_walk(&st, skip_d, &v, record, &v);
	store_close(&st);
	ck_assert_int_eq(v.n, 4);
	ck_assert_int_ge(visited(&v, "shmfs.a"), 0);
	ck_assert_int_ge(visited(&v, "shmfs.link"), 0);
	ck_assert_int_lt(visited(&v, "x"), 0);
	ck_assert_int_ge(v.nskipped, 2);
	for (int i = 0; i < v.nskipped && i < 32; i++)
		ck_assert_msg(strncmp(v.skipped[i], "shmfs.", 6) != 0 &&
				      strcmp(v.skipped[i], "x") != 0 &&
				      strcmp(v.skipped[i], "other") != 0,
			      "skip was asked about '%s'", v.skipped[i]);
}
END_TEST

/* Below the prefix rule: a store with no prefix walks every name. */
START_TEST(test_walk_no_prefix)
{
	struct visits v = { .located = 1 };
	struct store st;

	make_file(SHM("a"), 1);
	make_dir(SHM("d"));
	make_file(SHM("d/b"), 1);
	ck_assert_int_eq(store_open(&st, shm_dir, "", STORE_FILE, LIFETIME_DISK), 0);
	store_walk(&st, NULL, NULL, record, &v);
	store_close(&st);
	ck_assert_int_eq(v.n, 3);
	ck_assert_int_lt(visited(&v, "b"), visited(&v, "d"));
	ck_assert_int_ge(visited(&v, "a"), 0);
}
END_TEST

/* A tree deeper than the walk's budget: walked down to the budget, with
 * one fd per level, no recursion; the rest left out. */
static void visit_count_depth(int dirfd, const char *name, const struct stat *sb, void *arg)
{
	int *n = arg;

	(void)dirfd;
	(void)name;
	(void)sb;
	(*n)++;
}

START_TEST(test_walk_deep)
{
	const int levels = STORE_WALK_MAX_DEPTH + 50;
	struct store st;
	int fd, n = 0;

	fd = open(shm_dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(mkdirat(fd, "shmfs.deep", 0755), 0);
	for (int i = 0; i < levels; i++) {
		int next = openat(fd, i ? "d" : "shmfs.deep", O_RDONLY | O_DIRECTORY);

		ck_assert_int_ge(next, 0);
		close(fd);
		fd = next;
		ck_assert_int_eq(mkdirat(fd, "d", 0755), 0);
	}
	close(fd);
	ck_assert_int_eq(store_open(&st, shm_dir, "shmfs.", STORE_SHM, LIFETIME_KERNEL), 0);
	log_set_level(LOG_LEVEL_ERROR);
	ck_assert_int_eq(store_walk(&st, NULL, NULL, visit_count_depth, &n), -E2BIG);
	store_close(&st);
	/* shmfs.deep is level 1: levels 1..MAX are entered and visited. */
	ck_assert_int_eq(n, STORE_WALK_MAX_DEPTH);
}
END_TEST

/* Marks: the daemon's, in the trusted namespace when it is root. */
START_TEST(test_marks)
{
	struct store st, other;
	char value[64];
	int fd;

	skip_unless_root("a root daemon's marks (trusted.*) need root");
	make_file(SHM("shmfs.f"), 1);
	ck_assert_int_eq(store_open(&st, shm_dir, "shmfs.", STORE_SHM, LIFETIME_MOUNT), 0);
	ck_assert_int_eq(store_open(&other, shm_dir, "shmfs.x", STORE_SHM, LIFETIME_MOUNT), 0);
	fd = openat(st.dirfd, "shmfs.f", O_PATH | O_NOFOLLOW);
	ck_assert_int_ge(fd, 0);
	ck_assert(!store_made_here(&st, fd));
	ck_assert_int_eq(store_mark_made(&st, fd), 0);
	ck_assert(store_made_here(&st, fd));
	/* Another mount of the same directory, with an overlapping prefix. */
	ck_assert(!store_made_here(&other, fd));
	ck_assert_int_lt(getxattr(SHM("shmfs.f"), STORE_USER_MOUNT_XATTR, value, sizeof(value)), 0);

	ck_assert_int_eq(store_set_lifetime(&st, fd, LIFETIME_PROCESS), 0);
	ck_assert_int_eq(getxattr(SHM("shmfs.f"), STORE_TRUSTED_LIFETIME_XATTR, value,
				  sizeof(value)), 7);
	ck_assert_int_lt(getxattr(SHM("shmfs.f"), STORE_LIFETIME_XATTR, value, sizeof(value)), 0);
	ck_assert_int_eq(store_lifetime_of(&st, fd), LIFETIME_PROCESS);
	/* The store's own lifetime: no mark at all. */
	ck_assert_int_eq(store_set_lifetime(&st, fd, LIFETIME_MOUNT), 0);
	ck_assert_int_lt(getxattr(SHM("shmfs.f"), STORE_TRUSTED_LIFETIME_XATTR, value,
				  sizeof(value)), 0);
	ck_assert_int_eq(store_set_lifetime(&st, fd, LIFETIME_MOUNT), 0);
	close(fd);

	/* Stores whose lifetime removes nothing mark nothing. */
	other.lifetime = LIFETIME_KERNEL;
	ck_assert_int_eq(store_mark_made_at(&other, other.dirfd, "shmfs.f"), 0);
	ck_assert(getxattr(SHM("shmfs.f"), STORE_TRUSTED_MOUNT_XATTR, value, sizeof(value)) > 0);
	store_close(&st);
	store_close(&other);
}
END_TEST

START_TEST(test_lifetime_of)
{
	struct store st;
	int fd;

	skip_unless_root("trusted.* marks need root");
	make_file(SHM("shmfs.p"), 1);
	mark(SHM("shmfs.p"), "process");
	make_file(SHM("shmfs.k"), 1);
	mark(SHM("shmfs.k"), "kernel");
	make_file(SHM("shmfs.bad"), 1);
	mark(SHM("shmfs.bad"), "forever");
	make_file(SHM("shmfs.none"), 1);
	make_file(SHM("shmfs.forged"), 1);
	forge(SHM("shmfs.forged"), "process");
	ck_assert_int_eq(store_open(&st, shm_dir, "shmfs.", STORE_SHM, LIFETIME_MOUNT), 0);
	ck_assert(st.trusted);

	/* A root daemon trusts only the trusted mark; one that is not root
	 * can only keep user marks. */
	fd = openat(st.dirfd, "shmfs.forged", O_PATH | O_NOFOLLOW);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(store_lifetime_of(&st, fd), LIFETIME_MOUNT);
	st.trusted = 0;
	ck_assert_int_eq(store_lifetime_of(&st, fd), LIFETIME_PROCESS);
	st.trusted = 1;
	close(fd);

	fd = openat(st.dirfd, "shmfs.p", O_PATH | O_NOFOLLOW);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(store_lifetime_of(&st, fd), LIFETIME_PROCESS);
	close(fd);
	fd = openat(st.dirfd, "shmfs.p", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(store_lifetime_of(&st, fd), LIFETIME_PROCESS);
	close(fd);
	fd = openat(st.dirfd, "shmfs.k", O_PATH | O_NOFOLLOW);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(store_lifetime_of(&st, fd), LIFETIME_KERNEL);
	close(fd);
	/* No mark, or one that is not a lifetime: the store's. */
	fd = openat(st.dirfd, "shmfs.none", O_PATH | O_NOFOLLOW);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(store_lifetime_of(&st, fd), LIFETIME_MOUNT);
	st.lifetime = LIFETIME_KERNEL;
	ck_assert_int_eq(store_lifetime_of(&st, fd), LIFETIME_KERNEL);
	close(fd);
	fd = openat(st.dirfd, "shmfs.bad", O_PATH | O_NOFOLLOW);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(store_lifetime_of(&st, fd), LIFETIME_KERNEL);
	close(fd);
	store_close(&st);
}
END_TEST

START_TEST(test_parse_lifetime)
{
	static const struct {
		const char *text;
		enum lifetime lt;
	} good[] = {
		{ "kernel", LIFETIME_KERNEL },
		{ "disk", LIFETIME_DISK },
		{ "mount", LIFETIME_MOUNT },
		{ "process", LIFETIME_PROCESS },
	};
	static const char *const bad[] = { "", "kern", "kernels", "Kernel", "PROCESS", " disk",
					   "mount " };
	enum lifetime lt;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		lt = LIFETIME_KERNEL + LIFETIME_PROCESS - good[i].lt;
		ck_assert_int_eq(store_parse_lifetime(good[i].text, strlen(good[i].text), &lt), 0);
		ck_assert_int_eq(lt, good[i].lt);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(store_parse_lifetime(bad[i], strlen(bad[i]), &lt) == -EINVAL,
			      "'%s' parsed", bad[i]);
	/* An xattr value is not NUL-terminated: only len bytes count. */
	ck_assert_int_eq(store_parse_lifetime("processXYZ", 7, &lt), 0);
	ck_assert_int_eq(lt, LIFETIME_PROCESS);
	ck_assert_int_eq(store_parse_lifetime("disk", 3, &lt), -EINVAL);
}
END_TEST

Suite *stores_suite(void)
{
	Suite *su = suite_create("stores");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_unchecked_fixture(tc, bases_setup, bases_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_segment_created);
	tcase_add_test(tc, test_segment_keeps_data);
	tcase_add_test(tc, test_segment_prefault);
	tcase_add_test(tc, test_declared_owner);
	tcase_add_test(tc, test_planted_names_refused);
	tcase_add_test(tc, test_shm_dir_graft);
	tcase_add_test(tc, test_disk_dir_graft);
	tcase_add_test(tc, test_file_segment);
	tcase_add_test(tc, test_stores_graft);
	tcase_add_test(tc, test_open_missing_shm_dir);
	suite_add_tcase(su, tc);

	tc = tcase_create("lifetimes");
	tcase_add_unchecked_fixture(tc, bases_setup, bases_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_root_mount_lifetime);
	tcase_add_test(tc, test_root_kernel_lifetime);
	tcase_add_test(tc, test_segment_mount_lifetime);
	tcase_add_test(tc, test_dir_leftovers_removed);
	tcase_add_test(tc, test_process_marks_swept);
	tcase_add_test(tc, test_symlinks_not_followed);
	suite_add_tcase(su, tc);

	tc = tcase_create("usage");
	tcase_add_unchecked_fixture(tc, bases_setup, bases_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_usage_counted_at_open);
	tcase_add_test(tc, test_charge_segments);
	tcase_add_test(tc, test_charge_bytes);
	tcase_add_test(tc, test_charge_recounts);
	tcase_add_test(tc, test_recount);
	tcase_add_test(tc, test_no_limits_no_count);
	tcase_add_test(tc, test_usage_is_fresh);
	suite_add_tcase(su, tc);

	tc = tcase_create("walk");
	tcase_add_unchecked_fixture(tc, bases_setup, bases_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_walk);
	tcase_add_test(tc, test_walk_skip);
	tcase_add_test(tc, test_walk_no_prefix);
	tcase_add_test(tc, test_lifetime_of);
	tcase_add_test(tc, test_walk_deep);
	tcase_add_test(tc, test_marks);
	tcase_add_test(tc, test_parse_lifetime);
	suite_add_tcase(su, tc);

	return su;
}
