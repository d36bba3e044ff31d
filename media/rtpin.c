/* RTP in: see rtpin.h.
 *
 * The order of the checks matters: the header's own fields (CSRC count,
 * extension length) give the payload's start; the padding count is read
 * only once the packet is known to be longer than the header, and taken
 * off only when it leaves the payload's start within the packet.  All
 * arithmetic is on sizes already known to be in range, so nothing wraps. */
#include "media/rtpin.h"

#include <errno.h>

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int rtpin_parse(const uint8_t *buf, size_t len, struct rtpin *ret)
{
	size_t off, end = len, pad = 0;
	unsigned cc;

	if (!buf || len < RTPIN_HEADER || buf[0] >> 6 != 2)
		return -EBADMSG;
	/* RTCP multiplexed on the port (RFC 5761 §4): SR, RR, SDES, BYE,
	 * APP are 200..204 where RTP has its marker and payload type. */
	if (buf[1] >= 200 && buf[1] <= 204)
		return -EBADMSG;
	cc = buf[0] & 0x0f;
	off = RTPIN_HEADER + 4u * cc;
	if (off > len)
		return -EBADMSG;
	if (buf[0] & 0x10) {
		size_t words;

		/* RFC 3550 §5.3.1: 16 bits defined by profile, 16 bits of
		 * length in 32-bit words, not counting these four bytes. */
		if (len - off < 4)
			return -EBADMSG;
		words = (size_t)buf[off + 2] << 8 | buf[off + 3];
		off += 4;
		if (len - off < 4 * words)
			return -EBADMSG;
		off += 4 * words;
	}
	if (buf[0] & 0x20) {
		/* RFC 3550 §5.1: the last octet counts the padding, itself
		 * included, so it is at least 1; it cannot reach into the
		 * header. */
		if (len == off)
			return -EBADMSG;
		pad = buf[len - 1];
		if (pad == 0 || pad > len - off)
			return -EBADMSG;
		end = len - pad;
	}
	ret->pt = buf[1] & 0x7f;
	ret->marker = buf[1] & 0x80;
	ret->seq = (uint16_t)(buf[2] << 8 | buf[3]);
	ret->ts = be32(buf + 4);
	ret->ssrc = be32(buf + 8);
	ret->csrc_count = cc;
	ret->extension = buf[0] & 0x10;
	ret->padding = pad;
	ret->payload = buf + off;
	ret->payload_len = end - off;
	return 0;
}

int rtpin_ts_packet(const uint8_t *p, size_t len, struct rtpin_ts *ret)
{
	unsigned afc, aflen, flags = 0;

	if (!p || len < RTPIN_TS || p[0] != 0x47)
		return -EBADMSG;
	afc = (p[3] >> 4) & 3;
	if (afc == 0)
		return -EBADMSG; /* §2.4.3.3: reserved */
	if (afc & 2) {
		/* §2.4.3.5: the field follows the 4-byte header; with no
		 * payload it fills the packet (183), with one it leaves at
		 * least a byte (182). */
		aflen = p[4];
		if (afc == 2 ? aflen != 183 : aflen > 182)
			return -EBADMSG;
		if (aflen > 0)
			flags = p[5];
		/* A PCR takes 6 bytes after the flags. */
		if ((flags & 0x10) && aflen < 7)
			return -EBADMSG;
	}
	ret->pid = (unsigned)(p[1] & 0x1f) << 8 | p[2];
	ret->unit_start = p[1] & 0x40;
	ret->pcr = flags & 0x10;
	ret->random_access = flags & 0x40;
	ret->discontinuity = flags & 0x80;
	return 0;
}

int rtpin_event(const struct rtpin *r, struct rtpin_event *ret)
{
	const uint8_t *p = r->payload;

	if (!p || r->payload_len < 4)
		return -EBADMSG;
	ret->event = p[0];
	ret->end = p[1] & 0x80;
	ret->volume = p[1] & 0x3f;
	ret->duration = (unsigned)p[2] << 8 | p[3];
	return 0;
}
