// The channel list, read from the lineup (M3U, as tvspaced reads it) that
// Kamailio serves beside the page.  A browser plays PCMU/PCMA audio
// channels, and channels of separate audio and video RTP streams
// (tvspace-video, tvspace-audio); the MP2T channels are for set-top boxes.

const BROWSER_VIDEO = ['VP8', 'H264'];
const BROWSER_AUDIO = ['PCMU', 'PCMA', 'OPUS'];

function attrs(extinf) {
	const out = {};
	const re = /([A-Za-z0-9_-]+)="([^"]*)"/g;
	let m;
	while ((m = re.exec(extinf)) !== null)
		out[m[1].toLowerCase()] = m[2];
	return out;
}

// tvspace-media="video audio" tvspace-video="96 VP8/90000 232.20.0.11:5004"
// tvspace-audio="0 PCMU/8000 232.20.0.11:5006": each stream's media,
// payload type and encoding, or null when the channel has none of them.
export function parseStreams(a) {
	const streams = [];
	for (const media of (a['tvspace-media'] || '').split(/\s+/)) {
		const v = a[`tvspace-${media}`];
		if (media !== 'audio' && media !== 'video')
			continue;
		if (v === undefined)
			continue;
		const f = v.trim().split(/\s+/);
		if (f.length !== 3)
			return null;
		const [pt, rtpmap] = f;
		streams.push({
			media,
			pt: Number(pt),
			encoding: rtpmap.split('/')[0].toUpperCase(),
		});
	}
	return streams.length ? streams : null;
}

// What a browser makes of a channel: 'audio' (one audio stream), 'av'
// (audio and video streams), or null (it cannot play it).
function browserKind(a) {
	if (a['tvspace-video'] !== undefined || a['tvspace-audio'] !== undefined) {
		const s = parseStreams(a);
		if (!s)
			return null;
		const ok = s.every((x) =>
			x.media === 'video' ? BROWSER_VIDEO.includes(x.encoding)
					    : BROWSER_AUDIO.includes(x.encoding));
		if (!ok)
			return null;
		return s.some((x) => x.media === 'video') ? 'av' : 'audio';
	}
	if (a['tvspace-media'] === 'audio') {
		const pt = a['tvspace-pt'] === undefined ? 0 : Number(a['tvspace-pt']);
		return pt === 0 || pt === 8 ? 'audio' : null;
	}
	return null; // MP2T (RTP/AVP 33)
}

function deriveId(name) {
	return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

// The channels of M3U @text, in lineup order: {id, number, name, group,
// kind}, kind as browserKind() says.
export function parseLineup(text) {
	const channels = [];
	let pending = null;
	for (const raw of text.split(/\r?\n/)) {
		const line = raw.trim();
		if (line.startsWith('#EXTINF:')) {
			const a = attrs(line);
			const comma = line.indexOf(',', line.lastIndexOf('"') + 1);
			const title = comma >= 0 ? line.slice(comma + 1).trim() : '';
			pending = { a, title };
		}
		else if (line && !line.startsWith('#') && pending) {
			const { a, title } = pending;
			const name = a['tvg-name'] || title || a['tvg-id'] || '';
			const id = a['tvg-id'] || deriveId(name);
			channels.push({
				id,
				number: Number(a['tvg-chno']) || channels.length + 1,
				name: name || id,
				group: a['group-title'] || '',
				kind: browserKind(a),
			});
			pending = null;
		}
	}
	return channels;
}
