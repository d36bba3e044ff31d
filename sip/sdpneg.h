/* SDP offer/answer for tvspace (RFC 3264, RFC 4566): reads a terminal's
 * offer into the core's struct space_offer and prints the answer for a
 * channel, both with sofia-sip's sdp module.  Called by the SIP adapter. */
#ifndef TVSPACE_SDPNEG_H
#define TVSPACE_SDPNEG_H

#include <stddef.h>
#include <stdint.h>
#include <sofia-sip/su_alloc.h>

#include "server/space.h"

struct channel;

/** The largest offer read, in bytes (a terminal's is well under 2 KiB);
 * a larger one is refused with 413 before it is parsed. */
#define SDPNEG_MAX_LEN 16384

/** The most m= lines an offer may have: RFC 3264 §6 answers each one. */
#define SDPNEG_MAX_MEDIA 16

/** Read @a len bytes of SDP into @a ret; strings are allocated in @a home.
 * Every m= line is read into ret->lines, in order; the first audio or
 * video one is also in the scalar fields (the line a one-stream channel is
 * served on).  Returns 0, or -EBADMSG with a reason for the Warning in
 * @a ret_error. */
int sdpneg_parse_offer(su_home_t *home, const char *sdp, size_t len,
		       struct space_offer *ret, const char **ret_error);

/** Everything an answer says. */
struct sdpneg_answer {
	uint64_t session_id;     /* o= id, stable for a member's dialog */
	uint64_t version;        /* o= version, +1 on every new answer */
	const char *origin_addr; /* our address for o= */
	const struct channel *channel;
	enum space_delivery delivery;
	unsigned pt;
	const char *relay_addr; /* relay: our address and RTP port */
	unsigned relay_port;
	const char *session_name; /* s= */
	unsigned event_pt;        /* relay: telephone-event PT taken, or 0 */
	/* RFC 3264 §6.2: a multicast stream is answered with the offer's own
	 * group and port.  An offer of another group than the channel's is
	 * answered refused (port 0) at that group, and the channel is offered
	 * in a re-INVITE. */
	const char *refused_group;
	/* RFC 3264 §6: the answer has as many m= lines as the offer, in its
	 * order; the lines the server does not serve are refused (port 0).
	 * NULL: the server's own offer (a line a stream). */
	const struct space_offer *offer;
	/* A CHANNEL_STREAMS channel: what the member's session agreed, by
	 * media type (relay: the formats listed on each line), and the relay
	 * port of each; NULL: each stream at its own payload type. */
	const struct space_streams *streams;
	unsigned stream_ports[2];
};

/** Print the answer, allocated in @a home; NULL on failure. */
char *sdpneg_answer(su_home_t *home, const struct sdpneg_answer *a);

#endif
