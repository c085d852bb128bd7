/* main.c: options, config, mount, loop. */
#include "shmfs.h"

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "passthrough.h"
#include "status.h"

#define SHMFS_VERSION "0.1.0"

const struct fuse_lowlevel_ops shmfs_ops = {
	.lookup = shmfs_lookup,
	.forget = shmfs_forget,
	.forget_multi = shmfs_forget_multi,
	.getattr = shmfs_getattr,
	.setattr = shmfs_setattr,
	.mknod = shmfs_mknod,
	.mkdir = shmfs_mkdir,
	.symlink = shmfs_symlink,
	.link = shmfs_link,
	.readlink = shmfs_readlink,
	.unlink = shmfs_unlink,
	.rmdir = shmfs_rmdir,
	.rename = shmfs_rename,
	.statfs = shmfs_statfs,
	.opendir = shmfs_opendir,
	.readdir = shmfs_readdir,
	.readdirplus = shmfs_readdirplus,
	.releasedir = shmfs_releasedir,
	.getxattr = shmfs_getxattr,
	.listxattr = shmfs_listxattr,
	.setxattr = shmfs_setxattr,
	.removexattr = shmfs_removexattr,
	.create = shmfs_create,
	.open = shmfs_open,
	.read = shmfs_read,
	.write_buf = shmfs_write_buf,
	.fsync = shmfs_fsync,
	.fallocate = shmfs_fallocate,
	.release = shmfs_release,
	.lseek = shmfs_lseek,
	.ioctl = shmfs_ioctl,
};

struct shmfs_args {
	int foreground;
	int debug;
	int single_thread;
	int help;
	int version;
	char *check_config;
	char *positional[2];
	int npositional;
	int too_many;
	struct config *cfg;
};

enum { KEY_DEBUG, KEY_HELP, KEY_VERSION };

#define SHMFS_OPT(t, p) { t, offsetof(struct shmfs_args, p), 1 }

static const struct fuse_opt shmfs_optspec[] = {
	SHMFS_OPT("-f", foreground),
	SHMFS_OPT("-s", single_thread),
	{ "--check-config %s", offsetof(struct shmfs_args, check_config), 0 },
	{ "--check-config=%s", offsetof(struct shmfs_args, check_config), 0 },
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END
};

static void shmfs_usage(FILE *out)
{
	fprintf(out,
		"usage: shmfs [OPTIONS] [CONFIG] MOUNTPOINT\n"
		"       shmfs status [--json] [MOUNTPOINT...]\n"
		"\n"
		"Named shared-memory segments as files: MOUNTPOINT/NAME is the POSIX shm\n"
		"object /PREFIXNAME in shm_dir. CONFIG is an INI file, or 'none' or 'shmfs'\n"
		"(or omitted) for the built-in defaults.\n"
		"\n"
		"options:\n"
		"  -o OPT[,OPT...]        FUSE mount options (allow_other, ro, ...) and any\n"
		"                         [shmfs] config key as key=value, overriding CONFIG:\n"
		"                           shm_dir=DIR         (/dev/shm)\n"
		"                           prefix=STRING       (shmfs.)\n"
		"                           passthrough=auto|on|off  (auto)\n"
		"                           lifetime=kernel|mount    (kernel)\n"
		"                           max_segment_size=SIZE, max_total_size=SIZE|N%%,\n"
		"                           max_segments=N      (0: no limit)\n"
		"                           attr_timeout=SECONDS (1.0)\n"
		"                           log_level=error|warn|info|debug  (info)\n"
		"  -f                     stay in the foreground, log to stderr\n"
		"  -d                     debug: print every FUSE request (implies -f)\n"
		"  -s                     single-threaded\n"
		"  --check-config FILE    check FILE, print the effective settings, exit\n"
		"  -h, --help             this help\n"
		"  -V, --version          the version\n"
		"\n"
		"Without -f, shmfs returns once the mount is live. Unmount with\n"
		"'fusermount3 -u MOUNTPOINT' (or umount), SIGTERM, SIGINT or SIGHUP.\n"
		"Exit status: 0 after a clean unmount, 1 on any error.\n");
}

static int shmfs_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct shmfs_args *a = data;
	const char *eq;
	char keyname[64];

	(void)outargs;
	switch (key) {
	case KEY_DEBUG:
		a->debug = 1;
		a->foreground = 1;
		return 1; /* libfuse prints the requests */
	case KEY_HELP:
		a->help = 1;
		return 0;
	case KEY_VERSION:
		a->version = 1;
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		if (a->npositional == 2) {
			a->too_many = 1;
			return 0;
		}
		a->positional[a->npositional++] = strdup(arg);
		return 0;
	case FUSE_OPT_KEY_OPT:
		/* -o key=value: ours when key is a [shmfs] key, else FUSE's. */
		eq = strchr(arg, '=');
		if (eq && (size_t)(eq - arg) < sizeof(keyname)) {
			memcpy(keyname, arg, (size_t)(eq - arg));
			keyname[eq - arg] = '\0';
			if (config_is_shmfs_key(keyname)) {
				config_add_option(a->cfg, keyname, eq + 1);
				return 0;
			}
		}
		return 1;
	default:
		return 1;
	}
}

/* libfuse writes some messages in pieces (one fuse_log call per part of a
 * line): gather them per thread until the newline. */
static void shmfs_fuse_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	static __thread char msg[1024];
	size_t len = strlen(msg);
	enum log_level ours = level <= FUSE_LOG_ERR ? LOG_LEVEL_ERROR
			    : level == FUSE_LOG_WARNING ? LOG_LEVEL_WARN
			    : level <= FUSE_LOG_INFO ? LOG_LEVEL_INFO
						    : LOG_LEVEL_DEBUG;

	vsnprintf(msg + len, sizeof(msg) - len, fmt, ap);
	len = strlen(msg);
	if (len < sizeof(msg) - 1 && (len == 0 || msg[len - 1] != '\n'))
		return;
	/* The sink adds its own newline. */
	while (len && msg[len - 1] == '\n')
		msg[--len] = '\0';
	log_msg(ours, "%s", msg);
	msg[0] = '\0';
}

/* Read CONFIG (unless none) and the -o keys already recorded, then check
 * them all. Errors go to stderr as FILE:LINE: why. */
static int shmfs_load_config(struct config *cfg, const char *path)
{
	int rc = 0;

	if (path && strcmp(path, "none") != 0 && strcmp(path, "shmfs") != 0) {
		/* -o keys were recorded first but must override the file. */
		struct config_entry *opts = cfg->entries;
		size_t nopts = cfg->nentries;

		cfg->entries = NULL;
		cfg->nentries = 0;
		rc = config_read_file(cfg, path);
		for (size_t i = 0; i < nopts; i++) {
			config_add_option(cfg, opts[i].key, opts[i].value);
			free(opts[i].section);
			free(opts[i].key);
			free(opts[i].value);
		}
		free(opts);
	}
	if (config_validate(cfg) || rc) {
		fputs(cfg->errors, stderr);
		return -1;
	}
	return 0;
}

/* One O_PATH fd per inode the kernel knows of, one more per open file (a
 * cached-mode mapping keeps its file open): use all the fds the system
 * allows, up to fs.nr_open when privileged. */
/* An integer sysctl, or 0 when it cannot be read. */
static int shmfs_sysctl_int(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = 0;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* Raise RLIMIT_NOFILE to its hard limit; the inodes may keep half of it
 * (a root daemon opens the others from file handles, see lib/inode.h). */
static void shmfs_raise_nofile(struct shmfs *fs)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (geteuid() == 0 && rl.rlim_cur != RLIM_INFINITY)
		itable_set_fd_budget(&fs->inodes, (size_t)rl.rlim_cur / 2);
}

static int shmfs_open_root(struct shmfs *fs)
{
	struct stat st;

	if (stores_open(&fs->stores, &fs->cfg))
		return -1;
	if (fstat(fs->stores.root.dirfd, &st)) {
		log_warn("shm_dir %s", fs->cfg.shm_dir);
		return -1;
	}
	fs->root.fd = fs->stores.root.dirfd;
	fs->root.dev = st.st_dev;
	fs->root.ino = st.st_ino;
	fs->root.type = S_IFDIR;
	fs->root.store = &fs->stores.root;
	fs->root.top = 1;
	fs->root.nlookup = 2;
	pthread_mutex_init(&fs->root.lock, NULL);
	if (itable_init(&fs->inodes)) {
		log_errorx("out of memory");
		return -1;
	}
	return 0;
}

/* The "major:minor" of the filesystem mounted at path, from mountinfo (a
 * stat of our own mount point would wait for this very daemon). */
static int shmfs_mount_dev(const char *path, char *dev, size_t len)
{
	char line[2 * PATH_MAX], mnt[PATH_MAX], id[32];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %31s %*s %4095s", id, mnt) == 2 && strcmp(mnt, path) == 0) {
			snprintf(dev, len, "%s", id);
			found = 1; /* the last one is on top */
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

/* The kernel holds a FUSE mount to 1 % of the dirty-page budget, strictly,
 * so that an untrusted server cannot pin the machine's writeback: cached
 * mmap writers are throttled to a fraction of tmpfs speed. shmfs, run by
 * root over RAM, lifts that to what a local filesystem gets. */
static void shmfs_relax_dirty_limit(const char *mountpoint)
{
	static const char *const settings[][2] = { { "strict_limit", "0" }, { "max_ratio", "20" } };
	char dev[32], path[96];

	if (geteuid() != 0 || shmfs_mount_dev(mountpoint, dev, sizeof(dev)))
		return;
	for (size_t i = 0; i < 2; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/sys/class/bdi/%s/%s", dev, settings[i][0]);
		f = fopen(path, "w");
		if (!f)
			continue; /* older kernels lack strict_limit */
		if (fputs(settings[i][1], f) < 0 || fclose(f))
			log_debug("writing %s failed", path);
		else
			log_debug("%s = %s", path, settings[i][1]);
	}
}

/* Tell systemd (Type=notify) how the service is doing, if it asked. */
static void shmfs_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	len = strlen(path);
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* an abstract socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		log_warn("telling systemd %s", state);
	close(fd);
}

/* Answer FUSE_INIT before going to the background, so that a mount that
 * cannot have what the config demands (passthrough=on) fails in the
 * foreground with a clear message and exit status 1. */
static int shmfs_handle_init(struct shmfs *fs)
{
	struct fuse_buf buf = { .mem = NULL };
	int rc;

	do {
		rc = fuse_session_receive_buf(fs->se, &buf);
	} while (rc == -EINTR);
	if (rc <= 0) {
		log_errorx("no FUSE_INIT from the kernel: %s", rc ? strerror(-rc) : "end of file");
		free(buf.mem);
		return -1;
	}
	fuse_session_process_buf(fs->se, &buf);
	free(buf.mem);
	return passthrough_decide(fs);
}

static int shmfs_loop(struct shmfs *fs, int single_thread)
{
	struct fuse_loop_config *lc;
	int rc;

	if (single_thread)
		return fuse_session_loop(fs->se);
	lc = fuse_loop_cfg_create();
	if (!lc)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(lc, 0);
	/* Two cores here; more threads only hold more 1 MiB request buffers. */
	fuse_loop_cfg_set_max_threads(lc, 8);
	rc = fuse_session_loop_mt(fs->se, lc);
	fuse_loop_cfg_destroy(lc);
	return rc;
}

static void shmfs_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Writeback cache would let the kernel trust its own sizes over the
	 * backing object's, and it rules out passthrough. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO;
}

/* unmounted: the mount ended as it should, so lifetime=mount applies. */
static void shmfs_destroy(struct shmfs *fs, int unmounted)
{
	if (fs->inodes.buckets)
		itable_destroy(&fs->inodes);
	if (fs->stores.grafts)
		stores_close(&fs->stores, unmounted);
	order_destroy(&fs->order);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_lowlevel_ops ops = shmfs_ops;
	struct shmfs fs = { .timeout = 0 };
	struct shmfs_args a = { .cfg = &fs.cfg };
	char mountbuf[PATH_MAX];
	struct stat mst;
	const char *mountpoint;
	int rc, status = 1, unmounted = 0;

	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return status_main(argc - 1, argv + 1);
	config_init(&fs.cfg);
	if (fuse_opt_parse(&args, &a, shmfs_optspec, shmfs_opt_proc) == -1)
		goto out_args;
	if (a.help) {
		shmfs_usage(stdout);
		status = 0;
		goto out_args;
	}
	if (a.version) {
		printf("shmfs %s (libfuse %s)\n", SHMFS_VERSION, fuse_pkgversion());
		status = 0;
		goto out_args;
	}
	if (a.check_config) {
		if (shmfs_load_config(&fs.cfg, a.check_config) == 0) {
			config_print(&fs.cfg, stdout);
			printf("configuration OK\n");
			status = 0;
		}
		goto out_args;
	}
	if (a.too_many || a.npositional == 0) {
		shmfs_usage(stderr);
		goto out_args;
	}
	/* libfuse changes to / (fuse_daemonize, even with -f): unmounting at
	 * a signal needs the mount point's absolute path. */
	mountpoint = realpath(a.positional[a.npositional - 1], mountbuf);
	if (!mountpoint || stat(mountpoint, &mst) || !S_ISDIR(mst.st_mode)) {
		fprintf(stderr, "shmfs: mount point %s: %s\n", a.positional[a.npositional - 1],
			mountpoint && !errno ? "not a directory" : strerror(errno ? errno : ENOTDIR));
		goto out_args;
	}
	if (shmfs_load_config(&fs.cfg, a.npositional == 2 ? a.positional[0] : NULL))
		goto out_args;
	log_set_level(a.debug ? LOG_LEVEL_DEBUG : (enum log_level)fs.cfg.log_level);
	fuse_set_log_func(shmfs_fuse_log);
	fs.timeout = fs.cfg.attr_timeout;

	/* New objects get exactly the mode the kernel sends (already masked by
	 * the caller's umask). */
	umask(0);
	/* A root daemon's threads act as callers now and then (creds.c) and
	 * then go back to no supplementary groups: start with none. */
	if (geteuid() == 0 && setgroups(0, NULL))
		log_warn("dropping supplementary groups");
	fs.protected_regular = shmfs_sysctl_int("/proc/sys/fs/protected_regular");
	order_init(&fs.order);
	if (shmfs_open_root(&fs))
		goto out_fs;
	shmfs_raise_nofile(&fs);

	/* Permission checks are the kernel's, by the mode bits: always. Never
	 * setuid programs or devices (last, so that -o suid,dev lose). */
	if (fuse_opt_add_arg(&args, "-odefault_permissions,fsname=shmfs,subtype=shmfs,nosuid,nodev"))
		goto out_fs;
	ops.init = shmfs_init;
	fs.se = fuse_session_new(&args, &ops, sizeof(ops), &fs);
	if (!fs.se)
		goto out_fs;
	if (fuse_set_signal_handlers(fs.se))
		goto out_session;
	if (fuse_session_mount(fs.se, mountpoint))
		goto out_signals;
	if (passthrough_setup(&fs) && fs.cfg.passthrough == PASSTHROUGH_ON)
		goto out_unmount;
	if (shmfs_handle_init(&fs))
		goto out_unmount;
	shmfs_relax_dirty_limit(mountpoint);
	if (fuse_daemonize(a.foreground))
		goto out_unmount;
	if (!a.foreground)
		log_to_syslog("shmfs");
	log_info("mounted %s on %s (prefix '%s')", fs.cfg.shm_dir, mountpoint, fs.cfg.prefix);
	if (fs.passthrough)
		log_info("data path: kernel passthrough (zero-copy)");
	else
		log_info("data path: cached (%s)", fs.passthrough_why);
	if (!fs.cached_direct_io)
		log_warnx("the kernel lacks FUSE_DIRECT_IO_ALLOW_MMAP (Linux 6.6+): cached-mode "
			  "write() goes through the page cache, which can race writeback of mapped "
			  "pages (docs/RELIABILITY.md, BUG-1)");
	shmfs_notify("READY=1");

	rc = shmfs_loop(&fs, a.single_thread);
	/* A positive value is the signal that ended the loop: a clean stop. */
	status = rc < 0 ? 1 : 0;
	unmounted = 1;
	shmfs_notify("STOPPING=1");
	log_info("unmounting %s", mountpoint);
out_unmount:
	fuse_session_unmount(fs.se);
out_signals:
	fuse_remove_signal_handlers(fs.se);
out_session:
	fuse_session_destroy(fs.se);
out_fs:
	shmfs_destroy(&fs, unmounted);
out_args:
	config_free(&fs.cfg);
	free(a.positional[0]);
	free(a.positional[1]);
	free(a.check_config);
	fuse_opt_free_args(&args);
	return status;
}
