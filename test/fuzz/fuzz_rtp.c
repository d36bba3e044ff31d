/* Fuzz target: one datagram as the server receives RTP, on a channel's
 * multicast feed or on a relay leg, through media/rtpin.c: rtpin_parse(),
 * then what media.c reads inside: the MP2T packets of the payload
 * (rtpin_ts_packet(), 188 bytes at a time, as the instant-change cache
 * scans them), an RFC 4733 event (rtpin_event()), and what a video leg
 * reads to start at a keyframe (rtpin_vp8(), rtpin_h264()).  Checks what
 * media.c relies on: the payload lies inside the datagram, after the
 * header, its CSRCs and extension, and before the padding; an event has
 * its 4 bytes; a VP8 PictureID media.c rewrites lies inside the payload,
 * with a byte of payload after it. */
#include "media/rtpin.h"
#include "test/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtpin r;
	struct rtpin_event e;
	struct rtpin_video v;

	if (rtpin_is_rtcp(data, size))
		FUZZ_CHECK(rtpin_parse(data, size, &r) < 0);
	if (rtpin_parse(data, size, &r) < 0)
		return 0;
	FUZZ_CHECK(size >= RTPIN_HEADER);
	FUZZ_CHECK(r.pt < 128 && r.csrc_count < 16);
	FUZZ_CHECK(r.payload >= data + RTPIN_HEADER + 4 * r.csrc_count);
	FUZZ_CHECK(r.payload <= data + size);
	FUZZ_CHECK(r.payload_len <= size && r.padding <= size - r.payload_len);
	FUZZ_CHECK(r.payload + r.payload_len + r.padding == data + size);
	FUZZ_CHECK((r.padding > 0) == ((data[0] & 0x20) != 0));
	FUZZ_CHECK(r.extension == ((data[0] & 0x10) != 0));
	/* Every whole TS packet of the payload, whatever its type. */
	for (size_t o = 0; o + RTPIN_TS <= r.payload_len; o += RTPIN_TS) {
		struct rtpin_ts t;

		if (rtpin_ts_packet(r.payload + o, RTPIN_TS, &t) == 0)
			FUZZ_CHECK(t.pid <= 0x1fff);
	}
	if (rtpin_vp8(&r, &v) == 0) {
		FUZZ_CHECK(r.payload_len >= 1);
		if (v.has_picture_id)
			FUZZ_CHECK(v.picture_id_at +
				       (v.wide_picture_id ? 2u : 1u) <
				   r.payload_len);
		FUZZ_CHECK(v.picture_id <
			   (v.wide_picture_id ? 0x8000u : 0x80u));
	}
	if (rtpin_h264(&r, &v) == 0)
		FUZZ_CHECK(r.payload_len >= 1 && !(r.payload[0] & 0x80));
	if (rtpin_event(&r, &e) == 0)
		FUZZ_CHECK(r.payload_len >= 4 && e.event < 256 &&
			   e.volume < 64 && e.duration < 65536);
	return 0;
}
