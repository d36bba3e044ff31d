/* RTP in: the one parser of every RTP packet the server receives (a
 * channel's multicast feed, a relay member's RFC 4733 events), and of what
 * it reads inside them (MP2T packets, telephone events).  Everything here
 * is input from the network: each length is checked against the buffer
 * before a byte is read.  Pure functions, no I/O; called by media.c on the
 * su_root thread, and by the fuzz target test/fuzz/fuzz_rtp.c. */
#ifndef TVSPACE_RTPIN_H
#define TVSPACE_RTPIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTPIN_HEADER 12  /* RFC 3550 §5.1: the fixed header */
#define RTPIN_TS     188 /* ISO/IEC 13818-1: a transport stream packet */

/** One RTP packet (RFC 3550 §5.1), checked.  @a payload points into the
 * buffer given to rtpin_parse() and lives as long as it does. */
struct rtpin {
	unsigned pt; /* payload type, 0..127 */
	bool marker;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	unsigned csrc_count;
	bool extension;
	size_t padding; /* bytes of padding at the end, 0 without the P bit */
	const uint8_t *payload;
	size_t payload_len; /* may be 0 (a packet of padding only) */
};

/** Read the RTP packet of @a len bytes at @a buf into @a ret: version 2;
 * the CSRC list, the header extension and its length within the packet;
 * with the P bit, a padding count of at least 1 that fits after the
 * header; not RTCP (RFC 5761 §4: the second byte 200..204 is an RTCP
 * packet type; RTCP feedback, 205 and 206, is refused too).  0, or
 * -EBADMSG (and @a ret untouched). */
int rtpin_parse(const uint8_t *buf, size_t len, struct rtpin *ret);

/** Whether the @a len bytes at @a buf are an RTCP packet (RFC 5761 §4:
 * version 2, a packet type 192..223 where RTP has its marker and payload
 * type). */
bool rtpin_is_rtcp(const uint8_t *buf, size_t len);

/** What media.c reads of one MP2T packet (ISO/IEC 13818-1 §2.4.3). */
struct rtpin_ts {
	unsigned pid;
	bool unit_start;    /* payload_unit_start_indicator */
	bool pcr;           /* its adaptation field carries a PCR */
	bool random_access; /* random_access_indicator: a keyframe starts */
	bool discontinuity;
};

/** Read the 188-byte transport stream packet at @a p (@a len bytes are
 * there): the sync byte, the adaptation field's length against the packet
 * (§2.4.3.5: 183 with no payload, at most 182 with one) and its flags only
 * when the field has them.  0, or -EBADMSG. */
int rtpin_ts_packet(const uint8_t *p, size_t len, struct rtpin_ts *ret);

/** What media.c reads at the start of a video packet's payload: whether a
 * member switched to the stream may start at it, and the VP8 PictureID it
 * rewrites so that a member's picture ids go on across switches. */
struct rtpin_video {
	bool key; /* a keyframe starts here: VP8, the first packet of a
		   * key frame; H.264, a packet with an SPS (a coded video
		   * sequence starts at it, RFC 6184 §1.3) */
	bool vcl; /* H.264: it carries (a part of) a coded slice */
	bool has_picture_id;  /* VP8: the descriptor has a PictureID */
	bool wide_picture_id; /* of 15 bits (M set), else 7 */
	unsigned picture_id;
	size_t picture_id_at; /* its first byte, from the payload's start */
};

/** Read the VP8 payload descriptor (RFC 7741 §4.2) at the start of @a r's
 * payload and, on a partition's first packet, the frame's key flag (§4.3,
 * with RFC 6386 §9.1's start code for a key frame).  0, or -EBADMSG
 * (a descriptor longer than the payload, or no payload after it). */
int rtpin_vp8(const struct rtpin *r, struct rtpin_video *ret);

/** Read the H.264 NAL units of @a r's payload (RFC 6184 §5.2: a single
 * NAL unit, STAP-A/B, MTAP, FU-A/B): whether one is an SPS (type 7) or a
 * coded slice (1 to 5).  0, or -EBADMSG (an empty payload, a forbidden or
 * reserved type, an aggregation unit past the end). */
int rtpin_h264(const struct rtpin *r, struct rtpin_video *ret);

/** One RFC 4733 telephone event (§2.3: event, E bit, volume, duration). */
struct rtpin_event {
	unsigned event; /* 0..255; 0..15 are the DTMF keys 0-9 * # A-D */
	bool end;
	unsigned volume;
	unsigned duration;
};

/** Read the telephone event at the start of @a r's payload: at least the
 * 4 bytes of one event.  0, or -EBADMSG. */
int rtpin_event(const struct rtpin *r, struct rtpin_event *ret);

#endif
