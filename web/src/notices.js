// What the space says to a member: comments (message/cpim, RFC 3862, which
// the page asks for so a comment is never taken for a notice) and the
// server's text/plain notices (docs/sip-interface.md), sorted into the kinds
// the page shows.

/**
 * A message/cpim body: {author, time, text}, or null.  The author is the
 * user part of the CPIM From URI.
 */
export function parseCpim(body) {
	const sep = body.search(/\r?\n\r?\n/);
	if (sep < 0)
		return null;
	const head = body.slice(0, sep);
	const rest = body.slice(sep).replace(/^\r?\n\r?\n/, '');
	// The encapsulated MIME headers, then the text.
	const sep2 = rest.search(/\r?\n\r?\n/);
	const text = sep2 < 0 ? rest : rest.slice(sep2).replace(/^\r?\n\r?\n/, '');
	let author = null, time = null;
	for (const line of head.split(/\r?\n/)) {
		const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
		if (!m)
			continue;
		if (m[1].toLowerCase() === 'from') {
			const u = /<sips?:([^@>]+)@/.exec(m[2]);
			author = u ? decodeURIComponent(u[1]) : m[2].trim();
		}
		else if (m[1].toLowerCase() === 'datetime') {
			time = m[2].trim();
		}
	}
	return author ? { author, time, text } : null;
}

/**
 * Sort a text/plain notice.  Returns {kind, ...}:
 *   join-request {n, user}, grab-request {n, user}, request-gone {n, user,
 *   why}, quiz {question, answers: [{n, text}]}, quiz-result {text},
 *   quiz-answer {n, text}, limit {text}, notice {text}.
 */
export function classify(text) {
	let m;
	const t = text.trim();
	if ((m = /^(join|grab) request (\d+) from (\S+); reply \/allow \d+ or \/deny \d+$/.exec(t)))
		return { kind: `${m[1]}-request`, n: Number(m[2]), user: m[3], text: t };
	if ((m = /^join request (\d+) from (\S+) (expired|was withdrawn)$/.exec(t)))
		return { kind: 'request-gone', n: Number(m[1]), user: m[2], why: m[3], text: t };
	if ((m = /^quiz result: (.*)$/s.exec(t)))
		return { kind: 'quiz-result', text: m[1] };
	if ((m = /^quiz: (.*) - reply \/answer N$/s.exec(t))) {
		const body = m[1];
		const first = body.search(/(^|\s)1\) /);
		const question = (first < 0 ? body : body.slice(0, first)).trim();
		const answers = [];
		const re = /(\d+)\) (.*?)(?=\s+\d+\) |$)/gs;
		let a;
		const tail = first < 0 ? '' : body.slice(first).trim();
		while ((a = re.exec(tail)) !== null)
			answers.push({ n: Number(a[1]), text: a[2].trim() });
		return { kind: 'quiz', question, answers };
	}
	if ((m = /^your answer: (\d+)\) (.*)$/s.exec(t)))
		return { kind: 'quiz-answer', n: Number(m[1]), text: m[2] };
	if (/ of playback left today$/.test(t))
		return { kind: 'limit', text: t };
	return { kind: 'notice', text: t };
}
