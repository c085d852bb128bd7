#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static enum log_level log_max = LOG_LEVEL_INFO;
static int log_syslog;

static const int log_priority[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level)
{
	log_max = level;
}

void log_to_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = 1;
}

static void log_line(enum log_level level, const char *msg)
{
	if (log_syslog)
		syslog(log_priority[level], "%s", msg);
	else
		fprintf(stderr, "shmfs: %s\n", msg);
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
