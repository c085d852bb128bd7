/* usage.c: what --help and -o help print. */
#include "usage.h"

void shmfs_usage(FILE *out)
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
		"                           io_uring=auto|on|off     (auto)\n"
		"                           lifetime=kernel|mount    (kernel)\n"
		"                           store=shm|private   (shm)\n"
		"                           size=SIZE|N%%, nr_inodes=N, huge=never|always|\n"
		"                           within_size|advise, mpol=POLICY, mode=OCTAL:\n"
		"                           the tmpfs of store=private (needs root)\n"
		"                           max_segment_size=SIZE, max_total_size=SIZE|N%%,\n"
		"                           max_segments=N      (0: no limit)\n"
		"                           attr_timeout=SECONDS (1.0)\n"
		"                           log_level=error|warn|info|debug  (info)\n"
		"                           log=auto|syslog|stderr|FILE  (auto: stderr\n"
		"                               with -f, else syslog)\n"
		"                         fsname=SOURCE  the source findmnt shows (CONFIG)\n"
		"                         noauto_unmount  leave a dead mount behind when the\n"
		"                           daemon is killed (auto_unmount is the default)\n"
		"  -f                     stay in the foreground\n"
		"  -d                     debug: print every FUSE request (implies -f)\n"
		"  -s                     single-threaded\n"
		"  --check-config FILE    check FILE, print the effective settings, exit\n"
		"  -h, --help             this help\n"
		"  -V, --version          the version\n"
		"\n"
		"A dead shmfs mount on MOUNTPOINT (its daemon killed) is unmounted first.\n"
		"Without -f, shmfs returns once the mount is live. Unmount with\n"
		"'fusermount3 -u MOUNTPOINT' (or umount), SIGTERM, SIGINT or SIGHUP.\n"
		"Exit status: 0 after a clean unmount, 1 on any error.\n");
}

/* -o help: every option -o takes. */
void shmfs_options_help(FILE *out)
{
	fprintf(out,
		"-o takes, separated by commas (shmfs(1) has the details):\n"
		"\n"
		"[shmfs] config keys, as key=value, overriding CONFIG:\n"
		"  shm_dir prefix passthrough io_uring lifetime max_segment_size\n"
		"  max_total_size max_segments attr_timeout log_level log\n"
		"\n"
		"FUSE options:\n"
		"  allow_other          let other users in, as the mode bits allow\n"
		"  allow_root           let root in, besides the user who mounted\n"
		"  auto_unmount         unmount when the daemon ends, however it ends (default)\n"
		"  noauto_unmount       leave a dead mount behind when the daemon is killed\n"
		"  fsname=SOURCE        the source findmnt and df show (default: CONFIG's\n"
		"                       absolute path, or shmfs)\n"
		"  max_read=N           the largest read request, in bytes\n"
		"  debug                the same as -d\n"
		"\n"
		"generic mount options: ro rw exec noexec sync async dirsync atime noatime\n"
		"  relatime norelatime strictatime lazytime (and their no- forms)\n"
		"\n"
		"always on: default_permissions nosuid nodev subtype=shmfs\n");
}
