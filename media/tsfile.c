/* A transport stream file as a live channel: see tsfile.h.
 *
 * Times: ISO/IEC 13818-1 §2.4.2.2 defines the rate between two PCRs of the
 * PCR PID as constant, so a packet between them is due at the time its byte
 * position gives it.  Before the first PCR and after the last, the nearest
 * segment's rate holds. */
#include "media/tsfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define PID_COUNT 8192
#define PCR_WRAP  ((UINT64_C(1) << 33) * 300) /* 33-bit base, 27 MHz */
#define CC_NONE   0xff

struct tsfile {
	su_home_t *home;
	uint8_t *data;
	size_t n;          /* packets */
	uint64_t *at;      /* due time of each packet in a pass */
	uint64_t duration; /* of a pass */
	unsigned pcr_pid;
	size_t next;           /* packet to send next */
	uint64_t pass;         /* passes played before this one */
	bool mark_pcr;         /* the next PCR starts a new time base */
	uint8_t cc[PID_COUNT]; /* last continuity counter sent, or CC_NONE */
};

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -code;
}

static unsigned pid_of(const uint8_t *p)
{
	return (unsigned)(p[1] & 0x1f) << 8 | p[2];
}

/* The PCR of packet @a p in 27 MHz ticks, or false if it has none. */
static bool pcr_of(const uint8_t *p, uint64_t *pcr)
{
	uint64_t base;

	if (!(p[3] & 0x20) || p[4] < 7 || !(p[5] & 0x10))
		return false;
	base = (uint64_t)p[6] << 25 | (uint64_t)p[7] << 17 |
	       (uint64_t)p[8] << 9 | (uint64_t)p[9] << 1 | p[10] >> 7;
	*pcr = base * 300 + ((unsigned)(p[10] & 1) << 8 | p[11]);
	return true;
}

static int read_file(struct tsfile *f, const char *path, char *err,
		     size_t errlen)
{
	/* read only: closing it loses nothing, so its result is not asked */
	FILE *fp = fopen(path, "rb");
	struct stat st;
	size_t size;
	int e;

	if (!fp)
		return fail(err, errlen, errno, "%s: %s", path,
			    strerror(errno));
	if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode)) {
		(void)fclose(fp);
		return fail(err, errlen, EINVAL, "%s: not a regular file",
			    path);
	}
	size = (size_t)st.st_size;
	if (size == 0 || size > TS_MAX_BYTES || size % TS_PACKET) {
		(void)fclose(fp);
		if (size > TS_MAX_BYTES)
			return fail(err, errlen, EFBIG,
				    "%s: larger than %u MiB", path,
				    TS_MAX_BYTES >> 20);
		return fail(err, errlen, EINVAL,
			    "%s: %zu bytes is not a whole number of %u-byte "
			    "packets",
			    path, size, TS_PACKET);
	}
	f->data = su_alloc(f->home, (isize_t)size); /* <= TS_MAX_BYTES */
	if (!f->data) {
		(void)fclose(fp);
		return fail(err, errlen, ENOMEM, "%s: out of memory", path);
	}
	e = fread(f->data, 1, size, fp) == size ? 0 : EIO;
	(void)fclose(fp);
	if (e)
		return fail(err, errlen, e, "%s: short read", path);
	f->n = size / TS_PACKET;
	for (size_t i = 0; i < f->n; i++)
		if (f->data[i * TS_PACKET] != 0x47)
			return fail(err, errlen, EINVAL,
				    "%s: packet %zu has no sync byte", path, i);
	return 0;
}

/* Give every packet its due time from the PCRs of the first PID that
 * carries one. */
static int time_packets(struct tsfile *f, const char *path, char *err,
			size_t errlen)
{
	/* f->n <= TS_MAX_BYTES / TS_PACKET: each array is a few MB */
	size_t *idx = su_alloc(f->home, (isize_t)(f->n * sizeof(*idx)));
	uint64_t *pcr = su_alloc(f->home, (isize_t)(f->n * sizeof(*pcr)));
	size_t k = 0, seg = 0;
	uint64_t wrap = 0, v, first;
	int rc = 0;

	f->at = su_alloc(f->home, (isize_t)(f->n * sizeof(*f->at)));
	if (!idx || !pcr || !f->at) {
		rc = fail(err, errlen, ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (size_t i = 0; i < f->n; i++) {
		const uint8_t *p = f->data + i * TS_PACKET;

		if (!pcr_of(p, &v) || (k && pid_of(p) != f->pcr_pid))
			continue;
		f->pcr_pid = pid_of(p);
		if (k && v + wrap < pcr[k - 1])
			wrap += PCR_WRAP; /* the 33-bit base wrapped */
		v += wrap;
		if (k && v <= pcr[k - 1]) {
			rc = fail(err, errlen, EINVAL,
				  "%s: the PCR does not advance at packet %zu",
				  path, i);
			goto out;
		}
		idx[k] = i;
		pcr[k++] = v;
	}
	if (k < 2) {
		rc = fail(err, errlen, EINVAL,
			  "%s: fewer than two PCRs, nothing to pace it by",
			  path);
		goto out;
	}
	/* Before the first PCR the first segment's rate runs backwards; the
	 * pass starts at 0 with packet 0. */
	first = pcr[0] - (pcr[1] - pcr[0]) * idx[0] / (idx[1] - idx[0]);
	for (size_t i = 0; i < f->n; i++) {
		size_t a, b;

		while (seg + 2 < k && i > idx[seg + 1])
			seg++;
		a = idx[seg];
		b = idx[seg + 1];
		if (i >= a)
			v = pcr[seg] +
			    (pcr[seg + 1] - pcr[seg]) * (i - a) / (b - a);
		else
			v = pcr[0] - (pcr[1] - pcr[0]) * (a - i) / (b - a);
		f->at[i] = v - first;
	}
	/* The pass lasts until the packet after the last would be due. */
	f->duration = f->at[f->n - 1] +
		      (pcr[k - 1] - pcr[k - 2]) / (idx[k - 1] - idx[k - 2]);
out:
	su_free(f->home, idx);
	su_free(f->home, pcr);
	return rc;
}

int tsfile_open(su_home_t *home, const char *path, struct tsfile **ret,
		char *err, size_t errlen)
{
	struct tsfile *f = su_zalloc(home, sizeof(*f));
	int rc;

	if (!f)
		return fail(err, errlen, ENOMEM, "%s: out of memory", path);
	f->home = home;
	memset(f->cc, CC_NONE, sizeof(f->cc));
	rc = read_file(f, path, err, errlen);
	if (!rc)
		rc = time_packets(f, path, err, errlen);
	if (rc) {
		tsfile_close(f);
		return rc;
	}
	*ret = f;
	return 0;
}

struct tsfile *tsfile_close(struct tsfile *f)
{
	if (f) {
		su_free(f->home, f->data);
		su_free(f->home, f->at);
		su_free(f->home, f);
	}
	return NULL;
}

size_t tsfile_packets(const struct tsfile *f)
{
	return f->n;
}

uint64_t tsfile_duration(const struct tsfile *f)
{
	return f->duration;
}

uint64_t tsfile_bitrate(const struct tsfile *f)
{
	return (uint64_t)f->n * TS_PACKET * 8 * TS_CLOCK / f->duration;
}

unsigned tsfile_pcr_pid(const struct tsfile *f)
{
	return f->pcr_pid;
}

static size_t chunk_end(const struct tsfile *f)
{
	return f->next + TS_PER_RTP < f->n ? f->next + TS_PER_RTP : f->n;
}

uint64_t tsfile_next_due(const struct tsfile *f)
{
	return f->pass * f->duration + f->at[chunk_end(f) - 1];
}

uint64_t tsfile_position(const struct tsfile *f)
{
	return f->pass * f->duration + f->at[f->next];
}

/* Keep each PID's continuity counter running across passes (§2.4.3.3: it
 * counts packets with a payload), and flag the new time base. */
static void continue_packet(struct tsfile *f, uint8_t *p)
{
	unsigned pid = pid_of(p), cc = p[3] & 0x0f;
	bool payload = p[3] & 0x10;

	if (pid == 0x1fff)
		return; /* null packets count nothing */
	if (f->cc[pid] != CC_NONE)
		cc = payload ? (f->cc[pid] + 1u) & 0x0f : f->cc[pid];
	f->cc[pid] = (uint8_t)cc;
	p[3] = (uint8_t)((p[3] & 0xf0) | cc);
	if (f->mark_pcr && pid == f->pcr_pid && (p[3] & 0x20) && p[4] > 0 &&
	    (p[5] & 0x10)) {
		p[5] |= 0x80; /* discontinuity_indicator */
		f->mark_pcr = false;
	}
}

size_t tsfile_take(struct tsfile *f, uint8_t out[TS_PER_RTP * TS_PACKET],
		   uint64_t *at)
{
	size_t end = chunk_end(f), len = (end - f->next) * TS_PACKET;

	*at = f->pass * f->duration + f->at[f->next];
	memcpy(out, f->data + f->next * TS_PACKET, len);
	for (size_t i = 0; i < end - f->next; i++)
		continue_packet(f, out + i * TS_PACKET);
	f->next = end;
	if (f->next == f->n) {
		f->next = 0;
		f->pass++;
		f->mark_pcr = true;
	}
	return len;
}
