// tvspace over SIP from the browser, with JsSIP: SIP over WebSocket (RFC
// 7118) to Kamailio, which authenticates the user (digest) and passes the
// requests to tvspaced.  A space is one INVITE dialog (receive only: no
// camera, no microphone); commands and comments are MESSAGEs inside it;
// the room's state is a conference subscription (RFC 4575).
import JsSIP from 'jssip';
import { RoomState } from './confinfo.js';

// The text of a Warning header (RFC 3261 §20.43): 399 host "text".
function warningText(msg) {
	const w = msg && msg.getHeader ? msg.getHeader('Warning') : null;
	if (!w)
		return null;
	const m = /"((?:[^"\\]|\\.)*)"/.exec(w);
	return m ? m[1].replace(/\\(.)/g, '$1') : w;
}

// The text of a Reason header (RFC 3326): SIP;cause=200;text="...".
function reasonText(msg) {
	const r = msg && msg.getHeader ? msg.getHeader('Reason') : null;
	if (!r)
		return null;
	const m = /text\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(r);
	return m ? m[1].replace(/\\(.)/g, '$1') : null;
}

function answerOf(response) {
	if (!response)
		return { ok: false, code: 408, why: 'no answer' };
	return {
		ok: response.status_code >= 200 && response.status_code < 300,
		code: response.status_code,
		why: warningText(response) || response.reason_phrase,
	};
}

/** One space: the INVITE dialog and what comes in it. */
export class SpaceCall extends EventTarget {
	constructor(client, target, { channel = null, video = false } = {}) {
		super();
		this.client = client;
		this.target = target;
		this.spaceUri = target.startsWith('sip:space-') ? target : null;
		this.stream = new MediaStream();
		this.state = 'calling';
		this._ended = false;
		const gather = setTimeout(() => {
			// No local description after all this: the browser found
			// no address for media (ICE has no candidate).
			if (this.state === 'calling' && !this._offered)
				this.hangup();
		}, 15000);
		const session = client.ua.call(target, {
			mediaConstraints: { audio: false, video: false },
			pcConfig: {
				iceServers: [],
				bundlePolicy: 'balanced',
				rtcpMuxPolicy: 'require',
			},
			// Comments come as message/cpim, so the author is never
			// guessed from the text.
			extraHeaders: ['Accept: application/sdp, message/cpim, text/plain'],
			sessionTimersExpires: 600,
			eventHandlers: {
				peerconnection: (e) => {
					const pc = e.peerconnection;
					// Receive only: recvonly transceivers, so nothing
					// is captured and no permission is asked for.
					pc.addTransceiver('audio', { direction: 'recvonly' });
					if (video)
						pc.addTransceiver('video', { direction: 'recvonly' });
					pc.addEventListener('track', (t) => {
						this.stream.addTrack(t.track);
						this._emit('track', { track: t.track });
					});
				},
				icecandidate: (e) => {
					// Do not wait for every candidate: the first
					// ones (host, then mDNS) are enough on a LAN.
					clearTimeout(this._iceTimer);
					this._iceTimer = setTimeout(e.ready, 500);
				},
				sdp: (e) => {
					if (e.originator !== 'local')
						return;
					this._offered = true;
					clearTimeout(gather);
					// tvspace's own attribute names the channel to
					// start on (docs/sip-interface.md).
					if (channel && e.type === 'offer')
						e.sdp = e.sdp.replace(/\r\nt=([^\r\n]*)\r\n/,
							`\r\nt=$1\r\na=bc_channel:${channel}\r\n`);
				},
				progress: (e) => {
					if (e.originator === 'remote' && e.response &&
					    e.response.status_code === 180) {
						this.state = 'ringing';
						this._emit('ringing', {});
					}
				},
				accepted: (e) => {
					// The focus's Contact names the space
					// (sip:space-N@host:port;isfocus).
					const contact = e.response && e.response.getHeader('Contact');
					const m = /sips?:(space-\d+)@/.exec(contact || '');
					if (m)
						this.spaceUri = `sip:${m[1]}@${client.domain}`;
				},
				confirmed: () => {
					this.state = 'live';
					this._emit('confirmed', { spaceUri: this.spaceUri });
				},
				failed: (e) => {
					clearTimeout(gather);
					this._finish('failed', {
						code: e.message && e.message.status_code,
						why: warningText(e.message) || reasonText(e.message) ||
							(this._offered ? e.cause : 'the browser found no network address for media'),
						cause: e.cause,
					});
				},
				ended: (e) => {
					this._finish('ended', {
						originator: e.originator,
						why: reasonText(e.message) || e.cause,
						cause: e.cause,
					});
				},
			},
		});
		this.session = session;
	}

	_emit(type, detail) {
		this.dispatchEvent(new CustomEvent(type, { detail }));
	}

	_finish(type, detail) {
		if (this._ended)
			return;
		this._ended = true;
		this.state = 'ended';
		clearTimeout(this._iceTimer);
		for (const t of this.stream.getTracks())
			t.stop();
		this._emit(type, detail);
	}

	/** The RTCPeerConnection (for getStats). */
	get pc() {
		return this.session ? this.session.connection : null;
	}

	/** Whether a MESSAGE request belongs to this dialog. */
	owns(request) {
		return this.session && this.session._dialog &&
			request.call_id === this.session._dialog.id.call_id;
	}

	/**
	 * An in-dialog MESSAGE, text/plain: a command ("/allow 1") or a
	 * comment.  Resolves to {ok, code, why} (why: the Warning's text).
	 */
	send(text) {
		return new Promise((resolve) => {
			if (this.state !== 'live') {
				resolve({ ok: false, code: 0, why: 'not in a space' });
				return;
			}
			this.session.sendRequest(JsSIP.C.MESSAGE, {
				extraHeaders: ['Content-Type: text/plain;charset=UTF-8'],
				body: text,
				eventHandlers: {
					onSuccessResponse: (r) => resolve(answerOf(r)),
					onErrorResponse: (r) => resolve(answerOf(r)),
					onDialogError: (r) => resolve(answerOf(r)),
					onRequestTimeout: () => resolve(answerOf(null)),
					onTransportError: () => resolve({ ok: false, code: 503, why: 'connection lost' }),
				},
			});
		});
	}

	/** Leave (a guest), end the space (the host), or give up asking. */
	hangup() {
		if (this._ended)
			return;
		try {
			this.session.terminate();
		}
		catch (e) {
			this._finish('ended', { originator: 'local', why: 'left', cause: 'Terminated' });
		}
	}
}

/** The conference subscription of a space: 'state' events. */
export class RoomWatch extends EventTarget {
	constructor(client, spaceUri) {
		super();
		this.sub = client.ua.subscribe(spaceUri, 'conference',
			'application/conference-info+xml', { expires: 600 });
		this.room = new RoomState();
		this.refreshing = false;
		this.sub.on('notify', (isFinal, request, body) => {
			const state = body ? this.room.apply(body) : null;
			if (state && state.gap) {
				// A NOTIFY went missing: a refresh brings the whole
				// state (its first NOTIFY is the last one again).
				if (!this.refreshing && !isFinal) {
					this.refreshing = true;
					this.sub.subscribe();
				}
			}
			else if (state) {
				if (state.state === 'full')
					this.refreshing = false;
				this.dispatchEvent(new CustomEvent('state', { detail: state }));
			}
			if (isFinal)
				this.dispatchEvent(new CustomEvent('end', { detail: {} }));
		});
		this.sub.on('terminated', (code, reason) => {
			this.dispatchEvent(new CustomEvent('end', { detail: { code, reason } }));
		});
		this.sub.subscribe();
	}

	stop() {
		try {
			this.sub.terminate();
		}
		catch (e) {
			// already over
		}
	}
}

/** The user's SIP user agent: a WebSocket to Kamailio, no registration. */
export class TvClient extends EventTarget {
	constructor({ wsUrl, domain, user, password }) {
		super();
		this.domain = domain;
		this.user = user;
		const socket = new JsSIP.WebSocketInterface(wsUrl);
		this.ua = new JsSIP.UA({
			sockets: [socket],
			uri: `sip:${user}@${domain}`,
			password,
			realm: domain,
			register: false,
			session_timers: true,
			user_agent: 'tvspace-web JsSIP',
			connection_recovery_min_interval: 2,
			connection_recovery_max_interval: 10,
		});
		this.ua.on('newMessage', (e) => {
			if (e.originator !== 'remote')
				return;
			const r = e.request;
			this.dispatchEvent(new CustomEvent('message', {
				detail: {
					request: r,
					from: r.from && r.from.uri ? r.from.uri.user : '',
					contentType: (r.getHeader('Content-Type') || 'text/plain').toLowerCase(),
					body: r.body || '',
				},
			}));
		});
		this.ua.on('disconnected', () =>
			this.dispatchEvent(new CustomEvent('disconnected')));
		this.ua.on('connected', () =>
			this.dispatchEvent(new CustomEvent('connected')));
	}

	/** Open the WebSocket; resolves once it is up. */
	connect() {
		return new Promise((resolve, reject) => {
			const ok = () => {
				this.ua.removeListener('disconnected', bad);
				resolve();
			};
			const bad = () => {
				this.ua.removeListener('connected', ok);
				reject(new Error('cannot reach the server'));
			};
			this.ua.once('connected', ok);
			this.ua.once('disconnected', bad);
			this.ua.start();
		});
	}

	/**
	 * Ask the proxy for the user's friend list (MESSAGE
	 * sip:friends@DOMAIN, answered by Kamailio from the friends table).
	 * The digest challenge also checks the password: a wrong one
	 * rejects with code 403.
	 */
	friends() {
		return new Promise((resolve, reject) => {
			this.ua.sendMessage(`sip:friends@${this.domain}`, 'friends', {
				contentType: 'text/plain',
				eventHandlers: {
					succeeded: (e) => resolve((e.response.body || '')
						.split('\n').map((s) => s.trim()).filter(Boolean)),
					failed: (e) => {
						const err = new Error(warningText(e.response) || e.cause);
						err.code = e.response ? e.response.status_code : 0;
						reject(err);
					},
				},
			});
		});
	}

	start(channel, video) {
		return new SpaceCall(this, `sip:share@${this.domain}`, { channel, video });
	}

	join(spaceUri, video) {
		return new SpaceCall(this, spaceUri, { video });
	}

	watch(spaceUri) {
		return new RoomWatch(this, spaceUri);
	}

	stop() {
		this.ua.stop();
	}
}
