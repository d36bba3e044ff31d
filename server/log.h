/* Logging: one stream for tvspace, sofia-sip and ortp.
 * Each .c file defines LOG_MODULE before including this header.  Called from
 * the one su_root thread; lines carry the module, and callers add call-id and
 * space id where they have them.  Never log credentials. */
#ifndef TVSPACE_LOG_H
#define TVSPACE_LOG_H

#include <syslog.h>

#ifndef LOG_MODULE
#define LOG_MODULE "tvspace"
#endif

/** Set the most verbose level printed (LOG_ERR .. LOG_DEBUG). */
void log_set_level(int level);
/** The level in force. */
int log_level(void);
/** Send lines to syslog(3) instead of stderr. */
void log_use_syslog(const char *ident);
/** Print one line at @a level for @a module. */
void log_print(int level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Route sofia-sip's su_log output into this sink. */
void log_capture_sofia(void);

#define log_err(...)    log_print(LOG_ERR, LOG_MODULE, __VA_ARGS__)
#define log_warn(...)   log_print(LOG_WARNING, LOG_MODULE, __VA_ARGS__)
#define log_notice(...) log_print(LOG_NOTICE, LOG_MODULE, __VA_ARGS__)
#define log_info(...)   log_print(LOG_INFO, LOG_MODULE, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_level() >= LOG_DEBUG)                                  \
			log_print(LOG_DEBUG, LOG_MODULE, __VA_ARGS__);         \
	} while (0)

#endif
