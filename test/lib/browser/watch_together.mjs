// Two people watch together in headless Chromium (Debian's, driven by
// puppeteer-core): alice starts a space from tvspace's page, bob opens its
// link and asks to join, alice lets him in, both receive the channel
// (getStats: packets and frames growing; the tone's pitch, the picture's
// colour), a comment typed in one page appears in the other, alice
// switches channel and both pages' media change (timed on bob's page),
// she hands the remote to bob, and bob, the host now, ends the space and
// alice's page says so.
// Screenshots of both pages at every step go to OUT.
//
// Environment: BASE_URL (the page, served by Kamailio), OUT (a folder),
// CHROMIUM (/usr/bin/chromium), AUDIO (JSON: the two audio channels,
// [{id, hz}, {id, hz}]), VIDEO (JSON: two or three picture-and-sound
// channels [{id, hz, rgb: [r, g, b]}, ...], the third of another video
// encoding; or empty when the server cannot serve them: then the video
// checks are skipped, saying why in VIDEO_SKIP).
// Exit status: 0 passed, 1 failed, 77 Chromium cannot start here.
import puppeteer from 'puppeteer-core';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const BASE = process.env.BASE_URL || 'http://127.0.0.1:5380/';
const OUT = process.env.OUT || '.';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const AUDIO = JSON.parse(process.env.AUDIO || '[{"id":"music","hz":440},{"id":"kids","hz":660}]');
const VIDEO = process.env.VIDEO ? JSON.parse(process.env.VIDEO) : [];
const VIDEO_SKIP = process.env.VIDEO_SKIP || 'no picture-and-sound channels were given';
const STEP_MS = Number(process.env.STEP_MS || 20000);

const results = { steps: [], figures: {}, failures: [], skipped: [] };
let shot = 0;
let failed = false;

function log(s) {
	console.log(`browser: ${s}`);
}

function fail(s) {
	failed = true;
	results.failures.push(s);
	log(`FAIL: ${s}`);
}

function ok(s) {
	results.steps.push(s);
	log(`ok: ${s}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ Chromium

// The flags that work here; a fresh profile (PROFILE, which the caller
// removes); nothing downloaded.
async function launch() {
	const profile = process.env.PROFILE || mkdtempSync(join(tmpdir(), 'tvspace-chromium-'));
	const args = [
		'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
		'--no-first-run', '--disable-background-networking',
		'--disable-component-update', '--disable-sync',
		`--user-data-dir=${profile}`,
		// The pages play sound and analyse it without a click.
		'--autoplay-policy=no-user-gesture-required',
		// Two pages side by side: neither is throttled as hidden.
		'--disable-background-timer-throttling',
		'--disable-renderer-backgrounding',
		'--disable-backgrounding-occluded-windows',
		'--window-size=1280,900',
	];
	return puppeteer.launch({
		executablePath: CHROMIUM,
		headless: true,
		args,
		ignoreDefaultArgs: ['--enable-automation'],
		defaultViewport: { width: 1280, height: 900 },
		timeout: 30000,
	});
}

async function newPage(browser, name) {
	const ctx = await browser.createBrowserContext();
	const page = await ctx.newPage();
	page.setDefaultTimeout(STEP_MS);
	page.on('console', (m) => {
		if (m.type() === 'error' || m.type() === 'warn')
			log(`${name} console ${m.type()}: ${m.text()}`);
	});
	page.on('pageerror', (e) => fail(`${name}: page error: ${e.message}`));
	page.on('dialog', (d) => d.accept());
	page.tvname = name;
	return page;
}

async function screenshots(label, pages) {
	shot++;
	const n = String(shot).padStart(2, '0');
	for (const p of pages) {
		const file = join(OUT, `${n}-${label}-${p.tvname}.png`);
		await p.screenshot({ path: file, fullPage: true }).catch((e) =>
			log(`screenshot ${file}: ${e.message}`));
	}
}

// ------------------------------------------------------------ the page

async function signIn(page, user, url = BASE) {
	await page.goto(url, { waitUntil: 'load' });
	await page.waitForSelector('body[data-ready="true"]');
	await page.type('#user', user);
	await page.type('#password', 'tvspace');
	await page.click('#sign-in-button');
	await page.waitForSelector('#lobby:not([hidden])');
}

// Click a button of a list the page draws again on every change of the
// room (members, requests): between finding the button and clicking it the
// list may have been drawn again, so the click is retried on the new one.
async function clickInList(page, sel) {
	for (let i = 0; ; i++) {
		try {
			await page.waitForSelector(sel);
			await page.click(sel);
			return;
		}
		catch (e) {
			if (i >= 10 || !/detached|not clickable|no node/i.test(String(e)))
				throw e;
			await new Promise((r) => setTimeout(r, 50));
		}
	}
}

async function textOf(page, sel) {
	return page.$eval(sel, (e) => e.textContent.trim()).catch(() => '');
}

// Until the member list says USER has ROLE.
async function waitRole(page, user, role) {
	await page.waitForSelector(`#members li[data-user="${user}"][data-role="${role}"]`);
}

// Until the page is in the space as ROLE, or says why it is not (a
// refusal, or no media path), which then fails the step with its words.
async function entered(page, role) {
	const h = await page.waitForFunction((u, r) => {
		if (document.querySelector(`#members li[data-user="${u}"][data-role="${r}"]`))
			return 'in';
		return document.getElementById('ended').hidden ? false : 'out';
	}, {}, page.tvuser, role);
	if (await h.jsonValue() === 'out')
		throw new Error(`${page.tvname}: ${await textOf(page, '#ended-h')} ${await textOf(page, '#ended-why')}`);
}

// Receive statistics of the page's peer connection, by kind.
async function stats(page) {
	return page.evaluate(async () => {
		const call = window.tvspace.call;
		const pc = call && call.pc;
		if (!pc)
			return null;
		const out = {};
		const r = await pc.getStats();
		r.forEach((s) => {
			if (s.type !== 'inbound-rtp')
				return;
			const codec = s.codecId && r.get(s.codecId);
			out[s.kind] = {
				packets: s.packetsReceived || 0,
				frames: s.framesDecoded || 0,
				width: s.frameWidth || 0,
				height: s.frameHeight || 0,
				codec: codec ? codec.mimeType : '',
				// the mean time a sample waited in the jitter buffer
				jitterBufferMs: s.jitterBufferEmittedCount
					? Math.round(1000 * s.jitterBufferDelay / s.jitterBufferEmittedCount) : null,
			};
		});
		out.ice = pc.iceConnectionState;
		return out;
	});
}

// Packets (and frames) must be arriving and growing.
async function expectFlowing(page, kind, what) {
	const a = await stats(page);
	await sleep(1500);
	const b = await stats(page);
	const pa = a && a[kind], pb = b && b[kind];
	if (!pa || !pb) {
		fail(`${page.tvname}: no ${kind} stream (${JSON.stringify(b)})`);
		return null;
	}
	const grew = pb.packets > pa.packets && (kind !== 'video' || pb.frames > pa.frames);
	if (!grew || pb.packets === 0)
		fail(`${page.tvname}: ${kind} not growing: ${JSON.stringify(pa)} -> ${JSON.stringify(pb)}`);
	else
		ok(`${page.tvname}: ${what}: ${kind} ${pb.codec} packets ${pa.packets} -> ${pb.packets}` +
			(kind === 'video' ? `, frames ${pa.frames} -> ${pb.frames} (${pb.width}x${pb.height})` : ''));
	return pb;
}

// An analyser on the page's sound, once: the pitch of the loudest tone.
async function installEar(page) {
	await page.evaluate(() => {
		if (window.__ear)
			return;
		const v = document.getElementById('video');
		const ctx = new AudioContext();
		const src = ctx.createMediaStreamSource(v.srcObject);
		const an = ctx.createAnalyser();
		// 4096 samples: 85 ms at 48 kHz, bins of 11.7 Hz.
		an.fftSize = 4096;
		an.smoothingTimeConstant = 0;
		src.connect(an);
		const buf = new Float32Array(an.frequencyBinCount);
		window.__ear = {
			ctx, an,
			pitch() {
				an.getFloatFrequencyData(buf);
				const hz = ctx.sampleRate / an.fftSize;
				let best = -1, bestDb = -Infinity;
				for (let i = Math.floor(200 / hz); i < Math.ceil(2000 / hz); i++)
					if (buf[i] > bestDb) {
						bestDb = buf[i];
						best = i;
					}
				return { hz: best * hz, db: bestDb };
			},
		};
		ctx.resume();
	});
}

// Wait until the page hears @hz (within 3 %); resolves to the wall clock
// of the first window that had it, or null.
async function hears(page, hz, ms = 10000) {
	await installEar(page);
	return page.evaluate(async (want, ms) => {
		const end = performance.now() + ms;
		let last = null;
		while (performance.now() < end) {
			last = window.__ear.pitch();
			if (last.db > -80 && Math.abs(last.hz - want) < Math.max(want * 0.03, 12))
				return { t: Date.now(), hz: last.hz, db: last.db };
			await new Promise((r) => setTimeout(r, 10));
		}
		return { t: null, hz: last && last.hz, db: last && last.db };
	}, hz, ms);
}

// The colour of the picture (the mean of a patch near its top left corner,
// where the test pattern is the channel's plain colour), drawn on a canvas.
async function installEye(page) {
	await page.evaluate(() => {
		if (window.__eye)
			return;
		const v = document.getElementById('video');
		const c = document.createElement('canvas');
		const g = c.getContext('2d', { willReadFrequently: true });
		window.__eye = {
			frames: [],
			colour() {
				if (!v.videoWidth)
					return null;
				c.width = v.videoWidth;
				c.height = v.videoHeight;
				g.drawImage(v, 0, 0);
				const w = Math.max(4, Math.floor(v.videoWidth / 16));
				const d = g.getImageData(Math.floor(w / 2), Math.floor(w / 2), w, w).data;
				let r = 0, gr = 0, b = 0;
				for (let i = 0; i < d.length; i += 4) {
					r += d[i];
					gr += d[i + 1];
					b += d[i + 2];
				}
				const n = d.length / 4;
				return [r / n, gr / n, b / n].map(Math.round);
			},
		};
		// Every decoded frame, with the time it was presented.
		const onFrame = (now, meta) => {
			const col = window.__eye.colour();
			if (col)
				window.__eye.frames.push({ t: performance.timeOrigin + now, col, n: meta.presentedFrames });
			if (window.__eye.frames.length > 2000)
				window.__eye.frames.splice(0, 1000);
			v.requestVideoFrameCallback(onFrame);
		};
		v.requestVideoFrameCallback(onFrame);
	});
}

function near(col, rgb) {
	return col && col.every((x, i) => Math.abs(x - rgb[i]) < 48);
}

// Wait until the picture shows @rgb; resolves to the wall clock of the
// first frame that did, or null.
async function sees(page, rgb, since = 0, ms = 10000) {
	await installEye(page);
	return page.evaluate(async (rgb, since, ms) => {
		const close = (c) => c && c.every((x, i) => Math.abs(x - rgb[i]) < 48);
		const end = performance.now() + ms;
		while (performance.now() < end) {
			const f = window.__eye.frames.find((x) => x.t >= since && close(x.col));
			if (f)
				return { t: f.t, col: f.col };
			await new Promise((r) => setTimeout(r, 20));
		}
		const last = window.__eye.frames[window.__eye.frames.length - 1];
		return { t: null, col: last ? last.col : null };
	}, rgb, since, ms);
}

async function comment(from, to, text) {
	await from.type('#comment-text', text);
	await from.click('#comment-send');
	try {
		await to.waitForFunction((t) => [...document.querySelectorAll('#comments li .text')]
			.some((e) => e.textContent === t), {}, text);
		const who = await to.$$eval('#comments li', (l, t) => {
			const li = l.find((e) => e.querySelector('.text').textContent === t);
			return li ? li.dataset.author : null;
		}, text);
		if (who !== from.tvuser)
			fail(`${to.tvname}: the comment "${text}" is shown as ${who}'s`);
		else
			ok(`${from.tvname} commented "${text}"; ${to.tvname}'s page shows it as ${who}'s`);
	}
	catch (e) {
		fail(`${to.tvname} did not show ${from.tvname}'s comment "${text}"`);
	}
}

// ------------------------------------------------------------ the story

const SWITCHES = Number(process.env.SWITCHES || 6);

function summary(xs) {
	const v = [...xs].sort((a, b) => a - b);
	const mean = v.reduce((a, b) => a + b, 0) / v.length;
	return {
		n: v.length, min: v[0], median: v[Math.floor(v.length / 2)],
		mean: Math.round(mean), max: v[v.length - 1], all: xs,
	};
}

// The host switches back and forth @n times; each time, how long until
// her page has the server's 200 (the command's round trip), and until the
// guest hears (and sees) the new channel.
async function timeSwitches(host, guest, kind, chans, n) {
	const rtt = [], heard = [], seen = [];
	await installEar(guest);
	if (kind === 'av')
		await installEye(guest);
	for (let i = 0; i < n; i++) {
		const to = chans[i % 2];
		await sleep(1000);
		const t0 = await host.evaluate(() => Date.now());
		await host.click(`#channels button[data-channel="${to.id}"]`);
		const h = await hears(guest, to.hz);
		if (kind === 'av') {
			const f = await sees(guest, to.rgb, t0);
			if (f.t)
				seen.push(Math.round(f.t - t0));
			else
				fail(`switch ${i + 1}: bob does not see ${to.id}`);
		}
		const answer = await host.evaluate((id) => {
			const log = window.tvspace.log;
			const c = [...log].reverse().find((e) => e.what === 'command' && e.text === `/switch ${id}`);
			const a = [...log].reverse().find((e) => e.what === 'answer' && e.text === `/switch ${id}`);
			return c && a && a.t >= c.t ? { ms: a.t - c.t, code: a.code } : null;
		}, to.id);
		if (!h.t || !answer || answer.code !== 200) {
			fail(`switch ${i + 1} to ${to.id}: heard ${h.t ? 'yes' : 'no'}, answer ${JSON.stringify(answer)}`);
			continue;
		}
		rtt.push(answer.ms);
		heard.push(h.t - t0);
	}
	const fig = results.figures;
	const st = await stats(guest);
	if (st && st.audio)
		fig[`${kind}_guest_audio_jitter_buffer_ms`] = st.audio.jitterBufferMs;
	if (st && st.video)
		fig[`${kind}_guest_video_jitter_buffer_ms`] = st.video.jitterBufferMs;
	if (rtt.length) {
		fig[`${kind}_switch_command_round_trip_ms`] = summary(rtt);
		fig[`${kind}_switch_to_guest_sound_ms`] = summary(heard);
		ok(`${rtt.length} switches: the host's /switch answered in ${JSON.stringify(summary(rtt))} ms; bob hears the new channel after ${JSON.stringify(summary(heard))} ms`);
	}
	if (seen.length) {
		fig.switch_to_guest_first_frame_ms = summary(seen);
		ok(`${seen.length} switches: bob's first decoded frame of the new channel after ${JSON.stringify(summary(seen))} ms`);
	}
}

// The host switches to a channel of another video encoding (the third of
// VIDEO: H.264 after VP8) and back, with no new offer: the guest's page
// decodes the new encoding (getStats' codec) and shows its colour.  The
// first switch to it finds no cache (nobody watched it yet) and waits for
// its keyframe; the second starts from the cache.
async function otherEncoding(host, guest, chans) {
	const other = chans[2], back = chans[0];
	const times = [];
	for (const to of [other, back, other]) {
		await sleep(1000);
		const t0 = await host.evaluate(() => Date.now());
		await host.click(`#channels button[data-channel="${to.id}"]`);
		const f = await sees(guest, to.rgb, t0);
		if (!f.t) {
			fail(`bob does not see ${to.id} after the switch (${f.col})`);
			return;
		}
		const st = await expectFlowing(guest, 'video', `bob sees ${to.id}`);
		if (to === other) {
			times.push(Math.round(f.t - t0));
			if (!st || !/H264/i.test(st.codec))
				fail(`bob's video on ${to.id} is ${st && st.codec}, not H.264`);
		}
	}
	results.figures.other_encoding_switch_to_guest_first_frame_ms = times;
	ok(`switches between ${back.id} (VP8) and ${other.id} (H.264) without a new offer; bob's first frame of ${other.id} after ${times.join(' ms (no cache yet), then ')} ms`);
}

async function scenario(browser, kind, chans) {
	const host = await newPage(browser, 'alice');
	const guest = await newPage(browser, 'bob');
	host.tvuser = 'alice';
	guest.tvuser = 'bob';
	const both = [host, guest];
	const [first, second] = chans;
	const tag = kind === 'av' ? 'video' : 'audio';

	// alice starts a space on the first channel.
	await signIn(host, 'alice');
	await host.select('#start-channel', first.id);
	await host.click('#start-button');
	await entered(host, 'host');
	const link = await host.$eval('#share-link', (e) => e.value);
	const address = decodeURI(host.url());
	if (!/[?&]space=sip:space-\d+@/.test(link) || address !== link)
		fail(`the page's address ${address} is not the space's link ${link}`);
	else
		ok(`alice started a space; its link is ${link}`);
	await expectFlowing(host, 'audio', `alice hears ${first.id}`);
	if (kind === 'av')
		await expectFlowing(host, 'video', `alice sees ${first.id}`);
	await screenshots(`${tag}-started`, [host]);

	// bob opens the link and asks to join; alice lets him in.
	await signIn(guest, 'bob', link);
	const invited = await guest.$eval('#join-uri', (e) => e.value);
	ok(`bob's page offers to join ${invited}`);
	await guest.click('#join-button');
	await guest.waitForSelector('#pending-controls:not([hidden])');
	await host.waitForSelector('#requests li[data-user="bob"] button.allow');
	ok('alice\'s page shows bob asking to join');
	await screenshots(`${tag}-asking`, both);
	await clickInList(host, '#requests li[data-user="bob"] button.allow');
	await entered(guest, 'guest');
	await waitRole(host, 'bob', 'guest');
	ok('alice allowed bob; both pages list him as a guest, alice as host');
	await expectFlowing(guest, 'audio', `bob hears ${first.id}`);
	if (kind === 'av')
		await expectFlowing(guest, 'video', `bob sees ${first.id}`);
	for (const p of both) {
		if (kind === 'av') {
			const s = await sees(p, first.rgb);
			if (!s.t)
				fail(`${p.tvname} does not see ${first.id}'s colour (${s.col})`);
			else
				ok(`${p.tvname} sees ${first.id}'s colour ${s.col}`);
		}
		const h = await hears(p, first.hz);
		if (!h.t)
			fail(`${p.tvname} does not hear ${first.hz} Hz (loudest ${Math.round(h.hz)} Hz)`);
		else
			ok(`${p.tvname} hears ${Math.round(h.hz)} Hz (${first.id})`);
	}
	await screenshots(`${tag}-together`, both);

	// Comments, both ways.
	await comment(guest, host, 'what a goal');
	await comment(host, guest, 'told you so');
	await screenshots(`${tag}-comments`, both);

	// alice switches; both pages change, bob's timed from her click.
	await installEar(guest);
	if (kind === 'av')
		await installEye(guest);
	const t0 = await host.evaluate(() => Date.now());
	await host.click(`#channels button[data-channel="${second.id}"]`);
	let heardAt = null;
	for (const p of both) {
		const h = await hears(p, second.hz);
		if (!h.t)
			fail(`${p.tvname} does not hear ${second.id} (${second.hz} Hz) after the switch (loudest ${Math.round(h.hz)} Hz)`);
		else
			ok(`${p.tvname} hears ${Math.round(h.hz)} Hz after the switch to ${second.id}`);
		if (p === guest && h.t)
			heardAt = h.t;
	}
	if (heardAt) {
		results.figures[`${tag}_first_switch_to_guest_sound_ms`] = heardAt - t0;
		ok(`switch to bob hearing the new channel: ${heardAt - t0} ms`);
	}
	if (kind === 'av') {
		for (const p of both) {
			const s = await sees(p, second.rgb, p === guest ? t0 : 0);
			if (!s.t)
				fail(`${p.tvname} does not see ${second.id}'s colour after the switch (${s.col})`);
			else
				ok(`${p.tvname} sees ${second.id}'s colour ${s.col} after the switch`);
			if (p === guest && s.t) {
				results.figures.first_switch_to_guest_first_frame_ms = Math.round(s.t - t0);
				ok(`switch to bob's first decoded frame of the new channel: ${Math.round(s.t - t0)} ms`);
			}
		}
		await expectFlowing(guest, 'video', `bob sees ${second.id}`);
	}
	await host.waitForFunction((id) => document.getElementById('video').dataset.channel === id, {}, second.id);
	await guest.waitForFunction((id) => document.getElementById('video').dataset.channel === id, {}, second.id);
	ok(`both pages name ${second.id} as the channel`);
	await screenshots(`${tag}-switched`, both);
	await timeSwitches(host, guest, kind, [first, second], SWITCHES);
	if (kind === 'av' && chans.length > 2)
		await otherEncoding(host, guest, chans);

	// alice hands the remote to bob.
	await clickInList(host, '#members li[data-user="bob"] button.handover');
	await waitRole(host, 'bob', 'host');
	await waitRole(guest, 'bob', 'host');
	await waitRole(guest, 'alice', 'guest');
	await guest.waitForSelector('#host-controls:not([hidden])');
	await host.waitForSelector('#guest-controls:not([hidden])');
	ok('alice handed the remote to bob: bob has the host\'s controls, alice a guest\'s');
	await screenshots(`${tag}-handed-over`, both);

	// bob, the host now, ends the space; alice's page says so.
	await guest.click('#end');
	await host.waitForSelector('#ended:not([hidden])');
	const why = await textOf(host, '#ended-why');
	if (!/space ended by host/.test(why))
		fail(`alice's page says "${why}", not that the host ended the space`);
	else
		ok(`alice's page says: ${why}`);
	await guest.waitForSelector('#ended:not([hidden])');
	ok(`bob's page says: ${await textOf(guest, '#ended-why')}`);
	await screenshots(`${tag}-ended`, both);
	await host.browserContext().close();
	await guest.browserContext().close();
}

// Every other control of the page, on the audio channels: bob hosts
// (family level: quizzes); carol is turned down, then let in and shown the
// comments made before; bob opens the space and erin walks in; erin asks
// for the remote and gets it, then hands it back; bob's quiz is answered by
// carol; carol befriends bob; bob removes erin; carol leaves; bob ends.
// Then frank, with a few minutes of his day left, is warned.
async function controls(browser, chans) {
	const bob = await newPage(browser, 'bob');
	const carol = await newPage(browser, 'carol');
	const erin = await newPage(browser, 'erin');
	bob.tvuser = 'bob';
	carol.tvuser = 'carol';
	erin.tvuser = 'erin';
	const all = [bob, carol, erin];

	await signIn(bob, 'bob');
	await bob.select('#start-channel', chans[0].id);
	await bob.click('#start-button');
	await entered(bob, 'host');
	const link = await bob.$eval('#share-link', (e) => e.value);

	// carol mistypes her password first: Kamailio's digest check says no.
	await carol.goto(link, { waitUntil: 'load' });
	await carol.waitForSelector('body[data-ready="true"]');
	await carol.type('#user', 'carol');
	await carol.type('#password', 'tvspace-not');
	await carol.click('#sign-in-button');
	await carol.waitForSelector('#alert:not([hidden])');
	const wrong = await textOf(carol, '#alert');
	if (!/Wrong user or password/.test(wrong) || !(await carol.$('#sign-in:not([hidden])')))
		fail(`a wrong password gives "${wrong}"`);
	else
		ok(`a wrong password is refused: "${wrong}"`);

	// carol asks; bob says no.
	await signIn(carol, 'carol', link);
	await carol.click('#join-button');
	await bob.waitForSelector('#requests li[data-user="carol"][data-kind="join"] button.deny');
	await clickInList(bob, '#requests li[data-user="carol"] button.deny');
	await carol.waitForSelector('#ended:not([hidden])');
	const denied = await textOf(carol, '#ended-why');
	if (!/declined/.test(denied))
		fail(`carol's page says "${denied}" after the host's no`);
	else
		ok(`bob turned carol down; her page says: ${denied}`);
	await bob.waitForFunction(() => !document.querySelector('#requests li[data-user="carol"]'));
	await screenshots('controls-denied', [bob, carol]);

	// Turned down, carol cannot watch the room's state either.
	const spaceUri = decodeURIComponent(/[?&]space=([^&]+)/.exec(link)[1]);
	const peek = await carol.evaluate((uri) => new Promise((resolve) => {
		const w = window.tvspace.client.watch(uri);
		let members = null;
		w.addEventListener('state', (e) => {
			members = e.detail.members.map((m) => m.user);
		});
		w.addEventListener('end', (e) => resolve({ members, code: e.detail.code }));
		setTimeout(() => resolve({ members, code: 'no answer' }), 8000);
	}), spaceUri);
	if (peek.members)
		fail(`carol, not a member, was shown the room: ${peek.members}`);
	else
		ok(`carol, not a member, is refused the room's state (subscription ended, code ${peek.code})`);

	// bob opens the space: erin walks in without asking.
	await bob.click('#open-close');
	await bob.waitForSelector('#open-close[data-open="true"]');
	ok('bob opened the space');
	await signIn(erin, 'erin', link);
	await erin.click('#join-button');
	await waitRole(erin, 'erin', 'guest');
	await waitRole(bob, 'erin', 'guest');
	if (await bob.$('#requests li[data-user="erin"]'))
		fail('bob was asked about erin in an open space');
	else
		ok('erin joined the open space without bob being asked');
	await bob.click('#open-close');
	await bob.waitForSelector('#open-close[data-open="false"]');
	ok('bob closed the space again');

	// A comment, then carol asks again, is let in, and sees it.
	await comment(bob, erin, 'kick-off soon');
	await carol.click('#back');
	await carol.waitForSelector('#lobby:not([hidden])');
	await carol.click('#join-button');
	await bob.waitForSelector('#requests li[data-user="carol"] button.allow');
	await clickInList(bob, '#requests li[data-user="carol"] button.allow');
	await waitRole(carol, 'carol', 'guest');
	try {
		await carol.waitForFunction(() => [...document.querySelectorAll('#comments li')]
			.some((e) => e.dataset.author === 'bob' && e.querySelector('.text').textContent === 'kick-off soon'));
		ok('carol, let in later, sees bob\'s earlier comment (the history)');
	}
	catch (e) {
		fail('carol does not see the comments made before she came');
	}
	await expectFlowing(carol, 'audio', `carol hears ${chans[0].id}`);
	await screenshots('controls-three', all);

	// erin asks for the remote; bob gives it; she hands it back.
	await erin.click('#grab');
	await bob.waitForSelector('#requests li[data-user="erin"][data-kind="grab"] button.allow');
	await screenshots('controls-grab', [bob, erin]);
	await clickInList(bob, '#requests li[data-user="erin"][data-kind="grab"] button.allow');
	await waitRole(erin, 'erin', 'host');
	await erin.waitForSelector('#host-controls:not([hidden])');
	ok('erin asked for the remote and bob gave it');
	await clickInList(erin, '#members li[data-user="bob"] button.handover');
	await waitRole(bob, 'bob', 'host');
	await bob.waitForSelector('#host-controls:not([hidden])');
	ok('erin handed the remote back to bob');

	// bob's quiz; carol answers; bob ends it and everyone sees the tally.
	await bob.click('#quiz-form-box summary');
	await bob.type('#quiz-question', 'Who scores first?');
	await bob.type('#quiz-answers', 'Home\nAway');
	await bob.click('#quiz-start');
	await carol.waitForSelector('#quiz-now button[data-answer="2"]');
	await erin.waitForSelector('#quiz-now button[data-answer="1"]');
	ok('carol and erin see bob\'s question with its answers');
	await carol.click('#quiz-now button[data-answer="2"]');
	await carol.waitForSelector('#quiz-now button[data-answer="2"][aria-pressed="true"]');
	await screenshots('controls-quiz', all);
	await bob.click('#quiz-end');
	for (const p of all) {
		try {
			await p.waitForFunction(() => /Away: 1/.test(document.getElementById('quiz-result').textContent));
		}
		catch (e) {
			fail(`${p.tvname} does not show the quiz's result`);
		}
	}
	ok(`the quiz's result on every page: ${await textOf(erin, '#quiz-result')}`);

	// carol befriends bob: her friend list (read by Kamailio) has him.
	await clickInList(carol, '#members li[data-user="bob"] button.befriend');
	try {
		await carol.waitForSelector('#friends li[data-user="bob"]');
		ok('carol added bob to her friends; her friend list shows him');
	}
	catch (e) {
		fail('carol\'s friend list does not show bob');
	}

	// bob removes erin; carol leaves; bob ends.
	await clickInList(bob, '#members li[data-user="erin"] button.kick');
	await erin.waitForSelector('#ended:not([hidden])');
	ok(`bob removed erin; her page says: ${await textOf(erin, '#ended-why')}`);
	await carol.click('#leave');
	await carol.waitForSelector('#ended:not([hidden])');
	await bob.waitForFunction(() => !document.querySelector('#members li[data-user="carol"]'));
	ok('carol left; bob\'s page no longer lists her');
	await screenshots('controls-left', all);
	await bob.click('#end');
	await bob.waitForSelector('#ended:not([hidden])');
	ok('bob ended the space');
	for (const p of all)
		await p.browserContext().close();

	// frank has little of his day left: his page warns him.
	const frank = await newPage(browser, 'frank');
	frank.tvuser = 'frank';
	await signIn(frank, 'frank');
	await frank.select('#start-channel', chans[0].id);
	await frank.click('#start-button');
	try {
		await frank.waitForFunction(() => / of playback left today/.test(document.getElementById('alert').textContent));
		ok(`frank's page warns: ${await textOf(frank, '#alert')}; it shows "${await textOf(frank, '#limit')}"`);
	}
	catch (e) {
		fail('frank\'s page shows no daily limit warning');
	}
	await screenshots('controls-limit', [frank]);
	await frank.click('#end');
	await frank.waitForSelector('#ended:not([hidden])');
	await frank.browserContext().close();
}

async function main() {
	let browser;
	try {
		browser = await launch();
	}
	catch (e) {
		log(`SKIP: Chromium cannot start here: ${e.message.split('\n')[0]}`);
		process.exit(77);
	}
	log(`${await browser.version()} on ${BASE}`);
	try {
		await scenario(browser, 'audio', AUDIO);
	}
	catch (e) {
		fail(`audio: ${e.message.split('\n')[0]}`);
	}
	if (process.env.CONTROLS !== '0') {
		try {
			await controls(browser, AUDIO);
		}
		catch (e) {
			fail(`controls: ${e.message.split('\n')[0]}`);
		}
	}
	if (VIDEO.length >= 2 && !failed) {
		try {
			await scenario(browser, 'av', VIDEO);
		}
		catch (e) {
			fail(`video: ${e.message.split('\n')[0]}`);
		}
	}
	else if (VIDEO.length < 2) {
		results.skipped.push(`video: ${VIDEO_SKIP}`);
		log(`SKIP video checks: ${VIDEO_SKIP}`);
	}
	await browser.close();
	writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2));
	log(failed ? 'failed' : 'passed');
	process.exit(failed ? 1 : 0);
}

main();
