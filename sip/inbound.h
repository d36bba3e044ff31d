/* What a request from the network must pass before sofia-sip's transaction
 * layer sees it: checks run inside the stack's own parser (a copy of its
 * SIP message class, given to nta with NTATAG_MCLASS()), on the Via that
 * says where the answer goes (RFC 3261 §18.2.2).  A request whose answer
 * could not be sent is dropped there; the Via of a request the stack
 * answers statelessly before its own Via processing gets the received= and
 * rport= it would have had (RFC 3261 §18.2.1, RFC 3581 §4).  Used by
 * sip/sipua.c when it creates nua; parsing runs on the one su_root thread.
 * docs/sip-interface.md ("Where answers go, and requests that are never
 * answered") says what is dropped and why. */
#ifndef TVSPACE_INBOUND_H
#define TVSPACE_INBOUND_H

#include <stddef.h>

#include <sofia-sip/msg_types.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/su.h>

/* The biggest request taken in one datagram.  Every answer copies the
 * request's Via, From, To, Call-ID, CSeq and Record-Route and adds a few
 * kilobytes of its own (Contact, Allow, SDP, Warning, challenges): above
 * this the answer may not fit in a datagram (65,507 bytes over IPv4), and
 * a final answer that cannot be sent is what the stack does not survive. */
#define INBOUND_DGRAM_MAX 60000

enum inbound_verdict {
	INBOUND_PASS, /* goes on to the transaction layer */
	INBOUND_DROP  /* no answer could be sent: dropped unanswered */
};

/** The SIP parser with the checks, for NTATAG_MCLASS(): a copy of sofia's
 * default message class as it is at the first call (main extends it with
 * RFC 3325's headers before the SIP adapter starts), made then and kept
 * for the process (nta keeps a pointer to it).  NULL when out of memory. */
msg_mclass_t const *inbound_mclass(void);

/** Check a request's top Via @a v (the request line is @a rq), received
 * from @a from over a datagram of @a dgram_size bytes (0: over a stream).
 * On INBOUND_DROP, @a ret_why says why for a log line.  For a request whose
 * version is not SIP/2.0, which the stack answers with 505 before it
 * examines the Via, received= and rport= are added to @a v here (allocated
 * from @a home, the message's). */
enum inbound_verdict inbound_check(su_home_t *home, sip_request_t const *rq,
				   sip_via_t *v, su_sockaddr_t const *from,
				   size_t dgram_size, const char **ret_why);

#endif
