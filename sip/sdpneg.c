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
#include <stdlib.h>
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

static bool is_event(const sdp_rtpmap_t *rm)
{
	return rm->rm_encoding &&
	       su_casematch(rm->rm_encoding, "telephone-event");
}

/* One m= line as the core reads it (space_offer_line); NULL on OOM. */
static int read_line(su_home_t *home, const sdp_session_t *s,
		     const sdp_media_t *m, struct space_offer_line *ret)
{
	const sdp_connection_t *c =
	    m->m_connections ? m->m_connections : s->sdp_connection;
	struct space_offer_line x = {0};
	struct space_format formats[SPACE_MAX_FORMATS];

	x.media = su_strdup(home, m->m_type_name ? m->m_type_name : "-");
	x.proto =
	    su_strdup(home, m->m_proto_name ? m->m_proto_name : "RTP/AVP");
	x.port = m->m_port <= 65535 ? (unsigned)m->m_port : 0;
	x.rtp = m->m_proto == sdp_proto_rtp && c && c->c_address &&
		m->m_port <= 65535;
	x.addr = c && c->c_address ? su_strdup(home, c->c_address) : NULL;
	x.multicast = c && c->c_address && is_multicast(c->c_address);
	x.recvonly = m->m_mode == sdp_recvonly;
	if (m->m_format && m->m_format->l_text)
		x.first_format = su_strdup(home, m->m_format->l_text);
	for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
		struct space_format *f;

		if (!x.first_format) {
			char pt[8];

			snprintf(pt, sizeof(pt), "%u", rm->rm_pt);
			x.first_format = su_strdup(home, pt);
		}
		if (is_event(rm) || x.n_formats >= SPACE_MAX_FORMATS)
			continue;
		f = &formats[x.n_formats++];
		f->pt = rm->rm_pt;
		f->encoding = rm->rm_encoding && *rm->rm_encoding
				  ? su_strdup(home, rm->rm_encoding)
				  : NULL;
		f->clock = rm->rm_rate <= 1000000 ? (unsigned)rm->rm_rate : 0;
		/* RFC 4566 §6: the encoding parameters of audio are its
		 * channels */
		f->channels = rm->rm_params && *rm->rm_params
				  ? (unsigned)strtoul(rm->rm_params, NULL, 10)
				  : 0;
		if (f->channels > 255)
			f->channels = 0;
		f->fmtp = rm->rm_fmtp ? su_strdup(home, rm->rm_fmtp) : NULL;
	}
	if (!x.first_format)
		x.first_format = su_strdup(home, "0");
	if (!x.media || !x.proto || !x.first_format)
		return -ENOMEM;
	if (x.n_formats) {
		size_t size = x.n_formats * sizeof(formats[0]);
		struct space_format *copy = su_alloc(home, (isize_t)size);

		if (!copy)
			return -ENOMEM;
		x.formats = memcpy(copy, formats, size);
	}
	*ret = x;
	return 0;
}

int sdpneg_parse_offer(su_home_t *home, const char *sdp, size_t len,
		       struct space_offer *ret, const char **ret_error)
{
	sdp_parser_t *p;
	sdp_session_t *s;
	const sdp_media_t *m;
	const sdp_connection_t *c;
	struct space_offer o = {0};
	struct space_offer_line *lines = NULL;
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
	if (c->c_addrtype == sdp_addr_ip6 || strchr(c->c_address, ':')) {
		/* The media engine's sockets are IPv4: refused here, before
		 * the host is asked, rather than after it allowed. */
		*ret_error = "IPv6 media addresses are not served, offer IPv4";
		goto out;
	}
	/* RFC 3264 §6: every line is answered, in order. */
	lines = su_zalloc(home, (isize_t)(n * sizeof(*lines)));
	if (!lines) {
		*ret_error = "out of memory";
		err = -ENOMEM;
		goto out;
	}
	n = 0;
	for (const sdp_media_t *x = s->sdp_media; x; x = x->m_next)
		if (read_line(home, s, x, &lines[n++]) < 0) {
			*ret_error = "out of memory";
			err = -ENOMEM;
			goto out;
		}
	o.lines = lines;
	o.n_lines = n;
	o.media =
	    su_strdup(home, m->m_type == sdp_media_video ? "video" : "audio");
	o.port = (unsigned)m->m_port;
	o.addr = su_strdup(home, c->c_address);
	o.multicast = is_multicast(c->c_address) != 0;
	for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
		if (is_event(rm)) {
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

/* A line the server does not serve (RFC 3264 §6): the offer's media and
 * proto, port 0, one of its formats. */
static sdp_media_t *refused_line(su_home_t *home,
				 const struct space_offer_line *x)
{
	sdp_media_t *m = su_zalloc(home, sizeof(*m));
	sdp_list_t *fmt = su_zalloc(home, sizeof(*fmt));

	if (!m || !fmt)
		return NULL;
	m->m_size = sizeof(*m);
	fmt->l_size = sizeof(*fmt);
	fmt->l_text = (char *)x->first_format;
	m->m_type = sdp_media_x;
	m->m_type_name = x->media;
	m->m_proto = sdp_proto_x;
	m->m_proto_name = x->proto;
	m->m_port = 0;
	m->m_format = fmt;
	m->m_mode = sdp_sendrecv; /* nothing said of a refused stream */
	return m;
}

/* The attributes of a served line: the channel, and for a multicast
 * stream from one source RFC 4570 §3's a=source-filter. */
static sdp_attribute_t *line_attrs(su_home_t *home, const struct channel *ch,
				   bool mcast, const char *group,
				   const char *source)
{
	sdp_attribute_t *a = su_zalloc(home, 2 * sizeof(*a));

	if (!a)
		return NULL;
	a[0].a_size = a[1].a_size = sizeof(*a);
	a[0].a_name = "tvspace-channel";
	a[0].a_value = ch->id;
	if (mcast && source) {
		a[1].a_name = "source-filter";
		a[1].a_value =
		    su_sprintf(home, " incl IN IP4 %s %s", group, source);
		a[0].a_next = &a[1];
	}
	return a;
}

static sdp_connection_t *connection(su_home_t *home, const char *addr,
				    bool mcast, unsigned ttl)
{
	sdp_connection_t *c = su_zalloc(home, sizeof(*c));

	if (!c)
		return NULL;
	c->c_size = sizeof(*c);
	c->c_nettype = sdp_net_in;
	c->c_addrtype = strchr(addr, ':') ? sdp_addr_ip6 : sdp_addr_ip4;
	c->c_address = (char *)addr;
	if (mcast) {
		c->c_ttl = ttl ? ttl : 16;
		c->c_mcast = 1;
	}
	return c;
}

/* One stream of a CHANNEL_STREAMS channel on a line: relay, the formats
 * the member's session agreed (RFC 3264 §6.1: a sendonly stream lists
 * what the answerer may send), on our port; multicast, the stream's own
 * format at its group (or, RFC 3264 §6.2, refused at the offer's). */
static sdp_media_t *stream_line(su_home_t *home, const struct sdpneg_answer *a,
				const struct channel_stream *st,
				const struct space_stream *agreed,
				const struct space_offer_line *x)
{
	const struct channel *ch = a->channel;
	bool mcast = a->delivery == SPACE_MULTICAST;
	sdp_media_t *m = su_zalloc(home, sizeof(*m));
	sdp_rtpmap_t *rms, **tail;
	unsigned n = 1;

	if (!m)
		return NULL;
	m->m_size = sizeof(*m);
	m->m_type =
	    st->media == CHANNEL_AUDIO ? sdp_media_audio : sdp_media_video;
	m->m_proto = sdp_proto_rtp;
	m->m_proto_name = "RTP/AVP";
	m->m_mode = mcast ? sdp_recvonly : sdp_sendonly;
	if (!mcast && agreed && agreed->n_formats)
		n = agreed->n_formats;
	rms = su_zalloc(home, (isize_t)(n * sizeof(*rms)));
	if (!rms)
		return NULL;
	tail = &m->m_rtpmaps;
	for (unsigned i = 0; i < n; i++) {
		const struct space_format *f =
		    !mcast && agreed && agreed->n_formats ? &agreed->formats[i]
							  : NULL;
		sdp_rtpmap_t *rm = &rms[i];
		unsigned chans = f ? f->channels : st->channels;

		rm->rm_size = sizeof(*rm);
		rm->rm_pt = (f ? f->pt : st->pt) & 0x7f;
		rm->rm_encoding = f && f->encoding ? f->encoding : st->encoding;
		rm->rm_rate = f ? f->clock : st->clock;
		rm->rm_fmtp = f ? f->fmtp : st->fmtp;
		if (chans)
			rm->rm_params = su_sprintf(home, "%u", chans);
		*tail = rm;
		tail = &rm->rm_next;
	}
	if (mcast) {
		/* RFC 3264 §6.2, as for one stream: the answer to an offer
		 * of other groups refuses them there (refused_group says it
		 * is one), and a re-INVITE offers the channel's. */
		bool other =
		    a->refused_group && x && x->multicast && x->addr &&
		    (!su_strmatch(x->addr, st->group) || x->port != st->port);

		m->m_port = other ? 0 : st->port;
		m->m_connections = connection(home, other ? x->addr : st->group,
					      true, ch->ttl);
		if (!m->m_connections)
			return NULL;
	}
	else {
		m->m_port = a->stream_ports[st->media];
	}
	m->m_attributes =
	    line_attrs(home, ch, mcast && m->m_port, st->group, st->source);
	return m->m_attributes ? m : NULL;
}

/* The lines of an answer (or our offer) for a CHANNEL_STREAMS channel. */
static sdp_media_t *stream_lines(su_home_t *home, const struct sdpneg_answer *a)
{
	const struct channel *ch = a->channel;
	const struct space_offer *o = a->offer;
	sdp_media_t *first = NULL, **tail = &first, *m;

	if (!o || o->none || !o->lines || !a->streams) {
		/* Our own offer: a line a stream, in the channel's order. */
		for (unsigned i = 0;
		     i < ch->n_streams && i < CHANNEL_MAX_STREAMS; i++) {
			const struct channel_stream *st = &ch->streams[i];
			const struct space_stream *s =
			    a->streams ? &a->streams->media[st->media] : NULL;

			m = stream_line(home, a, st,
					s && s->line >= 0 ? s : NULL, NULL);
			if (!m)
				return NULL;
			*tail = m;
			tail = &m->m_next;
		}
		return first;
	}
	for (unsigned l = 0; l < o->n_lines; l++) {
		const struct channel_stream *st = NULL;

		for (unsigned k = 0; k < 2 && !st; k++)
			if (a->streams->media[k].line == (int)l)
				st = catalog_stream_of(ch,
						       (enum channel_media)k);
		m = st ? stream_line(home, a, st, &a->streams->media[st->media],
				     &o->lines[l])
		       : refused_line(home, &o->lines[l]);
		if (!m)
			return NULL;
		*tail = m;
		tail = &m->m_next;
	}
	return first;
}

/* The one line of a one-stream channel (MP2T or G.711). */
static sdp_media_t *plain_line(su_home_t *home, const struct sdpneg_answer *a)
{
	const struct channel *ch = a->channel;
	bool mcast = a->delivery == SPACE_MULTICAST;
	sdp_media_t *m = su_zalloc(home, sizeof(*m));
	sdp_rtpmap_t *rm = su_zalloc(home, 2 * sizeof(*rm));
	sdp_list_t *fmt = su_zalloc(home, 2 * sizeof(*fmt));
	unsigned long rate;
	const char *enc = encoding_of(a->pt, &rate);

	if (!m || !rm || !fmt)
		return NULL;
	m->m_size = sizeof(*m);
	rm[0].rm_size = rm[1].rm_size = sizeof(*rm);
	fmt[0].l_size = fmt[1].l_size = sizeof(*fmt);
	fmt[0].l_text = su_sprintf(home, "%u", a->pt);
	rm[0].rm_pt = a->pt & 0x7f;
	rm[0].rm_encoding = enc ? enc : "unknown";
	rm[0].rm_rate = rate;
	rm[0].rm_predef = a->pt < 96;
	m->m_type =
	    ch->media == CHANNEL_AUDIO ? sdp_media_audio : sdp_media_video;
	m->m_port = a->refused_group ? 0 : mcast ? ch->port : a->relay_port;
	m->m_proto = sdp_proto_rtp;
	m->m_proto_name = "RTP/AVP";
	m->m_rtpmaps = &rm[0];
	m->m_format = &fmt[0];
	/* Multicast: PROTOCOL.md's a=recvonly, the group is received only.
	 * Relay: we send and take nothing back (RFC 3264 §6.1), sendonly. */
	m->m_mode = mcast ? sdp_recvonly : sdp_sendonly;
	if (!mcast && a->event_pt) {
		/* RFC 4733 §7: the member may send us its keys, so the relay
		 * takes RTP back: telephone-event, sendrecv. */
		rm[1].rm_pt = a->event_pt & 0x7f;
		rm[1].rm_encoding = "telephone-event";
		rm[1].rm_rate = 8000;
		rm[1].rm_fmtp = "0-15";
		rm[0].rm_next = &rm[1];
		fmt[1].l_text = su_sprintf(home, "%u", a->event_pt);
		fmt[0].l_next = &fmt[1];
		m->m_mode = sdp_sendrecv;
	}
	m->m_attributes = line_attrs(home, ch, mcast, ch->group, ch->source);
	return m->m_attributes && fmt[0].l_text ? m : NULL;
}

/* A one-stream channel's answer: its line where the offer's first audio
 * or video line is (the one sdpneg_parse_offer() read), the others
 * refused. */
static sdp_media_t *plain_lines(su_home_t *home, const struct sdpneg_answer *a)
{
	const struct space_offer *o = a->offer;
	sdp_media_t *first = NULL, **tail = &first, *m;
	bool served = false;

	if (!o || o->none || !o->lines)
		return plain_line(home, a);
	for (unsigned l = 0; l < o->n_lines; l++) {
		const struct space_offer_line *x = &o->lines[l];
		bool av = su_casematch(x->media, "audio") ||
			  su_casematch(x->media, "video");

		m = av && !served ? plain_line(home, a) : refused_line(home, x);
		served = served || av;
		if (!m)
			return NULL;
		*tail = m;
		tail = &m->m_next;
	}
	return first;
}

char *sdpneg_answer(su_home_t *home, const struct sdpneg_answer *a)
{
	const struct channel *ch = a->channel;
	bool mcast = a->delivery == SPACE_MULTICAST;
	sdp_connection_t origin = {.c_size = sizeof(origin)};
	sdp_origin_t o = {.o_size = sizeof(o)};
	sdp_time_t t = {.t_size = sizeof(t)};
	sdp_session_t s = {.sdp_size = sizeof(s)};
	sdp_printer_t *pr;
	char *text = NULL;

	origin.c_nettype = sdp_net_in;
	origin.c_addrtype =
	    strchr(a->origin_addr, ':') ? sdp_addr_ip6 : sdp_addr_ip4;
	origin.c_address = (char *)a->origin_addr;
	o.o_username = "tvspace";
	o.o_id = a->session_id;
	o.o_version = a->version;
	o.o_address = &origin;

	s.sdp_origin = &o;
	s.sdp_subject = (char *)(a->session_name ? a->session_name : "-");
	s.sdp_information = (char *)ch->name;
	s.sdp_time = &t;
	s.sdp_media = ch->media == CHANNEL_STREAMS ? stream_lines(home, a)
						   : plain_lines(home, a);
	if (!s.sdp_media)
		return NULL;
	if (!mcast) {
		s.sdp_connection = connection(home, a->relay_addr, false, 0);
	}
	else if (ch->media != CHANNEL_STREAMS) {
		s.sdp_connection = connection(
		    home, a->refused_group ? a->refused_group : ch->group, true,
		    ch->ttl);
	}
	else {
		/* The first served line's group for the session; a line of
		 * another group keeps its own c=. */
		for (sdp_media_t *m = s.sdp_media; m; m = m->m_next)
			if (m->m_connections && !s.sdp_connection)
				s.sdp_connection = m->m_connections;
		for (sdp_media_t *m = s.sdp_media; m; m = m->m_next)
			if (m->m_connections &&
			    su_strmatch(m->m_connections->c_address,
					s.sdp_connection->c_address))
				m->m_connections = NULL;
		if (!s.sdp_connection)
			s.sdp_connection =
			    connection(home, ch->group, true, ch->ttl);
	}
	if (!s.sdp_connection)
		return NULL;
	for (sdp_media_t *m = s.sdp_media; m; m = m->m_next)
		m->m_session = &s;

	pr = sdp_print(home, &s, NULL, 0, sdp_f_all_rtpmaps);
	if (sdp_message(pr))
		text = su_strdup(home, sdp_message(pr));
	sdp_printer_free(pr);
	return text;
}
