// agents.js: edits an agent through panic-web's admin in a real headless
// Chromium (playwright-core, Debian's chromium), for
// tests/530-web-agents.bats.
//
//   node tests/web/agents.js URL AGENT OUTDIR
//
// Sets AGENT's schedule to an invalid cron expression and saves: the error
// shows next to the responsibilities field and the text typed stays. Then
// a valid schedule is saved, and the agent activated from the list.
// Screenshots each page into OUTDIR. Prints one JSON line of what it saw.
'use strict';
const { drive } = require('./browser');

const [url, agent, outdir] = process.argv.slice(2);

drive(outdir, true, async (browser, shot, out) => {
	const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	await page.goto(`${url}/agents`);
	out.listed = await page.$$eval('td.name', (t) => t.map((e) => e.textContent));
	out.last_error = await page.$$eval('td.error', (t) => t.map((e) => e.textContent));
	out.pwned = await page.evaluate(() => window.pwned === undefined ? null : window.pwned);
	await shot(page, 'agents');
	await Promise.all([page.waitForNavigation(), page.click(`a[href="/agents/${agent}"]`)]);
	await page.fill('#a-responsibilities', 'cron:0 25 * * *');
	await Promise.all([page.waitForNavigation(), page.click('form.agent button')]);
	out.error = await page.$eval('#a-responsibilities + .error', (e) => e.textContent);
	out.kept = await page.$eval('#a-responsibilities', (e) => e.value);
	await shot(page, 'agent-invalid-schedule');
	await page.fill('#a-responsibilities', 'cron:30 8 * * mon-fri');
	await Promise.all([page.waitForNavigation(), page.click('form.agent button')]);
	out.saved_at = new URL(page.url()).pathname + new URL(page.url()).search;
	out.saved = await page.$eval('#a-responsibilities', (e) => e.value);
	out.errors_shown = await page.$$eval('.error[role=alert]', (e) => e.length);
	await shot(page, 'agent-saved');
	await page.goto(`${url}/agents`);
	await Promise.all([page.waitForNavigation(), page.click(`form[action="/agents/${agent}/activate"] button`)]);
	out.status = await page.$$eval('tr', (rows, a) => {
		const r = rows.find((x) => x.querySelector('td.name') && x.querySelector('td.name').textContent === a);
		return r ? r.querySelector('td.status').textContent : null;
	}, agent);
	out.notice = await page.$eval('p.ok', (e) => e.textContent);
	await shot(page, 'agents-activated');
	out.errors = errors;
});
