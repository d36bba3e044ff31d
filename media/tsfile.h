/* A transport stream file played as a live channel (ISO/IEC 13818-1 packets
 * of 188 bytes), paced by its own PCR: each packet is due at the time its
 * position between two PCRs gives it, as a headend's constant-rate
 * multiplexer sent it.  The file plays in a loop; every pass continues the
 * continuity counters of each PID, and the first PCR of a pass carries the
 * discontinuity indicator, so a decoder sees one stream whose clock jumps
 * where it says so.  No clock and no sockets inside: the caller says what
 * time it is and sends the chunks. */
#ifndef TVSPACE_TSFILE_H
#define TVSPACE_TSFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sofia-sip/su_alloc.h>

#define TS_PACKET    188
#define TS_PER_RTP   7         /* RFC 2250 §2: packets in one RTP payload */
#define TS_CLOCK     27000000u /* the PCR's 27 MHz */
#define TS_MAX_BYTES (64u << 20)

struct tsfile;

/** Read and check @a path: whole packets in sync, at least two increasing
 * PCRs on one PID.  0, or -errno with the reason in @a err. */
int tsfile_open(su_home_t *home, const char *path, struct tsfile **ret,
		char *err, size_t errlen);
/** Free @a f; NULL is fine. */
struct tsfile *tsfile_close(struct tsfile *f);

/** Packets in the file, the time one pass lasts (27 MHz) and the rate. */
size_t tsfile_packets(const struct tsfile *f);
uint64_t tsfile_duration(const struct tsfile *f);
uint64_t tsfile_bitrate(const struct tsfile *f);
/** The PID that carries the PCR: the video's, in the streams headends and
 * ffmpeg make; its random_access_indicator marks the keyframes. */
unsigned tsfile_pcr_pid(const struct tsfile *f);

/** When the next chunk is due: the time of its last packet, counted from
 * the start of play over every pass (27 MHz). */
uint64_t tsfile_next_due(const struct tsfile *f);
/** The time of the next packet to send, counted the same way: where play
 * stands (0 for a file not yet played). */
uint64_t tsfile_position(const struct tsfile *f);
/** Copy the next chunk (up to TS_PER_RTP packets, never across the end of
 * a pass) into @a out and move on; its first packet's time goes to
 * @a at.  Returns the bytes copied. */
size_t tsfile_take(struct tsfile *f, uint8_t out[TS_PER_RTP * TS_PACKET],
		   uint64_t *at);

#endif
