/* Whole small text files, and line-numbered errors about them. */
#include "server/textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int textfile_read(const char *path, size_t max, char **ret_text,
		  size_t *ret_len, char *err, size_t errlen)
{
	/* read only: closing it loses nothing, so its result is not asked */
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot read: %s", strerror(-rc));
		return rc;
	}
	buf = malloc(max + 1);
	if (!buf) {
		(void)fclose(f);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* One byte more than allowed tells a file that is too large from
	 * one that is just large: never parse half a lineup. */
	n = fread(buf, 1, max + 1, f);
	rc = ferror(f) ? -EIO : 0;
	(void)fclose(f);
	if (!rc && n > max) {
		snprintf(err, errlen, "larger than %zu bytes", max);
		rc = -EFBIG;
	}
	else if (rc) {
		snprintf(err, errlen, "cannot read: %s", strerror(-rc));
	}
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*ret_text = buf;
	*ret_len = n;
	return 0;
}

void textfile_line_error(char *err, size_t errlen, unsigned line,
			 const char *fmt, va_list ap)
{
	char msg[200];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(err, errlen, "line %u: %s", line, msg);
}
