/* main.c: options, config, mount, loop. */
#include "ops.h"

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
#include "datapath.h"
#include "mountpoint.h"
#include "passthrough.h"
#include "preflight.h"
#include "status.h"
#include "uring.h"
#include "usage.h"
#include "watch.h"

#define SHMFS_VERSION "0.1.0"

struct shmfs_args {
	int foreground;
	int debug;
	int single_thread;
	int help;
	int version;
	char *check_config;
	char *positional[2];
	int npositional;
	char *extra;   /* the first positional argument past two */
	char *fsname;  /* -o fsname=, as given */
	int auto_unmount; /* -o auto_unmount: 1, -o noauto_unmount: 0, else -1 */
	int read_only;    /* -o ro */
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
			if (!a->extra)
				a->extra = strdup(arg);
			return 0;
		}
		a->positional[a->npositional++] = strdup(arg);
		return 0;
	case FUSE_OPT_KEY_OPT:
		if (strcmp(arg, "help") == 0) {
			a->help = 2;
			return 0;
		}
		if (strcmp(arg, "auto_unmount") == 0 || strcmp(arg, "noauto_unmount") == 0) {
			a->auto_unmount = arg[0] == 'a';
			return a->auto_unmount;
		}
		if (strcmp(arg, "ro") == 0 || strcmp(arg, "rw") == 0)
			a->read_only = arg[1] == 'o';
		if (strncmp(arg, "fsname=", 7) == 0) {
			free(a->fsname);
			a->fsname = strdup(arg + 7);
			return 1;
		}
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

static void shmfs_inode_gone(struct inode *in, void *fs)
{
	shmfs_backing_forget(in, fs);
	watch_forget(fs, in);
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
	itable_on_gone(&fs->inodes, shmfs_inode_gone, fs);
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

/* Syslog does not answer (containers, minimal hosts): keep writing to
 * stderr, unless it is a pipe, whose reader (a shell's $(...), a program
 * capturing output) would wait for its end as long as the daemon runs. */
static int shmfs_syslog_fallback(int rc)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) == 0 && S_ISFIFO(st.st_mode)) {
		log_warnx("syslog does not answer at /dev/log (%s) and stderr is a pipe: "
			  "messages after the start are lost; set log = FILE or log = stderr",
			  strerror(-rc));
		return 0;
	}
	log_warnx("syslog does not answer at /dev/log (%s): logging to stderr "
		  "(set log = stderr or log = FILE to choose)", strerror(-rc));
	if (log_open("stderr"))
		log_warn("keeping stderr");
	return 0;
}

/* The sink of the config key log, before daemonizing so that a bad file
 * fails the start. auto is stderr with -f, syslog in the background. */
static int shmfs_open_log(const struct config *cfg, int foreground)
{
	const char *sink = cfg->log;
	int rc;

	if (strcmp(sink, "auto") == 0)
		sink = foreground ? "stderr" : "syslog";
	rc = log_open(sink);
	if (rc == 0)
		return 0;
	if (strcmp(sink, "syslog") == 0)
		return shmfs_syslog_fallback(rc);
	log_errorx("log %s: %s", sink, strerror(-rc));
	return -1;
}

/* "16G", "1000000", "11.8G" or "none": a limit for the start line. */
static const char *shmfs_limit(char *buf, size_t len, uint64_t v, int bytes)
{
	static const char units[] = "KMGT";
	double d = (double)v;
	int u = -1;

	if (v == 0) {
		snprintf(buf, len, "none");
		return buf;
	}
	if (!bytes || v < 1024) {
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return buf;
	}
	while (u < 3 && d >= 1024) {
		d /= 1024;
		u++;
	}
	if (d == (double)(uint64_t)d)
		snprintf(buf, len, "%llu%c", (unsigned long long)d, units[u]);
	else
		snprintf(buf, len, "%.1f%c", d, units[u]);
	return buf;
}

/* The one line that says what this daemon serves, and how. */
static void shmfs_log_mounted(struct shmfs *fs, const char *source, const char *mountpoint)
{
	const struct limits *l = &fs->stores.limits;
	char seg[32], total[64], count[32], path[320], store[PATH_MAX + 32], transport[320];

	shmfs_limit(total, sizeof(total), l->max_total_size, 1);
	if (fs->cfg.max_total_percent)
		snprintf(total + strlen(total), sizeof(total) - strlen(total), " (%u%% of RAM)",
			 fs->cfg.max_total_percent);
	if (fs->passthrough)
		snprintf(path, sizeof(path), "kernel passthrough (zero-copy)");
	else
		snprintf(path, sizeof(path), "cached (%s)", fs->passthrough_why);
	if (uring_in_use(fs))
		snprintf(transport, sizeof(transport), "io_uring");
	else
		snprintf(transport, sizeof(transport), "/dev/fuse (%s)", fs->uring_why);
	if (store_kind_own_tmpfs(fs->cfg.store))
		snprintf(store, sizeof(store), "a private tmpfs");
	else
		snprintf(store, sizeof(store), "%s", fs->cfg.shm_dir);
	log_info("mounted %s on %s: store %s, prefix '%s', lifetime %s; data path: %s; "
		 "transport: %s; limits: max_segment_size %s, max_total_size %s, max_segments %s; "
		 "pid %ld", source, mountpoint, store, fs->cfg.prefix,
		 config_lifetime_name(fs->cfg.lifetime), path, transport,
		 shmfs_limit(seg, sizeof(seg), l->max_segment_size, 1),
		 total,
		 shmfs_limit(count, sizeof(count), l->max_segments, 0), (long)getpid());
}

/* The mount's source as findmnt and df show it: -o fsname=, else the
 * config file's absolute path, else "shmfs". */
static char *shmfs_source(const struct shmfs_args *a)
{
	const char *cfg = a->npositional == 2 ? a->positional[0] : NULL;
	char *abs;

	if (a->fsname)
		return strdup(a->fsname);
	if (!cfg || strcmp(cfg, "none") == 0 || strcmp(cfg, "shmfs") == 0)
		return strdup("shmfs");
	abs = realpath(cfg, NULL);
	return abs ? abs : strdup(cfg);
}

/* Whether auto_unmount can be had: libfuse then mounts through fusermount3
 * (also for root), which stays behind and unmounts when the daemon's
 * /dev/fuse fd closes, however it ends. In a user namespace of its own a
 * setuid fusermount3 has no privilege, so there it is left out. */
static int shmfs_can_auto_unmount(void)
{
	char map[128] = "";
	FILE *f = fopen("/proc/self/uid_map", "re");
	const char *path = getenv("PATH");
	char exe[PATH_MAX];
	int initial;

	if (f) {
		if (!fgets(map, sizeof(map), f))
			map[0] = '\0';
		fclose(f);
	}
	initial = strstr(map, "4294967295") != NULL;
	/* fusermount3 opens /dev/fuse as the real uid: a daemon whose real
	 * and effective uids differ mounts by itself. */
	if (!initial || getuid() != geteuid())
		return 0;
	if (access("/usr/bin/fusermount3", X_OK) == 0 || access("/bin/fusermount3", X_OK) == 0)
		return 1;
	for (const char *p = path; p && *p; p += strcspn(p, ":"), p += *p == ':') {
		int n = (int)strcspn(p, ":");

		snprintf(exe, sizeof(exe), "%.*s/fusermount3", n, p);
		if (n && access(exe, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* The options every mount gets. Permission checks are the kernel's, by the
 * mode bits: always. Never setuid programs or devices (added last, so that
 * -o suid,dev lose). */
static int shmfs_add_mount_options(struct fuse_args *args, const struct shmfs_args *a,
				   const char *source)
{
	char *opts = NULL;
	int rc = fuse_opt_add_opt(&opts, "default_permissions,subtype=shmfs,nosuid,nodev");

	if (rc == 0 && a->auto_unmount < 0 && shmfs_can_auto_unmount())
		rc = fuse_opt_add_opt(&opts, "auto_unmount");

	if (rc == 0 && !a->fsname) {
		char *fsname = malloc(strlen(source) + 8);

		rc = -1;
		if (fsname) {
			sprintf(fsname, "fsname=%s", source);
			rc = fuse_opt_add_opt_escaped(&opts, fsname);
			free(fsname);
		}
	}
	if (rc == 0)
		rc = fuse_opt_add_arg(args, "-o") || fuse_opt_add_arg(args, opts);
	free(opts);
	return rc ? -1 : 0;
}

#define TRY_HELP "Try 'shmfs --help' for more information.\n"

/* --check-config as the last argument lacks its FILE (fuse_opt_parse
 * would only say "missing argument"). */
static int shmfs_unknown_command(int argc, char *argv[])
{
	if (strcmp(argv[argc - 1], "--check-config") == 0) {
		fprintf(stderr, "shmfs: --check-config needs a FILE: the config to check ('none' "
				"for the built-in defaults)\n" TRY_HELP);
		return 1;
	}
	return 0;
}

/* "shmfs stats": a lone word that is no existing path is a mistyped
 * command, not a mount point. */
static int shmfs_is_command_typo(const char *arg)
{
	struct stat st;

	return !strchr(arg, '/') && strcmp(arg, "none") != 0 && strcmp(arg, "shmfs") != 0 &&
	       lstat(arg, &st) != 0 && errno == ENOENT;
}

/* [CONFIG] MOUNTPOINT: say what is wrong with the arguments, as mount(8)
 * and sshfs do, in one line (and where to look). */
static int shmfs_check_positional(const struct shmfs_args *a)
{
	struct stat st;

	if (a->extra) {
		fprintf(stderr, "shmfs: too many arguments: '%s' (usage: shmfs [OPTIONS] [CONFIG] "
				"MOUNTPOINT)\n" TRY_HELP, a->extra);
		return -1;
	}
	if (a->npositional == 0) {
		fprintf(stderr, "shmfs: no mount point given (usage: shmfs [OPTIONS] [CONFIG] "
				"MOUNTPOINT)\n" TRY_HELP);
		return -1;
	}
	if (a->npositional == 1 && shmfs_is_command_typo(a->positional[0])) {
		fprintf(stderr, "shmfs: '%s' is not a command (the one command is 'status'), nor an "
				"existing mount point\n" TRY_HELP, a->positional[0]);
		return -1;
	}
	if (a->npositional == 1 && stat(a->positional[0], &st) == 0 && S_ISREG(st.st_mode)) {
		fprintf(stderr, "shmfs: no mount point given: %s is a file (a config file? then: "
				"shmfs %s MOUNTPOINT)\n", a->positional[0], a->positional[0]);
		return -1;
	}
	return 0;
}

/* --check-config: the options that go to FUSE must be ones it takes, as
 * the mount would find (fuse_session_new parses them, mounts nothing). */
static int shmfs_check_fuse_options(struct fuse_args *args, const struct shmfs_args *a)
{
	struct fuse_session *se;

	if (shmfs_add_mount_options(args, a, "shmfs"))
		return -1;
	se = fuse_session_new(args, &shmfs_ops, sizeof(shmfs_ops), NULL);
	if (!se)
		return -1;
	fuse_session_destroy(se);
	return 0;
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
 * foreground with a clear message and exit status 1. Returns 0, -1 (an
 * error), or 1 when a signal asked to stop first. */
static int shmfs_handle_init(struct shmfs *fs)
{
	struct fuse_buf buf = { .mem = NULL };
	int rc;

	do {
		rc = fuse_session_receive_buf(fs->se, &buf);
	} while (rc == -EINTR);
	/* SIGTERM, SIGINT or SIGHUP before INIT (the mount is already seen in
	 * the mount table): a stop asked for, not an error. */
	if (rc == 0 && fuse_session_exited(fs->se)) {
		free(buf.mem);
		return 1;
	}
	if (rc <= 0) {
		log_errorx("no FUSE_INIT from the kernel: %s", rc ? strerror(-rc) : "end of file");
		free(buf.mem);
		return -1;
	}
	fuse_session_process_buf(fs->se, &buf);
	free(buf.mem);
	if (passthrough_decide(fs))
		return -1;
	return uring_decide(fs);
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
	watch_stop(fs); /* undoes a watch_open when the mount never came */
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
	struct shmfs_args a = { .cfg = &fs.cfg, .auto_unmount = -1 };
	char mountbuf[PATH_MAX];
	const char *mountpoint;
	char *source = NULL;
	int rc, status = 1, unmounted = 0, recovered = 0;

	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return status_main(argc - 1, argv + 1);
	if (shmfs_unknown_command(argc, argv))
		return 1;
	config_init(&fs.cfg);
	if (fuse_opt_parse(&args, &a, shmfs_optspec, shmfs_opt_proc) == -1)
		goto out_args;
	if (a.help) {
		if (a.help == 2)
			shmfs_options_help(stdout);
		else
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
		if (shmfs_load_config(&fs.cfg, a.check_config) == 0 &&
		    preflight_store(&fs.cfg, a.read_only) == 0 &&
		    shmfs_check_fuse_options(&args, &a) == 0) {
			config_print(&fs.cfg, stdout);
			printf("configuration OK\n");
			status = 0;
		}
		goto out_args;
	}
	if (shmfs_check_positional(&a))
		goto out_args;
	if (shmfs_load_config(&fs.cfg, a.npositional == 2 ? a.positional[0] : NULL))
		goto out_args;
	log_set_level(a.debug ? LOG_LEVEL_DEBUG : (enum log_level)fs.cfg.log_level);
	if (shmfs_open_log(&fs.cfg, a.foreground))
		goto out_args;
	/* libfuse changes to / (fuse_daemonize, even with -f): unmounting at
	 * a signal needs the mount point's absolute path. */
	if (mountpoint_prepare(a.positional[a.npositional - 1], mountbuf, &recovered) ||
	    preflight_store(&fs.cfg, a.read_only) || preflight_fuse())
		goto out_args;
	mountpoint = mountbuf;
	fuse_set_log_func(shmfs_fuse_log);
	fs.timeout = fs.cfg.attr_timeout;

	/* New objects get exactly the mode the kernel sends (already masked by
	 * the caller's umask). */
	umask(0);
	/* A root daemon's threads act as callers now and then (creds.c) and
	 * then go back to no supplementary groups: start with none. */
	if (geteuid() == 0 && setgroups(0, NULL))
		log_msg(errno == EPERM ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN,
			"dropping supplementary groups: %s", strerror(errno));
	fs.protected_regular = (int)preflight_sysctl("/proc/sys/fs/protected_regular", 0);
	order_init(&fs.order, shmfs_order_range);
	if (shmfs_open_root(&fs))
		goto out_fs;
	shmfs_raise_nofile(&fs);
	watch_open(&fs);

	source = shmfs_source(&a);
	if (!source || shmfs_add_mount_options(&args, &a, source))
		goto out_fs;
	ops.init = shmfs_init;
	if (shmfs_ops_check(&ops))
		goto out_fs;
	fs.se = fuse_session_new(&args, &ops, sizeof(ops), &fs);
	if (!fs.se)
		goto out_fs;
	if (fuse_set_signal_handlers(fs.se))
		goto out_session;
	/* io_uring=on without kernel support fails before anything is mounted. */
	if (uring_prepare(&fs))
		goto out_signals;
	if (fuse_session_mount(fs.se, mountpoint))
		goto out_signals;
	if (passthrough_setup(&fs) && fs.cfg.passthrough == PASSTHROUGH_ON)
		goto out_unmount;
	rc = shmfs_handle_init(&fs);
	if (rc) {
		unmounted = rc > 0;
		status = rc > 0 ? 0 : 1;
		goto out_unmount;
	}
	/* Without passthrough every open is cached: order always (order.c). */
	if (!fs.passthrough)
		order_cached(&fs.order, 1);
	shmfs_relax_dirty_limit(mountpoint);
	if (fuse_daemonize(a.foreground))
		goto out_unmount;
	log_start();
	if (uring_start(&fs) && fs.cfg.io_uring == URING_ON) {
		log_errorx("io_uring=on, but %s", fs.uring_why);
		goto out_unmount;
	}
	if (recovered)
		log_warnx("%s held a dead shmfs mount (its daemon had ended without unmounting): "
			  "unmounted it lazily", mountpoint);
	shmfs_log_mounted(&fs, source, mountpoint);
	if (uring_in_use(&fs) && !fs.passthrough)
		log_warnx("io_uring=on in cached mode: requests on different CPUs' queues reach the "
			  "daemon in no common order, so data requests are ordered only among those "
			  "already taken (docs/RELIABILITY.md, BUG-1)");
	if (!fs.cached_direct_io)
		log_warnx("the kernel lacks FUSE_DIRECT_IO_ALLOW_MMAP (Linux 6.6+): cached-mode "
			  "write() goes through the page cache, which can race writeback of mapped "
			  "pages (docs/RELIABILITY.md, BUG-1)");
	watch_start(&fs);
	shmfs_notify("READY=1");

	rc = shmfs_loop(&fs, a.single_thread);
	/* A positive value is the signal that ended the loop: a clean stop. */
	status = rc < 0 ? 1 : 0;
	unmounted = 1;
	shmfs_notify("STOPPING=1");
	log_info("unmounting %s", mountpoint);
out_unmount:
	watch_stop(&fs);
	fuse_session_unmount(fs.se);
out_signals:
	uring_stop(&fs);
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
	free(a.fsname);
	free(a.extra);
	free(source);
	fuse_opt_free_args(&args);
	return status;
}
