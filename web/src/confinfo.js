// The room's state from the conference event package (RFC 4575): the
// members with their roles, and tvspace's own panel (the channel, the
// programme, the service's limits) in its namespace.

const CI = 'urn:ietf:params:xml:ns:conference-info';
const TV = 'urn:tvspace:params:xml:ns:space';

function child(parent, ns, name) {
	if (!parent)
		return null;
	for (const c of parent.children)
		if (c.namespaceURI === ns && c.localName === name)
			return c;
	return null;
}

function children(parent, ns, name) {
	return parent ? [...parent.children].filter(
		(c) => c.namespaceURI === ns && c.localName === name) : [];
}

function text(el) {
	return el ? el.textContent.trim() : '';
}

function num(el, name) {
	const v = el ? el.getAttribute(name) : null;
	return v === null || v === '' ? null : Number(v);
}

// The user part of a SIP URI (sip:bob@tvspace.test -> bob).
export function userOf(uri) {
	const m = /^sips?:([^@;>]+)@/.exec(uri || '');
	return m ? decodeURIComponent(m[1]) : uri;
}

/**
 * Parse a conference-info document.  Returns null when it is not one, else
 * {version, state, deleted, space: {...}|null, members: [...]}: members
 * are {user, name, role ('host'|'guest'), status ('connected'|'pending'
 * |...)}.
 */
export function parseConferenceInfo(xml) {
	const doc = new DOMParser().parseFromString(xml, 'application/xml');
	const root = doc.documentElement;
	if (!root || root.namespaceURI !== CI || root.localName !== 'conference-info')
		return null;
	const state = root.getAttribute('state') || 'full';
	const out = {
		entity: root.getAttribute('entity') || '',
		version: num(root, 'version'),
		state,
		deleted: state === 'deleted',
		space: null,
		members: [],
	};
	const desc = child(root, CI, 'conference-description');
	const sp = child(desc, TV, 'space');
	if (sp) {
		const ch = child(sp, TV, 'channel');
		const prog = child(sp, TV, 'program');
		const svc = child(sp, TV, 'service');
		out.space = {
			id: num(sp, 'id'),
			open: sp.getAttribute('open') === 'true',
			started: sp.getAttribute('started'),
			channel: ch ? {
				id: ch.getAttribute('id'),
				number: num(ch, 'number'),
				name: ch.getAttribute('name'),
			} : null,
			program: prog ? {
				title: prog.getAttribute('title'),
				start: prog.getAttribute('start'),
				stop: prog.getAttribute('stop'),
			} : null,
			service: svc ? {
				id: svc.getAttribute('id'),
				level: num(svc, 'level'),
				capacity: num(svc, 'capacity'),
				members: num(svc, 'members'),
				dailyLimit: num(svc, 'daily-limit'),
				playedToday: num(svc, 'played-today'),
			} : null,
		};
	}
	for (const u of children(child(root, CI, 'users'), CI, 'user')) {
		if (u.getAttribute('state') === 'deleted')
			continue;
		const entity = u.getAttribute('entity') || '';
		const role = text(child(child(u, CI, 'roles'), CI, 'entry')) || 'guest';
		const status = text(child(child(u, CI, 'endpoint'), CI, 'status')) ||
			'connected';
		out.members.push({
			user: userOf(entity),
			name: text(child(u, CI, 'display-text')) || userOf(entity),
			role: status === 'pending' ? 'pending' : role,
			status,
		});
	}
	return out;
}
