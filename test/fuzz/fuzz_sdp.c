/* Fuzz target: what the server does with an INVITE's SDP offer, as
 * sip/session.c and sip/call.c do it: sdpneg_parse_offer(), the refusals of
 * read_offer() (port 0), the core's choice of service, channel, delivery
 * and payload type for a host starting a space and for a guest joining it,
 * and the answer sdpneg_answer() prints for each.  The catalog is the demo
 * lineup (etc/demo-lineup.m3u) and two channels of separate streams (VP8
 * with Opus, H.264 with PCMU) read by lineup_parse(), with services.
 * Checks: a refusal has a reason for the Warning; an accepted offer has an
 * address and a port that fits; every answer is SDP that sofia-sip's strict
 * parser reads back, on the channel and payload type chosen. */
#include <string.h>

#include <sofia-sip/sdp.h>

#include "server/catalog.h"
#include "server/lineup.h"
#include "server/space.h"
#include "sip/sdpneg.h"
#include "test/fuzz/fuzz.h"

static const char lineup[] =
    "#EXTM3U\n"
    "#EXTINF:-1 tvg-id=\"news\" tvg-name=\"Demo News\" tvg-chno=\"1\" "
    "group-title=\"Demo\",Demo News\n"
    "rtp://@232.10.0.1:5004\n"
    "#EXTINF:-1 tvg-id=\"sports\" tvg-name=\"Demo Sports\" tvg-chno=\"2\" "
    "group-title=\"Demo\",Demo Sports\n"
    "rtp://@232.10.0.2:5004\n"
    "#EXTINF:-1 tvg-id=\"movies\" tvg-name=\"Movies HD\" tvg-chno=\"3\" "
    "group-title=\"Demo\",Movies HD\n"
    "rtp://10.0.0.9@232.10.0.3:5004\n"
    "#EXTINF:-1 tvg-id=\"music\" tvg-name=\"Music Radio\" tvg-chno=\"4\" "
    "tvspace-media=\"audio\" tvspace-pt=\"0\" group-title=\"Radio\",Music "
    "Radio\n"
    "rtp://@232.10.0.4:5004\n"
    "#EXTINF:-1 tvg-id=\"kids\" tvg-name=\"Kids Radio\" tvg-chno=\"5\" "
    "tvspace-media=\"audio\" tvspace-pt=\"8\" group-title=\"Radio\",Kids "
    "Radio\n"
    "rtp://@232.10.0.5:5004\n"
    "#EXTINF:-1 tvg-id=\"red\" tvg-chno=\"11\" tvspace-media=\"video "
    "audio\" tvspace-video=\"96 VP8/90000 232.20.0.11:5004\" "
    "tvspace-audio=\"111 opus/48000/2 232.20.0.11:5006\",Test Red\n"
    "rtp://@232.20.0.11:5004\n"
    "#EXTINF:-1 tvg-id=\"blue\" tvg-chno=\"13\" tvspace-media=\"video "
    "audio\" tvspace-video=\"97 H264/90000 232.20.0.13:5004\" "
    "tvspace-video-fmtp=\"packetization-mode=1;profile-level-id=42c01f\" "
    "tvspace-audio=\"0 PCMU/8000 232.20.0.13:5006\",Test Blue\n"
    "rtp://@232.20.0.13:5004\n";

static su_home_t home[1];
static struct space_mgr *mgr;
static const struct space_service alice = {.id = "svc-alice-basic",
					   .user = "alice",
					   .level = 1,
					   .default_channel = "news"};
static const struct space_service bob = {.id = "svc-bob-premium",
					 .user = "bob",
					 .level = 2,
					 .default_channel = "sports",
					 .package = "news sports music"};
static const struct space_service dave = {
    .id = "svc-dave", .user = "dave", .level = 2, .default_channel = "red"};

static void setup(void)
{
	static const struct level levels[] = {
	    {.level = 1, .name = "basic", .capacity = 4},
	    {.level = 2, .name = "premium", .capacity = 8},
	};
	struct catalog *cat;
	char err[256];

	su_home_init(home);
	cat = catalog_create(home);
	FUZZ_CHECK(cat);
	FUZZ_CHECK(lineup_parse(cat, lineup, sizeof(lineup) - 1, err,
				sizeof(err)) == 0);
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		FUZZ_CHECK(catalog_add_level(cat, &levels[i]) == 0);
	mgr = space_mgr_create(home, cat);
	FUZZ_CHECK(mgr);
}

/* The answer ua_call_sdp() prints for a member, read back strictly: as
 * many m= lines as the offer (RFC 3264 §6), each served one on the
 * channel's stream, at its port, with the payload type chosen. */
static void answer(su_home_t *h, const struct space_offer *o,
		   const struct channel *ch, const struct space_member *m,
		   enum space_delivery delivery, unsigned pt, unsigned event_pt)
{
	struct sdpneg_answer a = {
	    .session_id = 42,
	    .version = 1,
	    .origin_addr = "192.0.2.1",
	    .channel = ch,
	    .delivery = delivery,
	    .pt = pt,
	    .relay_addr = "192.0.2.1",
	    .relay_port = 40000,
	    .session_name = "tvspace space-1",
	    .event_pt = delivery == SPACE_RELAY ? event_pt : 0,
	    .offer = o,
	    .streams = m ? m->streams : NULL,
	    .stream_ports = {40002, 40004},
	};
	char *text = sdpneg_answer(h, &a);
	sdp_parser_t *p;
	sdp_session_t *s;
	unsigned n = 0, served = 0;

	FUZZ_CHECK(text);
	p = sdp_parse(h, text, (isize_t)strlen(text), sdp_f_strict);
	s = sdp_session(p);
	FUZZ_CHECK(s && s->sdp_media);
	for (sdp_media_t *x = s->sdp_media; x; x = x->m_next, n++) {
		if (!x->m_port)
			continue;
		served++;
		FUZZ_CHECK(x->m_rtpmaps);
		if (ch->media != CHANNEL_STREAMS) {
			FUZZ_CHECK(x->m_rtpmaps->rm_pt == pt);
			FUZZ_CHECK(
			    x->m_port ==
			    (delivery == SPACE_MULTICAST ? ch->port : 40000));
		}
		else {
			const struct channel_stream *st = catalog_stream_of(
			    ch, x->m_type == sdp_media_audio ? CHANNEL_AUDIO
							     : CHANNEL_VIDEO);

			FUZZ_CHECK(st);
			FUZZ_CHECK(
			    x->m_port ==
			    (delivery == SPACE_MULTICAST
				 ? st->port
				 : (st->media == CHANNEL_AUDIO ? 40004
							       : 40002)));
		}
	}
	FUZZ_CHECK(o->none || !o->lines || n == o->n_lines);
	FUZZ_CHECK(served >= 1);
	sdp_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	su_home_t h[1] = {SU_HOME_INIT(h)};
	struct space_offer o = {0};
	struct space_plan plan;
	struct space *sp = NULL, *av = NULL;
	struct space_member *m;
	const char *why = NULL;

	if (!mgr)
		setup();
	if (sdpneg_parse_offer(h, (const char *)data, size, &o, &why) < 0) {
		FUZZ_CHECK(why && *why);
		goto out;
	}
	FUZZ_CHECK(o.none || (o.media && o.addr && o.port <= 65535));
	FUZZ_CHECK(o.n_pts <= SPACE_MAX_PT);
	FUZZ_CHECK(o.n_lines >= 1 && o.n_lines <= SDPNEG_MAX_MEDIA);
	for (unsigned i = 0; i < o.n_lines; i++)
		FUZZ_CHECK(o.lines[i].n_formats <= SPACE_MAX_FORMATS &&
			   o.lines[i].media && o.lines[i].first_format);
	if (o.port == 0) /* read_offer(): 488, the stream is refused */
		goto out;
	/* alice starts a space with it ... */
	if (space_plan_start(mgr, "alice", &alice, 0, &o, 1000, &plan) ==
	    SPACE_OK) {
		FUZZ_CHECK(plan.channel);
		FUZZ_CHECK(space_open(mgr, 1, "alice", &alice, 0, &plan, &o,
				      NULL, 1000, 1700000000, &sp) == 0);
		m = space_host(sp);
		FUZZ_CHECK(m && (plan.channel->media != CHANNEL_STREAMS) ==
				    !m->streams);
		answer(h, &o, plan.channel, m, plan.delivery, plan.pt,
		       o.event_pt);
	}
	/* ... or, in a space on news that she started, bob joins with it. */
	else {
		struct space_offer news = {.media = "video",
					   .port = 5004,
					   .addr = "232.10.0.1",
					   .multicast = true,
					   .pts = {33},
					   .n_pts = 1};

		FUZZ_CHECK(space_plan_start(mgr, "alice", &alice, 0, &news,
					    1000, &plan) == SPACE_OK);
		FUZZ_CHECK(space_open(mgr, 1, "alice", &alice, 0, &plan, &news,
				      NULL, 1000, 1700000000, &sp) == 0);
	}
	if (space_join(sp, "bob", &bob, false, &o, NULL, 1001, &m) ==
	    SPACE_OK) {
		FUZZ_CHECK(m->addr && !strcmp(m->addr, o.addr));
		answer(h, &o, space_channel(sp), m, m->delivery, m->pt,
		       o.event_pt);
	}
	/* ... and carol joins a space on the picture-and-sound channel. */
	{
		struct space_offer none = {.none = true, .channel = "red"};

		FUZZ_CHECK(space_plan_start(mgr, "dave", &dave, 0, &none, 1000,
					    &plan) == SPACE_OK);
		FUZZ_CHECK(space_open(mgr, 2, "dave", &dave, 0, &plan, &none,
				      NULL, 1000, 1700000000, &av) == 0);
		if (space_join(av, "carol", NULL, false, &o, NULL, 1001, &m) ==
		    SPACE_OK) {
			FUZZ_CHECK(m->streams);
			FUZZ_CHECK(m->streams->media[0].line >= 0 ||
				   m->streams->media[1].line >= 0);
			FUZZ_CHECK(space_member_can_take(m, space_channel(av)));
			answer(h, &o, space_channel(av), m, m->delivery, m->pt,
			       0);
		}
		space_close(av);
	}
	space_close(sp);
out:
	su_home_deinit(h);
	return 0;
}
