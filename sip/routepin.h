/* The route set of a dialog taken up again after a restart or a takeover,
 * kept as stored (RFC 3261 §12.2.1.2: a target refresh does not change the
 * route set).  sofia-sip's nua sends the re-INVITE that takes the dialog
 * up as the first INVITE of a new handle: the stored route set goes out as
 * its preloaded Route (NUTAG_INITIAL_ROUTE), but the 2xx then sets the
 * dialog's route set from its own Record-Route, as for a new dialog (nta's
 * leg_route() with reroute 2), and a proxy that does not record-route
 * re-INVITEs leaves it empty: the ACK and every later request would go
 * straight to the member.  No nua or nta call sets a dialog's route set,
 * and in-dialog requests lose any Route given as a tag; so the 2xx to such
 * a re-INVITE is given the stored route set as its Record-Route while it
 * is parsed (reversed, as nta reverses it for a UAC), and sofia-sip keeps
 * it for the dialog's life.  Called by the SIP adapter on the su_root
 * thread; the parser runs on nua's own thread, hence the lock. */
#ifndef TVSPACE_ROUTEPIN_H
#define TVSPACE_ROUTEPIN_H

#include <sofia-sip/msg_types.h>

/** Wrap the body extraction of @a mc, the message class nua parses with
 * (sip/inbound.c's), once per process.  0, or -ENOMEM. */
int routepin_install(msg_mclass_t *mc);

/** The 2xx to the INVITE of dialog @a call_id gets @a route_set (Route
 * header values, comma separated, in the order requests carry them) as
 * its route set until routepin_drop().  0, -EINVAL, or -ENOMEM. */
int routepin_add(const char *call_id, const char *route_set);

/** Forget @a call_id's pin (the re-INVITE was answered). */
void routepin_drop(const char *call_id);

/** Forget every pin. */
void routepin_clear(void);

/** How many 2xx got their route set from a pin (for the tests). */
unsigned long routepin_applied(void);

#endif
