#define LOG_MODULE "log"
#include "server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include <sofia-sip/su_log.h>

static int max_level = LOG_INFO;
static int to_syslog;

static const char *const level_names[] = {
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
};

void log_set_level(int level)
{
	max_level = level;
}

int log_level(void)
{
	return max_level;
}

void log_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID, LOG_DAEMON);
	to_syslog = 1;
}

static void vlog(int level, const char *module, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (level > max_level)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	/* One event is one line: drop the newline sofia puts at the end. */
	while (n > 0 && (size_t)n < sizeof(line) &&
	       (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (to_syslog) {
		syslog(level, "%s: %s", module, line);
		return;
	}
	struct timeval tv;
	struct tm tm;
	char stamp[32];

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	if (!strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm))
		stamp[0] = '\0'; /* else undefined: no room */
	fprintf(stderr, "%s.%03d %-6s %-6s %s\n", stamp,
		(int)(tv.tv_usec / 1000), level_names[level & 7], module, line);
}

void log_print(int level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, module, fmt, ap);
	va_end(ap);
}

/* sofia's levels run 0 (fatal) .. 9 (everything); 3 and below are worth a
 * warning, the rest is debug chatter. */
static void sofia_logger(void *stream, char const *fmt, va_list ap)
{
	vlog(LOG_DEBUG, "sofia", fmt, ap);
}

void log_capture_sofia(void)
{
	su_log_redirect(NULL, sofia_logger, NULL);
}
