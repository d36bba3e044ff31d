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

bool rtpin_is_rtcp(const uint8_t *buf, size_t len)
{
	/* RTCP multiplexed on the port (RFC 5761 §4): its packet types
	 * 192..223 (SR, RR, SDES, BYE, APP, and the feedback a browser
	 * sends, RFC 4585's RTPFB and PSFB: NACK, PLI) are where RTP has its
	 * marker and payload type, and RFC 5761 keeps RTP off them.  Every
	 * RTCP packet is at least its 4-byte header and an SSRC. */
	return buf && len >= 8 && buf[0] >> 6 == 2 && buf[1] >= 192 &&
	       buf[1] <= 223;
}

int rtpin_parse(const uint8_t *buf, size_t len, struct rtpin *ret)
{
	size_t off, end = len, pad = 0;
	unsigned cc;

	if (!buf || len < RTPIN_HEADER || buf[0] >> 6 != 2)
		return -EBADMSG;
	if (rtpin_is_rtcp(buf, len))
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

int rtpin_vp8(const struct rtpin *r, struct rtpin_video *ret)
{
	const uint8_t *p = r->payload;
	size_t n = r->payload_len, off = 1;
	struct rtpin_video v = {0};
	bool start;

	if (!p || n < 1)
		return -EBADMSG;
	/* X R N S R PID: S, the start of a partition, PID its index */
	start = (p[0] & 0x10) && (p[0] & 0x07) == 0;
	if (p[0] & 0x80) {
		uint8_t x;

		if (n < 2)
			return -EBADMSG;
		x = p[1]; /* I L T K RSV */
		off = 2;
		if (x & 0x80) {
			if (n < off + 1)
				return -EBADMSG;
			v.has_picture_id = true;
			v.picture_id_at = off;
			if (p[off] & 0x80) {
				if (n < off + 2)
					return -EBADMSG;
				v.wide_picture_id = true;
				v.picture_id =
				    (unsigned)(p[off] & 0x7f) << 8 | p[off + 1];
				off += 2;
			}
			else {
				v.picture_id = p[off];
				off += 1;
			}
		}
		if (x & 0x40) /* TL0PICIDX */
			off++;
		if (x & 0x30) /* TID Y KEYIDX */
			off++;
	}
	if (n <= off)
		return -EBADMSG;
	/* RFC 7741 §4.3: the P bit of the VP8 payload header is 0 in a key
	 * frame; RFC 6386 §9.1: its 3-byte frame tag is followed by the
	 * start code 9d 01 2a. */
	v.key = start && !(p[off] & 0x01) && n >= off + 10 &&
		p[off + 3] == 0x9d && p[off + 4] == 0x01 && p[off + 5] == 0x2a;
	*ret = v;
	return 0;
}

/* What NAL unit type @a type says: an SPS, a slice. */
static void h264_nal(unsigned type, struct rtpin_video *v)
{
	if (type == 7)
		v->key = true;
	if (type >= 1 && type <= 5)
		v->vcl = true;
}

int rtpin_h264(const struct rtpin *r, struct rtpin_video *ret)
{
	const uint8_t *p = r->payload;
	size_t n = r->payload_len, off;
	struct rtpin_video v = {0};
	unsigned type;

	if (!p || n < 1 || (p[0] & 0x80))
		return -EBADMSG; /* RFC 6184 §5.3: F is 0 */
	type = p[0] & 0x1f;
	switch (type) {
	case 0:
	case 30:
	case 31:
		return -EBADMSG; /* §5.4: unspecified, not to be sent */
	case 24:                 /* STAP-A: (size, NAL unit)... */
	case 25:                 /* STAP-B: DON, then the same */
		off = type == 25 ? 3 : 1;
		if (n < off + 3)
			return -EBADMSG;
		while (off < n) {
			size_t size;

			if (n - off < 2)
				return -EBADMSG;
			size = (size_t)p[off] << 8 | p[off + 1];
			off += 2;
			if (size == 0 || size > n - off)
				return -EBADMSG;
			h264_nal(p[off] & 0x1fu, &v);
			off += size;
		}
		break;
	case 26: /* MTAP16, MTAP24: interleaved; their units are read as
		  * slices, so nothing starts inside one */
	case 27:
		v.vcl = true;
		break;
	case 28: /* FU-A: FU header S E R type */
	case 29: /* FU-B: with its DON */
		if (n < (type == 29 ? 4u : 2u))
			return -EBADMSG;
		if (p[1] & 0x80)
			h264_nal(p[1] & 0x1fu, &v);
		else if ((p[1] & 0x1f) >= 1 && (p[1] & 0x1f) <= 5)
			v.vcl = true;
		break;
	default: /* §5.6: one NAL unit */
		h264_nal(type, &v);
		break;
	}
	*ret = v;
	return 0;
}
