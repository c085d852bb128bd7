#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum log_sink { SINK_STDERR, SINK_SYSLOG, SINK_FD, SINK_FILE };

static enum log_level log_max = LOG_LEVEL_INFO;
/* Written once, before the loop's threads start. */
static enum log_sink log_chosen = SINK_STDERR;
static enum log_sink log_active = SINK_STDERR;
static int log_fd = -1;

static const int log_priority[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level)
{
	log_max = level;
}

/* glibc's syslog() drops messages without a word when nothing listens on
 * /dev/log: connect once ourselves, as datagram or stream, to know. */
static int log_syslog_reachable(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	int err = ENOENT;

	for (size_t i = 0; i < 2; i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return 0;
		}
		err = errno;
		close(fd);
	}
	return -err;
}

int log_keep_stderr(void)
{
	if (log_fd < 0)
		log_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	return log_fd < 0 ? -errno : 0;
}

static int log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd < 0)
		return -errno;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	tzset();
	return 0;
}

int log_open(const char *sink)
{
	int rc;

	if (strcmp(sink, "syslog") == 0) {
		/* Chosen even when unreachable: glibc connects again at each
		 * message, so a syslog daemon started later gets them. */
		log_chosen = SINK_SYSLOG;
		return log_syslog_reachable();
	}
	if (strcmp(sink, "stderr") == 0) {
		rc = log_keep_stderr();
		if (rc == 0)
			log_chosen = SINK_FD;
		return rc;
	}
	rc = log_open_file(sink);
	if (rc == 0)
		log_chosen = SINK_FILE;
	return rc;
}

void log_start(void)
{
	if (log_chosen == SINK_SYSLOG)
		openlog("shmfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_active = log_chosen;
}

/* "2026-01-31 12:00:00 shmfs[PID]: " for a file that outlives the process. */
static size_t log_file_stamp(char *buf, size_t len)
{
	struct tm tm;
	time_t now = time(NULL);
	size_t n = 0;

	if (localtime_r(&now, &tm))
		n = strftime(buf, len, "%Y-%m-%d %H:%M:%S ", &tm);
	n += (size_t)snprintf(buf + n, len - n, "shmfs[%ld]: ", (long)getpid());
	return n < len ? n : len - 1;
}

static void log_line(enum log_level level, const char *msg)
{
	char line[1200];
	size_t n;
	int fd = log_active == SINK_STDERR ? STDERR_FILENO : log_fd;

	if (log_active == SINK_SYSLOG) {
		syslog(log_priority[level], "%s", msg);
		return;
	}
	if (log_active == SINK_FILE)
		n = log_file_stamp(line, sizeof(line));
	else
		n = (size_t)snprintf(line, sizeof(line), "shmfs: ");
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%s\n", msg);
	if (n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write per line: lines of several threads do not mix. A closed
	 * terminal (EIO) or pipe (EPIPE: SIGPIPE is ignored) loses the line. */
	if (write(fd, line, n) < 0)
		return;
}

void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level > log_max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_line(level, msg);
}

/* Like log_vwrite, with ": strerror(err)" appended. */
static void log_verr(enum log_level level, int err, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t len;

	if (level > log_max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(err));
	log_line(level, msg);
}

#define LOG_WRAP(name, level)                      \
	void name(const char *fmt, ...)            \
	{                                          \
		va_list ap;                        \
		va_start(ap, fmt);                 \
		log_vwrite(level, fmt, ap);        \
		va_end(ap);                        \
	}

LOG_WRAP(log_warnx, LOG_LEVEL_WARN)
LOG_WRAP(log_info, LOG_LEVEL_INFO)
LOG_WRAP(log_debug, LOG_LEVEL_DEBUG)
LOG_WRAP(log_errorx, LOG_LEVEL_ERROR)

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	log_verr(LOG_LEVEL_WARN, err, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	log_verr(LOG_LEVEL_ERROR, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
