/* Small text files read whole (the configuration, the lineup, the guide),
 * and the "line N: reason" errors their parsers give.  Called at start and
 * on SIGHUP from the su_root thread. */
#ifndef TVSPACE_TEXTFILE_H
#define TVSPACE_TEXTFILE_H

#include <stdarg.h>
#include <stddef.h>

/** Read @a path into a malloc'd buffer (NUL-terminated; free() it).  A
 * file over @a max bytes is an error rather than read in part.  0, or
 * -errno with the reason in @a err. */
int textfile_read(const char *path, size_t max, char **ret_text,
		  size_t *ret_len, char *err, size_t errlen);

/** Write "line @a line: " and the formatted reason into @a err. */
void textfile_line_error(char *err, size_t errlen, unsigned line,
			 const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
