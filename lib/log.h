/* log: one sink for the daemon and for libfuse's own messages.
 *
 * Messages go to stderr until log_start() switches to the sink chosen with
 * log_open() (the config key log): syslog, stderr kept across daemonizing,
 * or a file. Each message is one write of one whole line. */
#ifndef SHMFS_LOG_H
#define SHMFS_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_level(enum log_level level);

/* Choose the sink: "syslog", "stderr", or an absolute file path (opened for
 * appending now, so that a bad path fails the start). Until log_start(),
 * messages still go to stderr. Return 0 or -errno; for syslog, -errno says
 * that nothing answers at /dev/log yet (syslog stays chosen: glibc tries
 * again at each message; log_open("stderr") replaces it). */
int log_open(const char *sink);
/* From now on write to the sink chosen. Call after daemonizing: a stderr
 * sink writes to a copy of the stderr the daemon had before. */
void log_start(void);
/* A copy of stderr that survives daemonizing (fuse_daemonize points fd 2 at
 * /dev/null); log_open("stderr") calls it. Return 0 or -errno. */
int log_keep_stderr(void);

void log_vwrite(enum log_level level, const char *fmt, va_list ap);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* log_warn and fatal append strerror(errno); the x variants do not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
