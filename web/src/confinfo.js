// The room's state from the conference event package (RFC 4575): the
// members with their roles, and tvspace's own panel (the channel, the
// programme, the service's limits) in its namespace.  The server sends the
// whole state first and then partial documents (RFC 4575 §4.6) that carry
// what changed: RoomState keeps the last document and applies them.

const CI = 'urn:ietf:params:xml:ns:conference-info';
const TV = 'urn:uuid:8a7896b9-8a0b-45bd-aa8f-c66ad19abc2f';

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

/** Replace (or add) @a parent's child named like @a el by a copy of it. */
function replaceChild(doc, parent, el) {
	const copy = doc.importNode(el, true);
	const old = child(parent, el.namespaceURI, el.localName);
	if (old)
		parent.replaceChild(copy, old);
	else
		parent.appendChild(copy);
	return copy;
}

function byEntity(parent, name, entity) {
	return children(parent, CI, name).find(
		(e) => e.getAttribute('entity') === entity) || null;
}

/* A partial element (user or endpoint) updates the one it names: each
 * child it carries replaces the child of that name, an endpoint by its
 * entity the same way. */
function mergePartial(doc, into, from) {
	for (const c of from.children) {
		if (c.namespaceURI === CI && c.localName === 'endpoint') {
			const entity = c.getAttribute('entity');
			const old = byEntity(into, 'endpoint', entity);
			const state = c.getAttribute('state') || 'full';
			if (state === 'deleted') {
				if (old)
					into.removeChild(old);
			}
			else if (state === 'partial' && old)
				mergePartial(doc, old, c);
			else if (old)
				into.replaceChild(doc.importNode(c, true), old);
			else
				into.appendChild(doc.importNode(c, true));
		}
		else
			replaceChild(doc, into, c);
	}
}

/**
 * The state of one subscription.  apply() takes a NOTIFY's body and
 * returns the state as parse() gives it, or {gap: true} when a partial
 * document does not follow the version held (the subscriber refreshes for
 * the whole state), or null when the body is not conference-info.
 */
export class RoomState {
	constructor() {
		this.doc = null;
		this.version = 0;
		// played-today is as of the document that carried the
		// description: when that came.
		this.descAt = 0;
	}

	result() {
		const out = parse(this.doc);
		out.descAt = this.descAt;
		return out;
	}

	apply(xml) {
		const doc = new DOMParser().parseFromString(xml, 'application/xml');
		const root = doc.documentElement;
		if (!root || root.namespaceURI !== CI || root.localName !== 'conference-info')
			return null;
		const version = num(root, 'version');
		const state = root.getAttribute('state') || 'full';
		if (state === 'full' || state === 'deleted') {
			// A full document replaces what was held, whatever version.
			this.doc = doc;
			this.version = version;
			this.descAt = Date.now();
			return this.result();
		}
		if (version !== null && version <= this.version)
			return null; // an old NOTIFY again (a refresh's first)
		if (!this.doc || version !== this.version + 1)
			return { gap: true };
		const held = this.doc.documentElement;
		for (const c of root.children) {
			if (c.namespaceURI !== CI)
				continue;
			if (c.localName !== 'users') {
				if (c.localName === 'conference-description')
					this.descAt = Date.now();
				replaceChild(this.doc, held, c);
				continue;
			}
			let users = child(held, CI, 'users');
			if (!users)
				users = held.appendChild(this.doc.createElementNS(CI, 'users'));
			if ((c.getAttribute('state') || 'full') === 'full') {
				replaceChild(this.doc, held, c);
				continue;
			}
			for (const u of children(c, CI, 'user')) {
				const entity = u.getAttribute('entity');
				const old = byEntity(users, 'user', entity);
				const ustate = u.getAttribute('state') || 'full';
				if (ustate === 'deleted') {
					if (old)
						users.removeChild(old);
				}
				else if (ustate === 'partial' && old)
					mergePartial(this.doc, old, u);
				else if (old)
					users.replaceChild(this.doc.importNode(u, true), old);
				else
					users.appendChild(this.doc.importNode(u, true));
			}
		}
		this.version = version;
		return this.result();
	}
}

/*
 * A whole conference-info document: {version, state, deleted, space:
 * {...}|null, members: [...]}: members are {user, name, role ('host'|
 * 'guest'|'pending'), status ('connected'|'pending'|...)}; those that left
 * (disconnected) are not listed.
 */
function parse(doc) {
	const root = doc.documentElement;
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
	const cstate = child(root, CI, 'conference-state');
	const max = child(desc, CI, 'maximum-user-count');
	const count = child(cstate, CI, 'user-count');
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
				capacity: max ? Number(text(max)) : null,
				members: count ? Number(text(count)) : null,
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
		if (status === 'disconnected')
			continue;
		out.members.push({
			user: userOf(entity),
			name: text(child(u, CI, 'display-text')) || userOf(entity),
			role: status === 'pending' ? 'pending' : role,
			status,
		});
	}
	return out;
}
