/* The SIP stack's own floor, for bench/join.sh (CPU per call) and
 * bench/members.sh (memory per dialog held): a user agent on sofia-sip's
 * nua, set up as tvspaced sets up its own (sip/sipua.c: the stack on the
 * loop's thread, nua's media off, ACKs taken by nua, session timers
 * offered, the methods and events tvspaced allows, a 4 MB socket receive
 * buffer), that answers every INVITE at once with 200, the focus Contact
 * and an SDP answer, lets nua answer every BYE, and frees each handle when
 * its dialog is over.  No database, no spaces, no rules: what tvspaced
 * spends beyond this is tvspace's own.  It prints the dialogs it holds
 * ("held N") each second the count has changed.
 *   cc -O2 -o nua_uas bench/nua_uas.c $(pkg-config --cflags --libs
 * sofia-sip-ua)
 *   ./nua_uas PORT            (127.0.0.1:PORT, UDP; runs until killed) */
#include <stdio.h>
#include <stdlib.h>

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

static const char sdp[] = "v=0\r\n"
			  "o=- 1 1 IN IP4 127.0.0.1\r\n"
			  "s=-\r\n"
			  "c=IN IP4 232.10.0.1/16\r\n"
			  "t=0 0\r\n"
			  "m=video 5004 RTP/AVP 33\r\n"
			  "a=rtpmap:33 MP2T/90000\r\n"
			  "a=recvonly\r\n";

static char contact[80];
static long held, said = -1;

static void event(nua_event_t event, int status, char const *phrase, nua_t *nua,
		  nua_magic_t *magic, nua_handle_t *nh, nua_hmagic_t *hmagic,
		  sip_t const *sip, tagi_t tags[])
{
	int state = nua_callstate_init;

	(void)status, (void)phrase, (void)nua, (void)magic, (void)hmagic;
	(void)sip;
	switch (event) {
	case nua_i_invite:
		held++;
		nua_respond(nh, SIP_200_OK, SIPTAG_CONTACT_STR(contact),
			    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
			    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
		break;
	case nua_i_state:
		tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
		if (state == nua_callstate_terminated) {
			held--;
			nua_handle_destroy(nh);
		}
		break;
	default:
		break;
	}
}

static void tick(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic, (void)t, (void)arg;
	if (held != said) {
		printf("held %ld\n", held);
		fflush(stdout);
		said = held;
	}
}

int main(int argc, char **argv)
{
	char url[64];
	su_root_t *root;
	su_timer_t *t;
	nua_t *ua;
	int port = argc == 2 ? atoi(argv[1]) : 0;

	if (port <= 0 || port > 65535) {
		fprintf(stderr, "usage: nua_uas PORT\n");
		return 2;
	}
	snprintf(url, sizeof(url), "sip:127.0.0.1:%d;transport=udp", port);
	snprintf(contact, sizeof(contact), "<sip:space-1@127.0.0.1:%d>;isfocus",
		 port);
	su_init();
	root = su_root_create(NULL);
	su_root_threading(root, 0);
	ua = nua_create(
	    root, event, NULL, NUTAG_URL(url), NUTAG_MEDIA_ENABLE(0),
	    NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1), NUTAG_ENABLEINVITE(1),
	    NUTAG_ENABLEMESSAGE(1), NUTAG_APPL_METHOD("MESSAGE"),
	    NUTAG_APPL_METHOD("INFO"), NUTAG_APPL_METHOD("REFER"),
	    NUTAG_APPL_METHOD("SUBSCRIBE"), NUTAG_APPL_METHOD("OPTIONS"),
	    NUTAG_ALLOW_EVENTS("conference"),
	    NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, "
			"UPDATE, REFER, SUBSCRIBE, NOTIFY"),
	    NUTAG_SESSION_TIMER(1800), NUTAG_MIN_SE(90),
	    TPTAG_UDP_RMEM(4 << 20), TAG_END());
	if (!ua) {
		fprintf(stderr, "nua_uas: cannot listen on %s\n", url);
		return 1;
	}
	t = su_timer_create(su_root_task(root), 1000);
	su_timer_set_for_ever(t, tick, NULL);
	su_root_run(root);
	return 0;
}
