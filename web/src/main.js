// The page: sign in, start a space or ask to join one, then the room the
// patent drew (the programme, the members and who holds the remote, the
// host's controls, comments, friends, the quiz, the daily limit).  Plain
// DOM; everything the server says arrives through sipclient.js.
import { TvClient } from './sipclient.js';
import { parseLineup } from './lineup.js';
import { classify, parseCpim } from './notices.js';

const $ = (id) => document.getElementById(id);

// el('li', {class: 'x', dataset: {user: 'bob'}}, 'text', child...)
function el(tag, attrs = {}, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k === 'dataset')
			Object.assign(e.dataset, v);
		else if (k === 'onclick')
			e.addEventListener('click', v);
		else if (k === 'class')
			e.className = v;
		else
			e.setAttribute(k, v === true ? '' : v);
	}
	for (const k of kids)
		if (k !== null && k !== undefined && k !== false)
			e.append(k instanceof Node ? k : String(k));
	return e;
}

const app = {
	domain: 'tvspace.test',
	channels: [],
	client: null,
	call: null,
	watch: null,
	me: null,
	kind: 'audio',     // what this space's channel carries: audio | av
	started: false,    // we started it (host) rather than asked to join
	startChannel: null, // the channel we started it on
	conf: null,        // the last conference-info state
	confAt: 0,
	requests: new Map(), // "join:1" -> {kind, n, user}
	comments: [],
	quiz: null,
	quizResult: null,
	friends: [],
	ended: null,
	log: [],           // what happened, for the test's record
};
window.tvspace = app; // for tests and the curious: the state, read-only use

function record(what, detail = {}) {
	app.log.push({ t: Date.now(), what, ...detail });
}

function status(text) {
	$('status').textContent = text;
}

function alertText(text) {
	const a = $('alert');
	a.textContent = text || '';
	a.hidden = !text;
}

function show(section) {
	for (const id of ['sign-in', 'lobby', 'space', 'ended'])
		$(id).hidden = id !== section;
}

// ---------------------------------------------------------------- start

async function loadConfig() {
	try {
		const r = await fetch('config.json', { cache: 'no-cache' });
		if (r.ok) {
			const c = await r.json();
			if (c.domain)
				app.domain = c.domain;
		}
	}
	catch (e) {
		// the default domain
	}
	try {
		const r = await fetch('lineup.m3u', { cache: 'no-cache' });
		if (r.ok)
			app.channels = parseLineup(await r.text());
	}
	catch (e) {
		app.channels = [];
	}
	const sel = $('start-channel');
	sel.replaceChildren();
	for (const ch of app.channels) {
		const label = `${ch.number} ${ch.name}` +
			(ch.kind ? (ch.kind === 'av' ? ' (picture and sound)' : ' (sound)')
				 : ' (set-top boxes only)');
		sel.append(el('option', { value: ch.id, disabled: !ch.kind }, label));
	}
	const first = app.channels.find((c) => c.kind);
	if (first)
		sel.value = first.id;
}

function invitedSpace() {
	const q = new URLSearchParams(location.search);
	const s = q.get('space');
	if (!s)
		return null;
	const m = /^(?:sip:)?(space-\d+)(?:@([A-Za-z0-9.-]+))?$/.exec(s.trim());
	if (!m)
		return null;
	return {
		uri: `sip:${m[1]}@${m[2] || app.domain}`,
		kind: q.get('media') === 'av' ? 'av' : 'audio',
	};
}

// The page's address with the space in it: what a friend opens to ask to
// join.  ':' and '@' may stand in a query (RFC 3986 §3.4), so the space
// URI is written as it is, readable.
function shareLink() {
	return `${location.origin}${location.pathname}?space=${app.call.spaceUri}&media=${app.kind}`;
}

// ---------------------------------------------------------------- sign in

async function signIn(ev) {
	ev.preventDefault();
	const user = $('user').value.trim();
	const password = $('password').value;
	alertText('');
	$('sign-in-button').disabled = true;
	status('Signing in…');
	const client = new TvClient({
		wsUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
		domain: app.domain, user, password,
	});
	try {
		await client.connect();
		// The friend list is the first request: its digest challenge
		// also tells a wrong password.
		app.friends = await client.friends();
	}
	catch (e) {
		client.stop();
		$('sign-in-button').disabled = false;
		status('');
		alertText(e.code === 403 ? 'Wrong user or password.' :
			`Cannot sign in: ${e.message}`);
		return;
	}
	client.addEventListener('message', (e) => onMessage(e.detail));
	client.addEventListener('disconnected', () => {
		if (app.call && app.call.state !== 'ended')
			status('Connection to the server lost; trying again…');
	});
	client.addEventListener('connected', () => {
		if (app.call && app.call.state !== 'ended')
			status('Connected again.');
	});
	app.client = client;
	app.me = user;
	$('who-name').textContent = user;
	$('who').hidden = false;
	$('sign-in-button').disabled = false;
	record('signed-in', { user });
	toLobby();
}

function signOut() {
	if (app.call)
		app.call.hangup();
	if (app.client)
		app.client.stop();
	app.client = null;
	app.me = null;
	$('who').hidden = true;
	$('password').value = '';
	status('Signed out.');
	show('sign-in');
}

function toLobby() {
	show('lobby');
	renderFriends();
	const inv = invitedSpace();
	if (inv) {
		$('join-uri').value = inv.uri;
		status(`Signed in as ${app.me}. Ask to join ${inv.uri}, or start a space.`);
		$('join-button').focus();
	}
	else {
		status(`Signed in as ${app.me}.`);
		$('start-channel').focus();
	}
}

// ---------------------------------------------------------------- a space

function resetSpace() {
	app.conf = null;
	app.requests.clear();
	app.comments = [];
	app.quiz = null;
	app.quizResult = null;
	app.ended = null;
	$('comments').replaceChildren();
	$('notices').replaceChildren();
	$('notices-panel').hidden = true;
	$('quiz-result').textContent = '';
	$('limit').textContent = '';
	$('now-programme').textContent = '';
	$('share-link').value = '';
}

function enterSpace(call) {
	resetSpace();
	app.call = call;
	const video = $('video');
	video.srcObject = call.stream;
	video.muted = false;
	$('sound').textContent = 'Mute';
	call.addEventListener('track', () => {
		video.srcObject = call.stream;
		video.play().catch(() => {
			status('Press the sound button to hear the space.');
		});
		renderNow();
	});
	call.addEventListener('ringing', () => {
		// The room's state is for members: it comes once the host
		// lets us in.
		status(`Waiting for the host of ${call.spaceUri} to let you in…`);
		record('ringing');
		renderAll();
	});
	call.addEventListener('confirmed', () => {
		record('confirmed', { space: call.spaceUri });
		status(app.started ? `Your space is on. Share its link to watch together.`
				   : `You are in ${call.spaceUri}.`);
		history.replaceState(null, '', shareLink());
		$('share-link').value = shareLink();
		watchRoom();
		renderAll();
		// Keyboard and screen reader users land on the programme.
		$('screen').focus();
	});
	call.addEventListener('failed', (e) => {
		record('failed', e.detail);
		leaveSpace(`${e.detail.code ? e.detail.code + ': ' : ''}${e.detail.why || 'refused'}`,
			app.started ? 'The space did not start.' : 'You are not in the space.');
	});
	call.addEventListener('ended', (e) => {
		record('ended', e.detail);
		// A host who ends the space hears its end from the server (the
		// last NOTIFY); a guest who leaves ends its subscription.
		if (e.detail.originator === 'local' && isHost())
			app.watch = null;
		const why = e.detail.originator === 'local'
			? (isHost() ? 'You ended the space.' : 'You left the space.')
			: `The space has ended: ${e.detail.why || 'the server hung up'}.`;
		leaveSpace(why);
	});
	show('space');
	$('space-name').textContent = app.started ? 'Your space' : 'Space';
	$('now-channel').textContent = 'connecting…';
	renderAll();
}

function watchRoom() {
	if (app.watch || !app.call.spaceUri)
		return;
	$('space-name').textContent = app.call.spaceUri.replace(/^sip:|@.*$/g, '');
	app.watch = app.client.watch(app.call.spaceUri);
	app.watch.addEventListener('state', (e) => {
		const s = e.detail;
		if (s.deleted)
			return;
		app.conf = s;
		app.confAt = s.descAt;
		// Requests the room no longer shows as pending are answered.
		for (const [k, r] of app.requests)
			if (r.kind === 'join' && !s.members.some((m) => m.user === r.user && m.role === 'pending'))
				app.requests.delete(k);
		record('room', { channel: s.space && s.space.channel && s.space.channel.id, members: s.members.map((m) => `${m.user}:${m.role}`).join(',') });
		renderAll();
	});
	app.watch.addEventListener('end', () => {
		app.watch = null;
	});
}

function leaveSpace(why, title) {
	if (app.watch) {
		app.watch.stop();
		app.watch = null;
	}
	app.ended = why;
	$('ended-h').textContent = title || 'The space is over';
	$('ended-why').textContent = why;
	$('video').srcObject = null;
	status(why);
	show('ended');
	$('back').focus();
}

function startSpace(ev) {
	ev.preventDefault();
	const id = $('start-channel').value;
	const ch = app.channels.find((c) => c.id === id);
	if (!ch || !ch.kind) {
		alertText('A browser cannot play that channel; pick another.');
		return;
	}
	alertText('');
	app.started = true;
	app.startChannel = ch;
	app.kind = ch.kind;
	status(`Starting a space on ${ch.name}…`);
	record('start', { channel: id });
	enterSpace(app.client.start(ch.id, ch.kind === 'av'));
}

function joinSpace(ev) {
	ev.preventDefault();
	const raw = $('join-uri').value.trim();
	const m = /^(?:sip:)?(space-\d+)(?:@([A-Za-z0-9.-]+))?$/.exec(raw);
	if (!m) {
		alertText('A space address looks like sip:space-1@' + app.domain + '.');
		return;
	}
	alertText('');
	const uri = `sip:${m[1]}@${m[2] || app.domain}`;
	const inv = invitedSpace();
	app.started = false;
	app.kind = inv && inv.uri === uri ? inv.kind : 'audio';
	status(`Asking to join ${uri}…`);
	record('join', { space: uri });
	enterSpace(app.client.join(uri, app.kind === 'av'));
}

function myRole() {
	if (!app.call)
		return null;
	if (app.conf) {
		const me = app.conf.members.find((m) => m.user === app.me);
		if (me)
			return me.role;
	}
	if (app.call.state === 'live')
		return app.started ? 'host' : 'guest';
	return app.call.state === 'ringing' ? 'pending' : null;
}

function isHost() {
	return myRole() === 'host';
}

// A command in the dialog; a refusal is shown with the server's reason.
async function command(text, done) {
	record('command', { text });
	const r = await app.call.send(text);
	record('answer', { text, code: r.code, why: r.why });
	if (!r.ok)
		alertText(`${text}: ${r.why || 'refused'} (${r.code})`);
	else {
		alertText('');
		if (done)
			status(done);
	}
	return r;
}

// ---------------------------------------------------------------- messages

function onMessage({ request, from, contentType, body }) {
	if (!app.call || !(app.call.owns(request) || /^space-\d+$/.test(from)))
		return;
	if (contentType.startsWith('message/cpim')) {
		const c = parseCpim(body);
		if (c)
			addComment(c.author, c.text, c.time);
		return;
	}
	const n = classify(body);
	record('notice', { kind: n.kind, text: body });
	switch (n.kind) {
	case 'join-request':
	case 'grab-request':
		app.requests.set(`${n.kind}:${n.n}`, { kind: n.kind.split('-')[0], n: n.n, user: n.user });
		status(n.kind === 'join-request' ? `${n.user} asks to join.`
						 : `${n.user} asks for the remote.`);
		break;
	case 'request-gone':
		app.requests.delete(`join-request:${n.n}`);
		addNotice(n.text);
		break;
	case 'quiz':
		app.quiz = { question: n.question, answers: n.answers, mine: null };
		app.quizResult = null;
		addNotice(`Quiz: ${n.question}`);
		break;
	case 'quiz-answer':
		if (app.quiz)
			app.quiz.mine = n.n;
		break;
	case 'quiz-result':
		app.quiz = null;
		app.quizResult = n.text;
		addNotice(`Quiz result: ${n.text}`);
		break;
	case 'limit':
		alertText(n.text);
		addNotice(n.text);
		break;
	default:
		addNotice(n.text);
		if (/ is (on|off) your friend list$/.test(n.text))
			refreshFriends();
	}
	renderAll();
}

function addComment(author, text, time) {
	const when = time ? new Date(time) : new Date();
	app.comments.push({ author, text, when });
	const li = el('li', { dataset: { author } },
		el('span', { class: 'author' }, author === app.me ? 'you' : author), ' ',
		el('time', { datetime: when.toISOString(), class: 'muted' },
			when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })), ' ',
		el('span', { class: 'text' }, text));
	$('comments').append(li);
	li.scrollIntoView({ block: 'nearest' });
}

function addNotice(text) {
	const li = el('li', {}, el('time', { class: 'muted' },
		new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })), ' ', text);
	$('notices').prepend(li);
	$('notices-panel').hidden = false;
}

async function sendComment(ev) {
	ev.preventDefault();
	const input = $('comment-text');
	const text = input.value.trim();
	if (!text)
		return;
	if (text.startsWith('/')) {
		// A comment never starts with '/': that would be a command.
		alertText('A comment cannot start with "/".');
		return;
	}
	input.disabled = true;
	const r = await app.call.send(text);
	input.disabled = false;
	if (r.ok) {
		input.value = '';
		addComment(app.me, text);
		alertText('');
	}
	else
		alertText(`Your comment was not sent: ${r.why} (${r.code})`);
	input.focus();
}

// ---------------------------------------------------------------- friends

async function refreshFriends() {
	if (!app.client)
		return;
	try {
		app.friends = await app.client.friends();
	}
	catch (e) {
		// keep the list we have
	}
	renderFriends();
}

async function addFriend(ev) {
	ev.preventDefault();
	const u = $('friend-user').value.trim();
	if (!u)
		return;
	const r = await command(`/friend ${u}`);
	if (r.ok)
		$('friend-user').value = '';
}

function renderFriends() {
	const inSpace = app.call && app.call.state === 'live';
	const members = new Set(app.conf ? app.conf.members.map((m) => m.user) : []);
	for (const id of ['friends', 'lobby-friends']) {
		const ul = $(id);
		ul.replaceChildren();
		if (!app.friends.length)
			ul.append(el('li', { class: 'muted' }, 'No friends yet.'));
		for (const f of app.friends) {
			const li = el('li', { dataset: { user: f } }, f);
			if (id === 'friends' && members.has(f))
				li.append(' ', el('span', { class: 'badge' }, 'here'));
			if (id === 'friends' && inSpace)
				li.append(' ', el('button', {
					type: 'button', class: 'quiet unfriend',
					'aria-label': `Remove ${f} from your friends`,
					onclick: () => command(`/unfriend ${f}`),
				}, 'Remove'));
			ul.append(li);
		}
	}
	$('friend-form').hidden = !inSpace;
}

// ---------------------------------------------------------------- render

function renderAll() {
	renderNow();
	renderRemote();
	renderRequests();
	renderMembers();
	renderQuiz();
	renderFriends();
}

function renderNow() {
	const s = app.conf && app.conf.space;
	const ch = s && s.channel;
	// Until the room's state comes, the host knows what it started on.
	const started = app.started && app.startChannel;
	const name = ch ? ch.name : started ? started.name
		: (app.call && app.call.state === 'ringing' ? 'waiting for the host' : 'connecting…');
	$('now-channel').textContent = name;
	$('video').dataset.channel = ch ? ch.id : '';
	const prog = s && s.program;
	$('now-programme').textContent = prog && prog.title ? `On now: ${prog.title}` : '';
	const hasVideo = app.call && app.call.stream.getVideoTracks().length > 0;
	$('sound-only').hidden = hasVideo || !app.call || app.call.state !== 'live';
	$('sound-only-name').textContent = name;
	const svc = s && s.service;
	if (svc && svc.dailyLimit) {
		const left = Math.max(0, svc.dailyLimit - svc.playedToday -
			Math.floor((Date.now() - app.confAt) / 1000));
		$('limit').textContent = (left < 120 ? `${left} s` : `${Math.floor(left / 60)} min`) +
			' of playback left today' +
			(svc.capacity ? ` · ${svc.members} of ${svc.capacity} seats` : '');
	}
	else if (svc) {
		$('limit').textContent = svc.capacity ? `${svc.members} of ${svc.capacity} seats` : '';
	}
}

function renderRemote() {
	const role = myRole();
	const host = app.conf && app.conf.members.find((m) => m.role === 'host');
	$('remote-holder').textContent = host
		? (host.user === app.me ? 'You hold the remote.' : `${host.user} holds the remote.`)
		: (app.conf ? 'Nobody holds the remote.' : '');
	$('host-controls').hidden = role !== 'host';
	$('guest-controls').hidden = role !== 'guest';
	$('pending-controls').hidden = role !== 'pending';
	if (role === 'host') {
		const open = app.conf && app.conf.space && app.conf.space.open;
		$('open-close').textContent = open ? 'Close the space (ask me again)'
						   : 'Open the space (let anyone in)';
		$('open-close').dataset.open = open ? 'true' : 'false';
		renderChannels();
	}
	$('quiz-form-box').hidden = role !== 'host';
}

function renderChannels() {
	const cur = app.conf && app.conf.space && app.conf.space.channel;
	const ul = $('channels');
	ul.replaceChildren();
	for (const ch of app.channels) {
		const here = cur && cur.id === ch.id;
		const ok = ch.kind && ch.kind === app.kind;
		const why = !ch.kind ? 'set-top boxes only'
			: (ch.kind !== app.kind ? (ch.kind === 'av' ? 'picture and sound' : 'sound only') : null);
		ul.append(el('li', {},
			el('button', {
				type: 'button',
				'aria-pressed': here ? 'true' : 'false',
				disabled: !ok || here,
				dataset: { channel: ch.id },
				onclick: () => command(`/switch ${ch.id}`, `Switched to ${ch.name}.`),
			}, el('span', { class: 'chno' }, ch.number), ' ', ch.name),
			why ? el('span', { class: 'muted' }, ` (${why})`) : null));
	}
}

function renderRequests() {
	const ul = $('requests');
	ul.replaceChildren();
	const host = isHost();
	for (const [key, r] of app.requests) {
		const what = r.kind === 'join' ? 'asks to join' : 'asks for the remote';
		ul.append(el('li', { dataset: { user: r.user, kind: r.kind, n: String(r.n) } },
			el('strong', {}, r.user), ` ${what} `,
			host ? el('button', {
				type: 'button', class: 'allow',
				'aria-label': `Allow ${r.user}`,
				onclick: async () => {
					const a = await command(`/allow ${r.n}`,
						r.kind === 'join' ? `${r.user} is in.` : `${r.user} holds the remote now.`);
					if (a.ok || a.code === 400) {
						app.requests.delete(key);
						renderRequests();
					}
				},
			}, 'Allow') : null, ' ',
			host ? el('button', {
				type: 'button', class: 'deny',
				'aria-label': `Deny ${r.user}`,
				onclick: async () => {
					const a = await command(`/deny ${r.n}`, `${r.user} was turned down.`);
					if (a.ok || a.code === 400) {
						app.requests.delete(key);
						renderRequests();
					}
				},
			}, 'Deny') : null));
	}
	$('requests-panel').hidden = app.requests.size === 0;
}

function renderMembers() {
	const ul = $('members');
	ul.replaceChildren();
	const members = app.conf ? app.conf.members : [];
	const host = isHost();
	for (const m of members) {
		const li = el('li', { dataset: { user: m.user, role: m.role } },
			el('strong', {}, m.user === app.me ? `${m.name} (you)` : m.name), ' ',
			el('span', { class: `badge ${m.role}` },
				m.role === 'host' ? 'host, holds the remote' : m.role === 'pending' ? 'asking to join' : 'guest'));
		if (m.user !== app.me && m.role !== 'pending') {
			if (host && m.role === 'guest') {
				li.append(' ', el('button', {
					type: 'button', class: 'handover',
					'aria-label': `Hand the remote to ${m.user}`,
					onclick: () => command(`/handover ${m.user}`, `${m.user} holds the remote now.`),
				}, 'Hand the remote'), ' ', el('button', {
					type: 'button', class: 'kick danger',
					'aria-label': `Remove ${m.user} from the space`,
					onclick: () => command(`/kick ${m.user}`, `${m.user} was removed.`),
				}, 'Remove'));
			}
			if (!app.friends.includes(m.user) && app.call.state === 'live')
				li.append(' ', el('button', {
					type: 'button', class: 'quiet befriend',
					'aria-label': `Add ${m.user} to your friends`,
					onclick: () => command(`/friend ${m.user}`),
				}, 'Add friend'));
		}
		ul.append(li);
	}
	if (!members.length)
		ul.append(el('li', { class: 'muted' }, app.call && app.call.state === 'ringing'
			? 'The host has been asked.' : '…'));
}

function renderQuiz() {
	const box = $('quiz-now');
	box.replaceChildren();
	if (app.quiz) {
		box.append(el('p', { class: 'question' }, app.quiz.question));
		const ul = el('ul', { class: 'answers plain' });
		for (const a of app.quiz.answers)
			ul.append(el('li', {}, el('button', {
				type: 'button',
				'aria-pressed': app.quiz.mine === a.n ? 'true' : 'false',
				dataset: { answer: String(a.n) },
				onclick: () => command(`/answer ${a.n}`),
			}, `${a.n}) ${a.text}`)));
		box.append(ul);
	}
	else {
		box.append(el('p', { class: 'muted' }, 'No quiz running.'));
	}
	$('quiz-result').textContent = app.quizResult ? `Result: ${app.quizResult}` : '';
}

async function startQuiz(ev) {
	ev.preventDefault();
	const q = $('quiz-question').value.trim().replace(/\|/g, '/');
	const answers = $('quiz-answers').value.split('\n').map((s) => s.trim().replace(/\|/g, '/')).filter(Boolean);
	if (!q || answers.length < 2) {
		alertText('A quiz needs a question and two answers or more.');
		return;
	}
	const r = await command(`/quiz ${q} | ${answers.join(' | ')}`, 'The quiz is on.');
	if (r.ok) {
		$('quiz-question').value = '';
		$('quiz-answers').value = '';
	}
}

// ---------------------------------------------------------------- wiring

function wire() {
	$('sign-in-form').addEventListener('submit', signIn);
	$('sign-out').addEventListener('click', signOut);
	$('start-form').addEventListener('submit', startSpace);
	$('join-form').addEventListener('submit', joinSpace);
	$('comment-form').addEventListener('submit', sendComment);
	$('friend-form').addEventListener('submit', addFriend);
	$('quiz-form').addEventListener('submit', startQuiz);
	$('quiz-end').addEventListener('click', () => command('/quiz end'));
	$('grab').addEventListener('click', () => command('/grab', 'The host has been asked for the remote.'));
	$('leave').addEventListener('click', () => app.call.hangup());
	$('give-up').addEventListener('click', () => app.call.hangup());
	$('end').addEventListener('click', () => {
		if (confirm('End the space for everyone?'))
			app.call.hangup();
	});
	$('open-close').addEventListener('click', (e) => {
		const open = e.currentTarget.dataset.open === 'true';
		command(open ? '/close' : '/open', open ? 'Joiners are asked again.' : 'Anyone with the link gets in.');
	});
	$('sound').addEventListener('click', () => {
		const v = $('video');
		v.muted = !v.muted;
		if (!v.muted)
			v.play().catch(() => {});
		$('sound').textContent = v.muted ? 'Sound on' : 'Mute';
	});
	$('copy-link').addEventListener('click', async () => {
		try {
			await navigator.clipboard.writeText($('share-link').value);
			status('Link copied.');
		}
		catch (e) {
			$('share-link').select();
			status('Select the link and copy it.');
		}
	});
	$('back').addEventListener('click', () => {
		app.call = null;
		history.replaceState(null, '', location.pathname);
		toLobby();
	});
	setInterval(() => {
		if (app.call && app.call.state === 'live')
			renderNow();
	}, 15000);
}

async function main() {
	wire();
	await loadConfig();
	const inv = invitedSpace();
	if (inv) {
		$('invite-space').textContent = inv.uri;
		$('invite').hidden = false;
	}
	show('sign-in');
	$('user').focus();
	document.body.dataset.ready = 'true';
}

main();
