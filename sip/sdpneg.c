/* SDP negotiation: what a terminal offers, and the answer that points it at
 * a channel.  Multicast answers carry the channel's group (RFC 4566 §5.7
 * TTL, RFC 4570 source-filter for SSM); relay answers carry our address. */
#define LOG_MODULE "sdp"
#include "sip/sdpneg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_string.h>

#include "server/catalog.h"

static const char *attr_value(const sdp_attribute_t *list, const char *name)
{
	for (const sdp_attribute_t *a = list; a; a = a->a_next)
		if (a->a_name && su_casematch(a->a_name, name))
			return a->a_value ? a->a_value : "";
	return NULL;
}

/* An attribute from the media level, else the session level. */
static const char *find_attr(const sdp_session_t *s, const sdp_media_t *m,
			     const char *name)
{
	const char *v = attr_value(m->m_attributes, name);

	return v ? v : attr_value(s->sdp_attributes, name);
}

static int is_multicast(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return IN_MULTICAST(ntohl(a4.s_addr));
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_MULTICAST(&a6);
	return 0;
}

static bool is_token(char c)
{
	return isalnum((unsigned char)c) ||
	       (c && strchr("-!#$%&'*+.^_`{|}~", c));
}

/* Characters of [*p, end) that @a ok accepts: how many, and *p past them. */
static size_t span(const char **p, const char *end, bool (*ok)(char))
{
	const char *s = *p;

	while (*p < end && ok(**p))
		(*p)++;
	return (size_t)(*p - s);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_proto(char c)
{
	return c == '/' || is_token(c);
}

static bool is_sp(char c)
{
	return c == ' ';
}

/* Whether the m= line [p, end) (after "m=") is what RFC 4566 §9 says:
 * media SP port ["/" integer] SP proto 1*(SP fmt), tokens all, the proto
 * tokens joined by '/'. */
static bool media_line_ok(const char *p, const char *end)
{
	if (!span(&p, end, is_token) || !span(&p, end, is_sp) ||
	    !span(&p, end, is_digit))
		return false;
	if (p < end && *p == '/' && (++p, !span(&p, end, is_digit)))
		return false;
	if (!span(&p, end, is_sp) || !span(&p, end, is_proto))
		return false;
	while (p < end)
		if (!span(&p, end, is_sp) ||
		    (p < end && !span(&p, end, is_token)))
			return false;
	return true;
}

/* Whether every m= line of @a sdp is well made.  sofia-sip 1.12.11
 * (Debian's) never returns from sdp_parse() when a format of a proto other
 * than RTP/AVP has a character that is not a token's ("m=video 5004
 * RTP/A001:db8::7", "m=audio 4000 RTP0 /AVP 8", "m=video 5004PRT /AVP
 * 33"): it adds empty formats without moving on, until memory runs out.
 * Such an offer must not reach it. */
static bool media_lines_ok(const char *sdp, size_t len)
{
	const char *p = sdp, *end = sdp + len;

	/* The text is not NUL-terminated: no str*() on it. */
	while (p < end) {
		const char *eol = p;

		while (eol < end && *eol != '\r' && *eol != '\n')
			eol++;
		if (eol - p >= 2 && p[0] == 'm' && p[1] == '=' &&
		    !media_line_ok(p + 2, eol))
			return false;
		p = eol;
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
	}
	return true;
}

int sdpneg_parse_offer(su_home_t *home, const char *sdp, size_t len,
		       struct space_offer *ret, const char **ret_error)
{
	sdp_parser_t *p;
	sdp_session_t *s;
	const sdp_media_t *m;
	const sdp_connection_t *c;
	struct space_offer o = {0};
	const char *v;
	unsigned n;
	int err = -EBADMSG;

	if (!sdp || !len) {
		*ret_error = "an SDP offer is required";
		return -EBADMSG;
	}
	if (memchr(sdp, '\0', len)) {
		*ret_error = "NUL byte in SDP";
		return -EBADMSG;
	}
	if (!media_lines_ok(sdp, len)) {
		*ret_error = "malformed m= line";
		return -EBADMSG;
	}
	/* Strict parsing: a terminal that cannot write SDP gets told so
	 * rather than a guess at what it meant. */
	p = sdp_parse(home, sdp, (isize_t)len, sdp_f_strict);
	s = sdp_session(p);
	if (!s) {
		*ret_error = su_strdup(home, sdp_parsing_error(p));
		if (!*ret_error)
			*ret_error = "malformed SDP";
		goto out;
	}
	n = 0;
	for (m = s->sdp_media; m; m = m->m_next)
		n++;
	if (n > SDPNEG_MAX_MEDIA) {
		*ret_error =
		    su_sprintf(home, "more than %u m= lines", SDPNEG_MAX_MEDIA);
		goto out;
	}
	for (m = s->sdp_media; m; m = m->m_next)
		if (m->m_type == sdp_media_video ||
		    m->m_type == sdp_media_audio)
			break;
	if (!m) {
		*ret_error = "no audio or video m= line in the offer";
		goto out;
	}
	if (m->m_proto != sdp_proto_rtp) {
		*ret_error = "only RTP/AVP media can be served";
		goto out;
	}
	c = m->m_connections ? m->m_connections : s->sdp_connection;
	if (!c || !c->c_address) {
		*ret_error = "no c= line for the media";
		goto out;
	}
	if (m->m_port > 65535) {
		*ret_error = "m= port out of range";
		goto out;
	}
	o.media =
	    su_strdup(home, m->m_type == sdp_media_video ? "video" : "audio");
	o.port = (unsigned)m->m_port;
	o.addr = su_strdup(home, c->c_address);
	o.multicast = is_multicast(c->c_address) != 0;
	for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
		if (rm->rm_encoding &&
		    su_casematch(rm->rm_encoding, "telephone-event")) {
			/* RFC 4733 §2.1: the events' clock is the audio's;
			 * the channels are G.711, 8 kHz. */
			if (rm->rm_pt >= 96 && rm->rm_rate == 8000)
				o.event_pt = rm->rm_pt;
		}
		else if (o.n_pts < SPACE_MAX_PT)
			o.pts[o.n_pts++] = rm->rm_pt;
	}
	/* RFC 3264 §6.1: a terminal that only receives sends no keys; the
	 * answer to it is sendonly. */
	o.recvonly = m->m_mode == sdp_recvonly;
	if (o.recvonly)
		o.event_pt = 0;
	if ((v = find_attr(s, m, "bc_service")) && *v)
		o.bc_service = su_strdup(home, v);
	/* The project's own attributes (not ETSI's registered bc_ names);
	 * the older bc_channel and bc_delivery are still read. */
	if (((v = find_attr(s, m, "tvspace-channel")) ||
	     (v = find_attr(s, m, "bc_channel"))) &&
	    *v)
		o.channel = su_strdup(home, v);
	if ((v = find_attr(s, m, "tvspace-delivery")) ||
	    (v = find_attr(s, m, "bc_delivery")))
		o.want_multicast = su_casematch(v, "multicast");
	if (!o.media || !o.addr) {
		*ret_error = "out of memory";
		err = -ENOMEM;
		goto out;
	}
	*ret = o;
	err = 0;
out:
	sdp_parser_free(p);
	return err;
}

static const char *encoding_of(unsigned pt, unsigned long *ret_rate)
{
	*ret_rate = pt == 33 ? 90000 : 8000;
	switch (pt) {
	case 0:
		return "PCMU";
	case 8:
		return "PCMA";
	case 33:
		return "MP2T";
	}
	return NULL;
}

char *sdpneg_answer(su_home_t *home, const struct sdpneg_answer *a)
{
	const struct channel *ch = a->channel;
	bool mcast = a->delivery == SPACE_MULTICAST;
	sdp_connection_t origin = {.c_size = sizeof(origin)};
	sdp_connection_t conn = {.c_size = sizeof(conn)};
	sdp_origin_t o = {.o_size = sizeof(o)};
	sdp_time_t t = {.t_size = sizeof(t)};
	sdp_rtpmap_t rm = {.rm_size = sizeof(rm)};
	sdp_rtpmap_t ev = {.rm_size = sizeof(ev)};
	sdp_list_t fmt_ev = {.l_size = sizeof(fmt_ev)};
	char evstr[12];
	sdp_media_t m = {.m_size = sizeof(m)};
	sdp_session_t s = {.sdp_size = sizeof(s)};
	sdp_attribute_t a_chan = {.a_size = sizeof(a_chan)};
	sdp_attribute_t a_filter = {.a_size = sizeof(a_filter)};
	sdp_printer_t *pr;
	char filter[160], ptstr[8];
	char *text = NULL;
	unsigned long rate;
	const char *enc = encoding_of(a->pt, &rate);
	sdp_list_t fmt = {.l_size = sizeof(fmt)};

	origin.c_nettype = sdp_net_in;
	origin.c_addrtype =
	    strchr(a->origin_addr, ':') ? sdp_addr_ip6 : sdp_addr_ip4;
	origin.c_address = (char *)a->origin_addr;
	o.o_username = "tvspace";
	o.o_id = a->session_id;
	o.o_version = a->version;
	o.o_address = &origin;

	conn.c_nettype = sdp_net_in;
	conn.c_addrtype = sdp_addr_ip4;
	if (mcast) {
		conn.c_address =
		    (char *)(a->refused_group ? a->refused_group : ch->group);
		conn.c_ttl = ch->ttl ? ch->ttl : 16;
		conn.c_mcast = 1;
	}
	else {
		conn.c_addrtype =
		    strchr(a->relay_addr, ':') ? sdp_addr_ip6 : sdp_addr_ip4;
		conn.c_address = (char *)a->relay_addr;
	}

	snprintf(ptstr, sizeof(ptstr), "%u", a->pt);
	fmt.l_text = ptstr;
	rm.rm_pt = a->pt & 0x7f;
	rm.rm_encoding = (char *)(enc ? enc : "unknown");
	rm.rm_rate = rate;
	rm.rm_predef = a->pt < 96;

	m.m_type =
	    ch->media == CHANNEL_AUDIO ? sdp_media_audio : sdp_media_video;
	m.m_port = a->refused_group ? 0 : mcast ? ch->port : a->relay_port;
	m.m_proto = sdp_proto_rtp;
	m.m_proto_name = "RTP/AVP";
	m.m_rtpmaps = &rm;
	m.m_format = &fmt;
	/* Multicast: PROTOCOL.md's a=recvonly, the group is received only.
	 * Relay: we send and take nothing back (RFC 3264 §6.1), sendonly. */
	m.m_mode = mcast ? sdp_recvonly : sdp_sendonly;
	if (!mcast && a->event_pt) {
		/* RFC 4733 §7: the member may send us its keys, so the relay
		 * takes RTP back: telephone-event, sendrecv. */
		ev.rm_pt = a->event_pt & 0x7f;
		ev.rm_encoding = "telephone-event";
		ev.rm_rate = 8000;
		ev.rm_fmtp = "0-15";
		rm.rm_next = &ev;
		snprintf(evstr, sizeof(evstr), "%u", a->event_pt);
		fmt_ev.l_text = evstr;
		fmt.l_next = &fmt_ev;
		m.m_mode = sdp_sendrecv;
	}
	a_chan.a_name = "tvspace-channel";
	a_chan.a_value = (char *)ch->id;
	m.m_attributes = &a_chan;
	if (mcast && ch->source) {
		/* RFC 4570 §3: a=source-filter: incl IN IP4 group source */
		snprintf(filter, sizeof(filter), " incl IN IP4 %s %s",
			 ch->group, ch->source);
		a_filter.a_name = "source-filter";
		a_filter.a_value = filter;
		a_chan.a_next = &a_filter;
	}
	m.m_session = &s;

	s.sdp_origin = &o;
	s.sdp_subject = (char *)(a->session_name ? a->session_name : "-");
	s.sdp_information = (char *)ch->name;
	s.sdp_connection = &conn;
	s.sdp_time = &t;
	s.sdp_media = &m;

	pr = sdp_print(home, &s, NULL, 0, sdp_f_all_rtpmaps);
	if (sdp_message(pr))
		text = su_strdup(home, sdp_message(pr));
	sdp_printer_free(pr);
	return text;
}
