// browser.js: what the browser tests share. Debian's chromium, headless,
// through playwright-core; screenshots into OUTDIR; one JSON line of what
// was seen on stdout, or the error on stderr and exit 1.
//
//   require('./browser').drive(OUTDIR, FULLPAGE, async (browser, shot, out) => ...)
//
// BODY fills OUT; shot(page, NAME) saves page as OUTDIR/NAME.png (the whole
// page with FULLPAGE) and lists it in out.shots.
'use strict';
const { chromium } = require('playwright-core');
const path = require('path');

exports.drive = (outdir, fullPage, body) => (async () => {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
	});
	const out = {}, shots = [];
	const shot = async (page, name) => {
		const file = path.join(outdir, name + '.png');
		await page.screenshot({ path: file, fullPage });
		shots.push(file);
	};
	try {
		await body(browser, shot, out);
	} finally {
		await browser.close();
	}
	out.shots = shots;
	console.log(JSON.stringify(out));
})().catch((e) => {
	console.error(String(e && e.stack || e));
	process.exit(1);
});
