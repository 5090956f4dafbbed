// display.js: drives panic-web's pages in a real headless Chromium
// (playwright-core, Debian's chromium), for tests/510-web-browser.bats.
//
//   node tests/web/display.js URL NETWORK OUTDIR
//
// Loads the grid display of NETWORK, runs the network at --pace 0
// (panic-loop, on PATH) and waits, without reloading, for the slots to show
// the new run's invocations; checks the screen has no scrollbars, landscape
// and portrait, and that model output is text, never markup; screenshots
// each page into OUTDIR. Prints one JSON line of what it saw.
'use strict';
const { execFileSync, spawn } = require('child_process');
const { drive } = require('./browser');

const [url, net, outdir] = process.argv.slice(2);

function fits(page) {
	return page.evaluate(() => {
		const d = document.documentElement;
		return d.scrollHeight <= window.innerHeight && d.scrollWidth <= window.innerWidth;
	});
}

drive(outdir, false, async (browser, shot, out) => {
	const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	await page.goto(`${url}/display/${net}/grid?rows=2&cols=3`);
	await page.waitForSelector('.title .live.on');
	out.before = await page.$$eval('.slot', (s) => s.map((e) => e.getAttribute('data-seq') || e.className));
	await page.evaluate(() => { window.loadedOnce = 'yes'; });
	await shot(page, 'grid-before');
	const prompt = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> a cat';
	execFileSync('panic-loop', [net, '--pace', '0', '--max', '12'], { input: prompt + '\n', stdio: ['pipe', 'ignore', 'inherit'] });
	await page.waitForFunction(() => {
		const s = document.querySelectorAll('.slot');
		return s.length === 6 && [...s].every((e) => e.getAttribute('data-state') === 'completed') &&
			[...s].some((e) => e.getAttribute('data-seq') === '11');
	}, null, { timeout: 20000 });
	out.after = await page.$$eval('.slot', (s) => s.map((e) => Number(e.getAttribute('data-seq'))));
	out.not_reloaded = await page.evaluate(() => window.loadedOnce === 'yes');
	out.prompt = await page.$eval('.title .prompt', (e) => e.textContent);
	out.pwned = await page.evaluate(() => window.pwned === undefined ? null : window.pwned);
	out.markup_in_slots = await page.$$eval('.slot .body img, .slot .body script', (e) => e.length);
	out.markup_as_text = await page.$$eval('.slot .body p', (ps) =>
		ps.filter((p) => p.textContent.includes('<script>window.pwned=2</script>')).length);
	out.fits_landscape = await fits(page);
	await shot(page, 'grid-after');
	await page.setViewportSize({ width: 1080, height: 1920 });
	out.fits_portrait = await fits(page);
	await shot(page, 'grid-portrait');
	const single = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
	await single.goto(`${url}/display/${net}/single?offset=1&stride=4`);
	out.single = await single.$$eval('.slot', (s) => s.map((e) => Number(e.getAttribute('data-seq'))));
	out.single_fits = await fits(single);
	await shot(single, 'single');
	const nets = await browser.newPage({ viewport: { width: 1280, height: 800 } });
	await nets.goto(`${url}/networks`);
	out.networks = await nets.$$eval('td.name', (t) => t.map((e) => e.textContent));
	await shot(nets, 'networks');
	// the statuses are live: a runner's waiting, then its end, with no reload
	await nets.evaluate(() => { window.loadedOnce = 'yes'; });
	const state = () => nets.$eval('td.state .status', (e) => e.textContent);
	const runner = spawn('panic-loop', [net, '--pace', '1', '--max', '2'], { stdio: ['pipe', 'ignore', 'inherit'] });
	runner.stdin.end('a live prompt\n');
	await nets.waitForFunction(() => document.querySelector('td.state .status').textContent.startsWith('waiting, next in'),
		null, { timeout: 20000 });
	out.live_status = [await state()];
	await shot(nets, 'networks-live');
	await new Promise((ok) => runner.on('exit', ok));
	await nets.waitForFunction(() => document.querySelector('td.state .status').textContent === 'not running',
		null, { timeout: 20000 });
	out.live_status.push(await state());
	out.live_not_reloaded = await nets.evaluate(() => window.loadedOnce === 'yes');
	// the prompt box, through the browser's own POST (CSRF token, Origin)
	await nets.fill('input[name=prompt]', 'a <b>bold</b> prompt');
	await Promise.all([nets.waitForNavigation(), nets.click('form.prompt button')]);
	out.prompt_answer = await nets.$eval('p.error, p.ok', (e) => e.textContent);
	await shot(nets, 'networks-prompt');
	out.errors = errors;
});
