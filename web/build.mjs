// Builds the page into dist/ (or the folder given): the script bundled
// with JsSIP (esbuild, from the versions pinned in package-lock.json), the
// HTML and the CSS copied.  Nothing is fetched at run time: Kamailio serves
// the folder as it is.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ? resolve(process.argv[2]) : join(here, 'dist');

await mkdir(out, { recursive: true });
await build({
	entryPoints: [join(here, 'src', 'main.js')],
	bundle: true,
	minify: true,
	sourcemap: false,
	format: 'iife',
	platform: 'browser',
	target: ['chrome100', 'firefox100', 'safari15'],
	outfile: join(out, 'app.js'),
	logLevel: 'warning',
	legalComments: 'eof',
});
for (const f of ['index.html', 'app.css'])
	await copyFile(join(here, 'src', f), join(out, f));
console.log(`built ${out}`);
