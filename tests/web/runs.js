// runs.js: answers a suspended run through panic-web's form in a real
// headless Chromium (playwright-core, Debian's chromium), for
// tests/520-web-runs.bats.
//
//   node tests/web/runs.js URL RUN OUTDIR
//
// RUN waits at a step whose schema asks {ok: boolean, n: integer, note:
// string?}. The form is sent first with n = 3.5 (refused: the error shows
// next to n and the run still waits), then with n = 7 and ok ticked; the
// browser lands on the run's page, which shows it completed. Screenshots
// each page into OUTDIR. Prints one JSON line of what it saw.
'use strict';
const { drive } = require('./browser');

const [url, run, outdir] = process.argv.slice(2);

drive(outdir, true, async (browser, shot, out) => {
	const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	await page.goto(`${url}/runs`);
	out.message = await page.$eval('.message', (e) => e.textContent);
	await shot(page, 'runs');
	const form = `form[action="/runs/${run}/resume"]`;
	await page.fill(`${form} input[name="f.n"]`, '3.5');
	await page.fill(`${form} input[name="f.note"]`, '<b>bold?</b>');
	await Promise.all([page.waitForNavigation(), page.click(`${form} button`)]);
	out.refused_status = await page.evaluate(() => document.querySelector('p.error') && document.querySelector('p.error').textContent);
	out.n_error = await page.$eval(`${form} input[name="f.n"] + .error`, (e) => e.textContent);
	out.n_kept = await page.$eval(`${form} input[name="f.n"]`, (e) => e.value);
	out.note_kept = await page.$eval(`${form} input[name="f.note"]`, (e) => e.value);
	out.still_waiting = await page.evaluate(async (id) => {
		const r = await fetch('/api/runs');
		return (await r.json()).some((w) => w.id === id);
	}, run);
	await shot(page, 'runs-refused');
	await page.fill(`${form} input[name="f.n"]`, '7');
	await page.check(`${form} input[name="f.ok"]`);
	await Promise.all([page.waitForNavigation(), page.click(`${form} button`)]);
	out.landed = new URL(page.url()).pathname;
	for (let i = 0; i < 100; i++) {
		out.status = await page.$eval('#status', (e) => e.textContent);
		if (out.status === 'completed') break;
		await page.waitForTimeout(100);
		await page.reload();
	}
	out.events = await page.$$eval('td.event', (t) => t.map((e) => e.textContent));
	out.bold = await page.$$eval('main b', (e) => e.length);
	out.pwned = await page.evaluate(() => window.pwned === undefined ? null : window.pwned);
	await shot(page, 'run-history');
	out.errors = errors;
});
