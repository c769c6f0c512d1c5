#!/usr/bin/env node
/*
 * Browser tests of the davit dashboard: playwright-core driving Debian's
 * /usr/bin/chromium (headless, never a browser download).
 *
 *   node tests/browser/run.mjs [--only REGEX] [--list]
 *
 * --only REGEX runs the scenarios whose id (see --list) matches REGEX (a
 * JavaScript regular expression, e.g. --only '^restart$' or 'deploy'), and
 * those they build on (the failed deploy needs a good one first); the others
 * are skipped.  Each scenario logs in first if the page is not logged in, so
 * any one of them runs alone.  DAVIT_BROWSER_ONLY=REGEX does the same (and
 * carries --only through system.sh).  --list prints the ids and names.
 *
 * Without DAVIT_URL it sets up a whole system first: tests/browser/system.sh
 * (bash, tests/integration/lib.sh) makes a demo compose app with its origin,
 * starts it, starts davit-backend and, apart (so that it outlives a killed
 * backend), davit-frontend from $DAVIT_BUILD, then runs this script again
 * with these set:
 *
 *   DAVIT_URL        the dashboard, e.g. http://127.0.0.1:8080
 *   DAVIT_PASSWORD   the dashboard password
 *   DAVIT_PUSH_CMD   a shell command that pushes a commit to the app's origin;
 *                    it gets the commit message in $1 (written into VERSION),
 *                    or $1 and a file ($2) and its content ($3), and prints
 *                    the commit id
 *   DAVIT_SERVICES   the services shown (default web,worker)
 *   DAVIT_APP_URL    the demo app's web service, which serves the repo's
 *                    VERSION file (the content pushed); optional
 *   DAVIT_BACKEND_DOWN_CMD, DAVIT_BACKEND_UP_CMD
 *                    shell commands that kill the backend and start it again
 *                    (the frontend stays); without them that scenario is skipped
 *   DAVIT_PROJECTS_URL
 *                    a second davit, with the three projects alpha, beta and
 *                    gamma (services web,worker each) and the same password:
 *                    the "projects" group; without it, or when its backend
 *                    has no projects.list, the group prints SKIP
 *
 * Other settings: CHROMIUM (default /usr/bin/chromium), DAVIT_ARTIFACTS (where
 * screenshots go; default tests/artifacts/browser), DAVIT_SLOW (timeout
 * factor, default 1).
 *
 * Prints one line per scenario and "N passed, N failed" as the last line;
 * exits non-zero if anything failed.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.resolve(HERE, '..', '..');

/* the scenarios, in the order they run: id, what it checks, what it builds on */
const SCENARIOS = [
	['login', 'login: a wrong then a right password'],
	['services', 'both services shown with their states'],
	['restart', 'Restart changes the state of the first service live'],
	['rebuild', 'Rebuild of the first service shows its log lines live'],
	['git', 'a commit pushed to origin shows "update available"; Pull clears it'],
	['deploy', 'Deploy: a pushed commit is fetched, pulled, rebuilt, verified; shown live'],
	['deploy_broken', 'Deploy of a commit that does not build: failed, said why, the app untouched', ['deploy']],
	['rollback', 'a version that exits at once is rolled back and shown so; "Roll back to this" puts a kept release back', ['deploy']],
	['backend_down', 'the backend going away is said plainly; its return clears it, the deploys are kept'],
	['phone', 'the dashboard fits a 390 px phone screen'],
	['console', 'no script errors and no CSP violations'],
	['logout', 'Log out goes back to the login form'],
	/* the "projects" group: a davit with three projects (DAVIT_PROJECTS_URL) */
	['projects_overview', 'projects: the overview shows a card per project, live, at 1280 and 390 px'],
	['projects_page', 'projects: a card opens its project page (#/p/NAME), its calls carry ?project='],
	['projects_action', 'projects: Restart on one project restarts its service and leaves the others alone', ['projects_page']],
];

for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	if (a === '--list') {
		for (const [id, name, needs] of SCENARIOS)
			console.log(`${id.padEnd(14)} ${name}${needs ? ` (needs ${needs.join(', ')})` : ''}`);
		process.exit(0);
	} else if (a === '--only' && i + 1 < process.argv.length) {
		process.env.DAVIT_BROWSER_ONLY = process.argv[++i];
	} else if (a.startsWith('--only=')) {
		process.env.DAVIT_BROWSER_ONLY = a.slice('--only='.length);
	} else {
		console.error(`run.mjs: unknown argument "${a}"; usage: node run.mjs [--only REGEX] [--list]`);
		process.exit(2);
	}
}

/* the ids to run: those --only selects and what they build on; null: all */
function selectedIds() {
	const only = process.env.DAVIT_BROWSER_ONLY;
	if (!only)
		return null;
	let re;
	try {
		re = new RegExp(only);
	} catch (e) {
		console.error(`run.mjs: --only: ${e.message}`);
		process.exit(2);
	}
	const sel = new Set(SCENARIOS.filter(([id]) => re.test(id)).map(([id]) => id));
	if (sel.size === 0) {
		console.error(`run.mjs: --only '${only}' selects none of: ${SCENARIOS.map(([id]) => id).join(' ')}`);
		process.exit(2);
	}
	for (const [id, , needs] of [...SCENARIOS].reverse())
		if (sel.has(id))
			for (const n of needs || [])
				sel.add(n);
	return sel;
}
const SELECTED = selectedIds();

if (!process.env.DAVIT_URL)
	await runWithSystem();
else
	await runTests();

/*
 * Sets up the system with system.sh, which runs this script again; passes its
 * output through and repeats the child's summary as the last line (the bash
 * cleanup may print after it).
 */
async function runWithSystem() {
	const child = spawn('bash', [path.join(HERE, 'system.sh')], {
		stdio: ['ignore', 'pipe', 'pipe'],
		env: process.env
	});
	let summary = '';
	const pass = (stream, out) => {
		let buf = '';
		stream.on('data', (d) => {
			out.write(d);
			buf += d.toString();
			let i;
			while ((i = buf.indexOf('\n')) >= 0) {
				const line = buf.slice(0, i);
				buf = buf.slice(i + 1);
				if (/^\d+ passed, \d+ failed$/.test(line))
					summary = line;
			}
		});
	};
	pass(child.stdout, process.stdout);
	pass(child.stderr, process.stderr);
	const code = await new Promise((resolve) => {
		child.on('close', (c, sig) => resolve(c === null ? 128 + (sig === 'SIGKILL' ? 9 : 15) : c));
		for (const s of ['SIGINT', 'SIGTERM'])
			process.on(s, () => child.kill(s));
	});
	/* no summary: the setup failed; a clean summary but a failed exit: the
	 * cleanup found something (e.g. a sanitizer report) */
	if (!summary)
		summary = '0 passed, 1 failed';
	else if (code !== 0)
		summary = summary.replace(/, 0 failed$/, ', 1 failed');
	if (code !== 0)
		console.log(`system.sh exited with status ${code}`);
	console.log(summary);
	process.exit(code);
}

async function runTests() {
	const { chromium } = await import('playwright-core');
	const URL_ = process.env.DAVIT_URL.replace(/\/+$/, '');
	const PASSWORD = process.env.DAVIT_PASSWORD || '';
	const PUSH_CMD = process.env.DAVIT_PUSH_CMD || '';
	const APP_URL = process.env.DAVIT_APP_URL || '';
	const DOWN_CMD = process.env.DAVIT_BACKEND_DOWN_CMD || '';
	const UP_CMD = process.env.DAVIT_BACKEND_UP_CMD || '';
	const SERVICES = (process.env.DAVIT_SERVICES || 'web,worker').split(',').filter(Boolean);
	const ART = process.env.DAVIT_ARTIFACTS || path.join(SRC, 'tests', 'artifacts', 'browser');
	const SLOW = Math.max(Number(process.env.DAVIT_SLOW) || 1, 1);
	const T_UI = 10000 * SLOW;	/* the page reacting */
	const T_JOB = 120000 * SLOW;	/* a job that builds images */
	const DESKTOP = { width: 1280, height: 900 };
	const PHONE = { width: 390, height: 844 };

	fs.mkdirSync(ART, { recursive: true });
	for (const f of fs.readdirSync(ART))
		if (f.endsWith('.png'))
			fs.rmSync(path.join(ART, f));

	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'davit-chromium-'));
	let ctx = null;
	let passed = 0, failed = 0;
	const consoleErrors = [];
	const pageErrors = [];

	const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);

	function assert(cond, msg) {
		if (!cond)
			throw new Error(msg);
	}

	try {
		ctx = await chromium.launchPersistentContext(profile, {
			executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
			headless: true,
			args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			    '--disable-background-networking', '--disable-component-update',
			    '--disable-sync'],
			viewport: DESKTOP,
			timeout: 60000
		});
	} catch (e) {
		log('FAIL launch chromium: ' + e.message);
		fs.rmSync(profile, { recursive: true, force: true });
		console.log('0 passed, 1 failed');
		process.exit(1);
	}
	const page = ctx.pages()[0] || await ctx.newPage();
	page.setDefaultTimeout(T_UI);
	page.on('console', (m) => {
		if (m.type() === 'error')
			consoleErrors.push(m.text());
	});
	page.on('pageerror', (e) => pageErrors.push(e.message));

	let shotN = 0;
	/* A screenshot at desktop size and one at phone size. */
	async function shot(name) {
		const n = String(++shotN).padStart(2, '0');
		await page.screenshot({ path: path.join(ART, `${n}-${name}-desktop.png`), fullPage: true });
		await page.setViewportSize(PHONE);
		await page.waitForTimeout(100);	/* layout settles; not an assertion */
		await page.screenshot({ path: path.join(ART, `${n}-${name}-phone.png`), fullPage: true });
		await page.setViewportSize(DESKTOP);
	}

	/* logs in unless the dashboard is shown: every scenario can run alone */
	async function ensureLogin() {
		if (page.url().startsWith(URL_) && await page.locator('#dash').isVisible())
			return;
		await page.goto(URL_ + '/');
		await page.locator('#login-form').waitFor({ state: 'visible' });
		await page.fill('#password', PASSWORD);
		await page.click('#login-submit');
		await page.locator('#dash').waitFor({ state: 'visible' });
		await page.locator('#live[data-live="on"]').waitFor({ timeout: T_UI });
	}

	let skipped = 0;
	async function scenario(id, name, fn) {
		const t0 = Date.now();
		if (!SCENARIOS.some(([sid]) => sid === id))
			throw new Error(`scenario ${id} is not in SCENARIOS`);
		if (SELECTED && !SELECTED.has(id)) {
			skipped++;
			log(`skip ${id}`);
			return;
		}
		try {
			/* the projects group signs in on its own page (projectsGroup) */
			if (id !== 'login' && !id.startsWith('projects_'))
				await ensureLogin();
			await fn();
			passed++;
			log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
		} catch (e) {
			failed++;
			log(`FAIL ${name}: ${e.message.split('\n').slice(0, 6).join('\n     ')}`);
			try {
				await page.screenshot({ path: path.join(ART, `FAIL-${name.replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage: true });
			} catch (e2) {
				/* the page may be gone */
			}
		}
	}

	/* pushes a commit to the origin (MSG into VERSION, or CONTENT into FILE) */
	function push(msg, file, content) {
		assert(PUSH_CMD, 'DAVIT_PUSH_CMD is not set');
		const sha = execFileSync('bash', ['-c', PUSH_CMD, 'push', msg].concat(file ? [file, content] : []),
		    { encoding: 'utf8' }).trim();
		assert(/^[0-9a-f]{7,64}$/.test(sha), `push command printed "${sha}"`);
		return sha;
	}

	/* what the demo app's web service serves, once it is WANT (or after T_UI) */
	async function appServes(want) {
		let body = '';
		const t1 = Date.now() + T_UI;
		do {
			try {
				body = (await (await fetch(APP_URL)).text()).trim();
			} catch (e) {
				body = 'error: ' + e.message;
			}
			if (body === want)
				break;
			await new Promise((r) => setTimeout(r, 250));
		} while (Date.now() < t1);
		return body;
	}

	const text = (sel) => page.locator(sel).first().innerText();
	const svc = (name) => page.locator(`.svc[data-service="${name}"]`);

	/* Marks the document: a reload or navigation loses the mark. */
	async function markPage() {
		await page.evaluate(() => { window.__davitMark = 'kept'; });
	}
	async function assertNoReload(what) {
		const m = await page.evaluate(() => window.__davitMark);
		assert(m === 'kept', `${what}: the page was reloaded (live updates must not need a reload)`);
	}

	/* Id of the job shown in the log panel, from its title "#N ...". */
	async function logJobId() {
		const t = await text('#log-title');
		const m = /^#(\d+)/.exec(t);
		return m ? Number(m[1]) : 0;
	}

	async function waitJobDone(id, timeout) {
		await page.waitForFunction((jid) => {
			const li = document.querySelector(`#jobs li[data-job="${jid}"]`);
			return li && (li.dataset.state === 'succeeded' || li.dataset.state === 'failed');
		}, id, { timeout: timeout || T_JOB });
		return page.locator(`#jobs li[data-job="${id}"]`).getAttribute('data-state');
	}

	async function jobIds() {
		return page.$$eval('#jobs li[data-job]', (lis) => lis.map((l) => Number(l.dataset.job)));
	}

	async function clickAndGetJob(locator, confirmOk) {
		const before = await logJobId();
		await locator.click();
		if (confirmOk) {
			await page.locator('#confirm').waitFor({ state: 'visible' });
			await page.locator('#confirm-ok').click();
		}
		await page.waitForFunction((b) => {
			const m = /^#(\d+)/.exec(document.getElementById('log-title').textContent);
			return m && Number(m[1]) !== b;
		}, before, { timeout: T_UI });
		return logJobId();
	}

	log(`dashboard ${URL_}, screenshots in ${ART}`);

	/*
	 * The "projects" group, last: on a page of its own (its session cookie
	 * for 127.0.0.1 replaces the first davit's, which is done by then).
	 */
	async function projectsGroup() {
		const ids = ['projects_overview', 'projects_page', 'projects_action'];
		const want = ids.filter((id) => !SELECTED || SELECTED.has(id));
		if (want.length === 0)
			return;
		const PURL = (process.env.DAVIT_PROJECTS_URL || '').replace(/\/+$/, '');
		const skipAll = (why) => {
			for (const id of want)
				log(`SKIP ${id}: ${why}`);
			skipped += want.length;
		};
		if (!PURL) {
			skipAll('no davit with several projects (DAVIT_PROJECTS_URL): the backend does not run DAVIT_PROJECTS_DIR');
			return;
		}
		const pp = await ctx.newPage();
		pp.setDefaultTimeout(T_UI);
		pp.on('pageerror', (e) => pageErrors.push('projects: ' + e.message));
		const calls = [];
		pp.on('request', (r) => calls.push(r.method() + ' ' + r.url().slice(PURL.length)));
		await pp.goto(PURL + '/#/');
		await pp.locator('#login-form').waitFor({ state: 'visible' });
		await pp.fill('#password', PASSWORD);
		await pp.click('#login-submit');
		await pp.locator('#live[data-live="on"]').waitFor({ timeout: T_UI });
		const probe = await pp.evaluate(async () => {
			const r = await fetch('/api/projects');
			return { status: r.status, body: await r.text() };
		});
		if (probe.status === 501 || /unknown_op/.test(probe.body)) {
			skipAll('the backend answers projects.list with unknown_op');
			await pp.close();
			return;
		}
		async function pshot(name) {
			const n = String(++shotN).padStart(2, '0');
			await pp.screenshot({ path: path.join(ART, `${n}-${name}-desktop.png`), fullPage: true });
			await pp.setViewportSize(PHONE);
			await pp.waitForTimeout(100);	/* layout settles; not an assertion */
			const w = await pp.evaluate(() => document.documentElement.scrollWidth);
			await pp.screenshot({ path: path.join(ART, `${n}-${name}-phone.png`), fullPage: true });
			await pp.setViewportSize(DESKTOP);
			assert(w <= PHONE.width, `${name}: the page is ${w} px wide on a ${PHONE.width} px screen`);
		}
		const card = (n) => pp.locator(`.project-card[data-project="${n}"]`);
		/* a service's started_at in one project, as /api/state?project= says */
		const startedAt = (proj, name) => pp.evaluate(async ([p, n]) => {
			const st = await (await fetch('/api/state?project=' + p)).json();
			const s = ((st.services && st.services.services) || []).find((x) => x.service === n);
			return s ? s.started_at + '|' + s.state : '';
		}, [proj, name]);

		await scenario('projects_overview', 'projects: the overview shows a card per project, live, at 1280 and 390 px', async () => {
			await pp.locator('#overview').waitFor({ state: 'visible' });
			assert(await pp.locator('#dash').isHidden(), 'the project page is shown on #/ with three projects');
			await pp.waitForFunction(() => document.querySelectorAll('.project-card').length === 3);
			const names = await pp.$$eval('.project-card', (cs) => cs.map((c) => c.dataset.project));
			assert(names.join(',') === 'alpha,beta,gamma', `cards: ${names.join(',')}`);
			for (const n of names) {
				const t = await card(n).innerText();
				assert(/Services\s+\d+ of 2 up/.test(t), `${n}: no services count in "${t}"`);
				assert(/Commit\s+[0-9a-f]{7}/.test(t), `${n}: no short commit in "${t}"`);
				assert(/Last deploy/.test(t), `${n}: no last deploy in "${t}"`);
			}
			/* live: a commit pushed to alpha's origin and fetched shows on its card */
			const PUSH = process.env.DAVIT_PROJECTS_PUSH_CMD || '';
			if (PUSH) {
				execFileSync('bash', ['-c', PUSH, 'push', 'overview ' + Date.now()], { encoding: 'utf8' });
				const r = await pp.evaluate(async () => {
					const csrf = (await (await fetch('/api/session')).json()).csrf;
					return (await fetch('/api/git/fetch?project=alpha', { method: 'POST',
					    headers: { 'X-Davit-CSRF': csrf } })).status;
				});
				assert(r === 202, `POST /api/git/fetch?project=alpha: ${r}`);
				await card('alpha').locator('.badge.b-update').waitFor({ timeout: T_JOB });
				assert(await card('beta').locator('.badge.b-update').count() === 0,
				    'beta shows "update available" after alpha\'s fetch');
			}
			await pshot('projects-overview');
		});

		await scenario('projects_page', 'projects: a card opens its project page (#/p/NAME), its calls carry ?project=', async () => {
			await pp.goto(PURL + '/#/');
			await card('beta').waitFor();
			calls.length = 0;
			await card('beta').click();
			await pp.waitForURL(/#\/p\/beta$/);
			await pp.locator('#dash').waitFor({ state: 'visible' });
			await pp.locator('#nav-overview').waitFor({ state: 'visible' });
			for (const n of ['web', 'worker'])
				await pp.locator(`.svc[data-service="${n}"]`).waitFor();
			const st = calls.filter((c) => c.startsWith('GET /api/state'));
			assert(st.length > 0 && st.every((c) => c === 'GET /api/state?project=beta'),
			    `state calls: ${st.join(' ')}`);
			/* its own URL: a reload comes back to beta */
			await pp.reload();
			await pp.locator('#dash').waitFor({ state: 'visible' });
			assert(/#\/p\/beta$/.test(pp.url()), `after a reload: ${pp.url()}`);
			await pshot('projects-page');
			/* back to the overview */
			await pp.click('#nav-overview');
			await pp.locator('#overview').waitFor({ state: 'visible' });
			await pp.goto(PURL + '/#/p/beta');
			await pp.locator('#dash').waitFor({ state: 'visible' });
		});

		await scenario('projects_action', 'projects: Restart on one project restarts its service and leaves the others alone', async () => {
			await pp.locator('.svc[data-service="web"]').waitFor();
			const alpha0 = await startedAt('alpha', 'web');
			const gamma0 = await startedAt('gamma', 'web');
			const beta0 = await startedAt('beta', 'web');
			assert(alpha0 && beta0 && gamma0, `started_at: ${alpha0} ${beta0} ${gamma0}`);
			calls.length = 0;
			await pp.locator('.svc[data-service="web"]').getByRole('button', { name: 'Restart web', exact: true }).click();
			await pp.waitForFunction((s0) => {
				const r = document.querySelector('.svc[data-service="web"]');
				return r.dataset.state === 'running' && r.dataset.started && r.dataset.started !== s0.split('|')[0];
			}, beta0, { timeout: T_JOB });
			assert(calls.includes('POST /api/services/web/restart?project=beta'),
			    `the restart was not beta's: ${calls.filter((c) => c.startsWith('POST')).join(' ')}`);
			const beta1 = await startedAt('beta', 'web');
			assert(beta1 !== beta0, `beta's web did not restart: ${beta0} -> ${beta1}`);
			assert(await startedAt('alpha', 'web') === alpha0, 'alpha\'s web was touched');
			assert(await startedAt('gamma', 'web') === gamma0, 'gamma\'s web was touched');
			await pshot('projects-action');
		});
		await pp.close();
	}

	/* ---------------------------------------------------------- login -- */
	await scenario('login', 'login: a wrong then a right password', async () => {
		await page.goto(URL_ + '/');
		await page.locator('#login-form').waitFor({ state: 'visible' });
		assert(await page.locator('#dash').isHidden(), 'the dashboard is visible before login');
		await shot('login');
		await page.fill('#password', 'not-the-password-' + Date.now());
		await page.click('#login-submit');
		await page.locator('#login-error').waitFor({ state: 'visible' });
		const err = await text('#login-error');
		assert(/wrong password/i.test(err), `wrong password: error says "${err}"`);
		assert(await page.locator('#dash').isHidden(), 'the dashboard is shown after a wrong password');
		const st = await page.evaluate(async () => (await fetch('/api/state')).status);
		assert(st === 401, `GET /api/state after a wrong password: ${st}, expected 401`);
		await shot('login-wrong-password');
		await page.fill('#password', PASSWORD);
		await page.click('#login-submit');
		await page.locator('#dash').waitFor({ state: 'visible' });
		assert(await page.locator('#login-view').isHidden(), 'the login form is still shown');
		await page.locator('#live[data-live="on"]').waitFor({ timeout: T_UI });
		/* the session cookie is HttpOnly: not visible to scripts */
		const cookies = await page.evaluate(() => document.cookie);
		assert(!/davit_session/.test(cookies), 'the session cookie is readable by scripts');
	});

	/* ------------------------------------------------------- services -- */
	await scenario('services', 'both services shown with their states', async () => {
		for (const n of SERVICES) {
			await svc(n).waitFor({ state: 'visible' });
			await page.waitForFunction((name) => {
				const r = document.querySelector(`.svc[data-service="${name}"]`);
				return r && r.dataset.state === 'running';
			}, n, { timeout: 60000 * SLOW });
			const badge = await svc(n).locator('.svc-state').innerText();
			assert(badge.trim() === 'running', `${n}: state badge says "${badge}"`);
			const up = await svc(n).locator('.svc-uptime').innerText();
			assert(/^\d+ (s|min|h|days)\b/.test(up), `${n}: uptime "${up}"`);
			const img = await svc(n).locator('.svc-image').innerText();
			assert(img.length > 0, `${n}: no image shown`);
			for (const a of ['Start', 'Stop', 'Restart', 'Rebuild'])
				assert(await svc(n).getByRole('button', { name: `${a} ${n}`, exact: true }).count() === 1,
				    `${n}: no ${a} button`);
		}
		const shown = await page.$$eval('.svc', (rows) => rows.map((r) => r.dataset.service));
		assert(shown.length === SERVICES.length, `services shown: ${shown.join(',')}`);
		assert(await page.locator('#banner-backend').isHidden(), 'the backend-down banner is shown');
		assert(await page.locator('#banner-docker').isHidden(), 'the Docker banner is shown');
		await shot('services');
	});

	const first = SERVICES[0];

	/* -------------------------------------------------------- restart -- */
	await scenario('restart', `Restart changes the state of ${first} live`, async () => {
		await markPage();
		const row = svc(first);
		const started0 = await row.getAttribute('data-started');
		assert(started0, `${first}: no started_at before the restart`);
		/* record every state the row shows, as it changes */
		await page.evaluate((name) => {
			const r = document.querySelector(`.svc[data-service="${name}"]`);
			window.__states = [r.dataset.state + '|' + r.dataset.started];
			new MutationObserver(() => {
				const s = r.dataset.state + '|' + r.dataset.started;
				if (window.__states[window.__states.length - 1] !== s)
					window.__states.push(s);
			}).observe(r, { attributes: true, attributeFilter: ['data-state', 'data-started'] });
		}, first);
		const id = await clickAndGetJob(row.getByRole('button', { name: `Restart ${first}`, exact: true }), false);
		await page.waitForFunction(([name, s0]) => {
			const r = document.querySelector(`.svc[data-service="${name}"]`);
			return r.dataset.state === 'running' && r.dataset.started && r.dataset.started !== s0;
		}, [first, started0], { timeout: T_JOB });
		const st = await waitJobDone(id);
		assert(st === 'succeeded', `restart job #${id} ${st}`);
		const started1 = await row.getAttribute('data-started');
		const up = await row.locator('.svc-uptime').innerText();
		assert(/^\d+ (s|min)$/.test(up), `${first}: uptime after the restart is "${up}"`);
		const states = await page.evaluate(() => window.__states);
		assert(states.length >= 2, `no live change seen: ${states.join(' ')}`);
		assert(new Date(started1) > new Date(started0),
		    `started_at did not move forward: ${started0} -> ${started1}`);
		await assertNoReload('restart');
		log(`     ${first}: ${states.join(' -> ')}`);
		await shot('restart');
	});

	/* -------------------------------------------------------- rebuild -- */
	await scenario('rebuild', `Rebuild ${first} shows its log lines live`, async () => {
		await markPage();
		const row = svc(first);
		const rebuild = row.getByRole('button', { name: `Rebuild ${first}`, exact: true });
		/* the confirmation: Cancel starts nothing */
		const jobs0 = await jobIds();
		await rebuild.click();
		await page.locator('#confirm').waitFor({ state: 'visible' });
		const q = await text('#confirm-title');
		assert(q.includes('Rebuild') && q.includes(first), `confirmation says "${q}"`);
		await shot('rebuild-confirm');
		await page.click('#confirm-cancel');
		await page.locator('#confirm').waitFor({ state: 'hidden' });
		await page.waitForTimeout(500);	/* give a wrongly started job time to show */
		const jobs1 = await jobIds();
		assert(JSON.stringify(jobs0) === JSON.stringify(jobs1), 'Cancel started a job');

		/* each line added to the log panel, with the job state at that moment */
		await page.evaluate(() => {
			window.__lines = [];
			new MutationObserver((muts) => {
				const st = document.getElementById('log-state').textContent;
				for (const m of muts)
					for (const n of m.addedNodes)
						if (n.classList && n.classList.contains('log-line'))
							window.__lines.push({ st, text: n.textContent });
			}).observe(document.getElementById('log'), { childList: true });
		});
		const id = await clickAndGetJob(rebuild, true);
		await page.waitForFunction(() => window.__lines.length > 0, null, { timeout: T_JOB });
		const st = await waitJobDone(id);
		await shot('rebuild-log');
		assert(st === 'succeeded', `rebuild job #${id} ${st}`);
		const lines = await page.evaluate(() => window.__lines);
		const live = lines.filter((l) => l.st === 'running' || l.st === 'queued');
		assert(lines.length >= 2, `only ${lines.length} log line(s) shown`);
		assert(live.length >= 1, `no log line arrived while job #${id} was running ` +
		    `(${lines.length} lines, all after it ended)`);
		/* what the panel shows is the job's log as the backend has it */
		const shown = await page.$$eval('#log .log-line', (ls) => ls.map((l) => l.textContent));
		const job = await page.evaluate(async (jid) => (await fetch('/api/jobs/' + jid)).json(), id);
		assert(Array.isArray(job.log) && job.log.length > 0, `GET /api/jobs/${id} has no log`);
		assert(JSON.stringify(shown) === JSON.stringify(job.log),
		    `log panel (${shown.length} lines) differs from the job's log (${job.log.length} lines): ` +
		    `first difference at line ${shown.findIndex((l, i) => l !== job.log[i]) + 1}`);
		assert((await logJobId()) === id, 'the log panel does not show the rebuild job');
		await page.waitForFunction((name) => document.querySelector(`.svc[data-service="${name}"]`)
		    .dataset.state === 'running', first, { timeout: 60000 * SLOW });
		await assertNoReload('rebuild');
		log(`     job #${id}: ${lines.length} lines, ${live.length} while running; last: ${lines[lines.length - 1].text}`);
	});

	/* ------------------------------------------------------------ git -- */
	await scenario('git', 'a commit pushed to origin shows "update available"; Pull clears it', async () => {
		await markPage();
		const badge = page.locator('#git-badge');
		await badge.waitFor({ state: 'visible' });
		const b0 = await badge.innerText();
		assert(!/update available/i.test(b0), `"update available" before any push: "${b0}"`);
		const msg = 'Browser test commit ' + Date.now();
		const sha = push(msg);
		log(`     pushed ${sha.slice(0, 7)} "${msg}"`);

		const fetchId = await clickAndGetJob(page.locator('#btn-fetch'), false);
		await page.waitForFunction(() => /update available/i.test(
		    document.getElementById('git-badge').textContent), null, { timeout: T_JOB });
		assert(await waitJobDone(fetchId) === 'succeeded', `fetch job #${fetchId} failed`);
		const inc = await page.locator('#git-incoming-list').innerText();
		assert(inc.includes(msg), `incoming commits do not list "${msg}": ${inc}`);
		assert(inc.includes(sha.slice(0, 7)), `incoming commits do not show ${sha.slice(0, 7)}`);
		const remote = await text('#git-remote');
		assert(remote.includes(sha.slice(0, 7)), `origin commit shown is "${remote}"`);
		await shot('update-available');

		const pullId = await clickAndGetJob(page.locator('#btn-pull'), false);
		await page.waitForFunction(() => !/update available/i.test(
		    document.getElementById('git-badge').textContent), null, { timeout: T_JOB });
		assert(await waitJobDone(pullId) === 'succeeded', `pull job #${pullId} failed`);
		const b1 = await badge.innerText();
		assert(/up to date/i.test(b1), `badge after Pull: "${b1}"`);
		const local = await text('#git-local');
		assert(local.includes(sha.slice(0, 7)) && local.includes(msg),
		    `local commit after Pull is "${local}"`);
		assert(await page.locator('#git-incoming').isHidden(), 'incoming commits still shown');
		await assertNoReload('fetch and pull');
		await shot('pulled');
	});

	/* --------------------------------------------------------- deploy -- */
	let deployed = null;	/* the deploy below: {id, from, to} */
	await scenario('deploy', 'Deploy: a pushed commit is fetched, pulled, rebuilt, verified; shown live', async () => {
		await markPage();
		await page.locator('#deploys-panel').waitFor({ state: 'visible' });
		const st0 = await page.evaluate(async () => (await fetch('/api/state')).json());
		const from = st0.git && st0.git.local ? String(st0.git.local.id) : '';
		assert(/^[0-9a-f]{40,64}$/.test(from), `the checkout's commit before the deploy: "${from}"`);
		const msg = 'Deploy test ' + Date.now();
		const sha = push(msg);
		log(`     pushed ${sha.slice(0, 7)} "${msg}" (the checkout is at ${from.slice(0, 7)})`);

		/* the log lines with the job's state when each arrived; each new
		 * look of a deploy row (state and steps) as the page shows it */
		await page.evaluate(() => {
			window.__lines = [];
			new MutationObserver((muts) => {
				const st = document.getElementById('log-state').textContent;
				for (const m of muts)
					for (const n of m.addedNodes)
						if (n.classList && n.classList.contains('log-line'))
							window.__lines.push({ st, text: n.textContent });
			}).observe(document.getElementById('log'), { childList: true });
			window.__rows = [];
			const seen = new Set();
			new MutationObserver(() => {
				for (const li of document.querySelectorAll('#deploys li[data-deploy]')) {
					const r = {
						id: Number(li.dataset.deploy),
						state: li.dataset.state,
						steps: [...li.querySelectorAll('.step')].map((s) => s.textContent.trim())
					};
					const k = JSON.stringify(r);
					if (!seen.has(k)) {
						seen.add(k);
						window.__rows.push(r);
					}
				}
			}).observe(document.getElementById('deploys'),
			    { childList: true, subtree: true, characterData: true, attributes: true });
		});

		/* the confirmation names what happens; then OK */
		const jobs0 = await jobIds();
		await page.locator('#btn-deploy').click();
		await page.locator('#confirm').waitFor({ state: 'visible' });
		const q = await text('#confirm-title');
		assert(/deploy/i.test(q), `confirmation says "${q}"`);
		await page.click('#confirm-cancel');
		await page.locator('#confirm').waitFor({ state: 'hidden' });
		await page.waitForTimeout(500);	/* give a wrongly started job time to show */
		assert(JSON.stringify(jobs0) === JSON.stringify(await jobIds()), 'Cancel started a deploy');
		const job = await clickAndGetJob(page.locator('#btn-deploy'), true);
		/* deploys have numbers of their own (kept across restarts) */
		await page.locator(`#deploys li[data-job="${job}"]`).waitFor({ state: 'visible', timeout: T_UI });
		const id = Number(await page.locator(`#deploys li[data-job="${job}"]`).getAttribute('data-deploy'));
		const row = page.locator(`#deploys li[data-deploy="${id}"]`);
		/* a look at it while it rebuilds, if it is not over by then */
		await page.waitForFunction((d) => {
			const li = document.querySelector(`#deploys li[data-deploy="${d}"]`);
			return li && (li.dataset.state !== 'running' || li.querySelector('.step.s-running[data-step="rebuild"]'));
		}, id, { timeout: T_JOB });
		await page.screenshot({ path: path.join(ART, `${String(++shotN).padStart(2, '0')}-deploy-running-desktop.png`) });
		const st = await waitJobDone(job);
		await page.waitForFunction((d) => {
			const b = document.querySelector(`#deploys li[data-deploy="${d}"] .badge`);
			return b && /succeeded|failed/.test(b.textContent);
		}, id, { timeout: T_UI });
		await shot('deploy');
		const lines = await page.evaluate(() => window.__lines);
		assert(st === 'succeeded', `deploy job #${job} ${st}; log: ` +
		    lines.map((l) => l.text).filter((t) => /^deploy:/.test(t)).join(' | '));

		/* the log panel followed the job while it ran */
		assert((await logJobId()) === job, 'the log panel does not show the deploy job');
		let at = -1;
		for (const want of ['deploy: fetch', 'deploy: pull', 'deploy: rebuild', 'deploy: verify']) {
			const i = lines.findIndex((l, k) => k > at && l.text === want);
			assert(i > at, `log line "${want}" not shown (in order); lines: ` +
			    lines.map((l) => l.text).filter((t) => /^deploy:/.test(t)).join(' | '));
			assert(lines[i].st === 'running', `"${want}" shown when the job was ${lines[i].st}, not live`);
			at = i;
		}

		/* the deploys panel showed the deploy while it ran, then its end */
		const rows = (await page.evaluate(() => window.__rows)).filter((r) => r.id === id);
		assert(rows.some((r) => r.state === 'running'), `the deploy was never shown running: ` +
		    JSON.stringify(rows));
		assert(rows[rows.length - 1].state === 'succeeded', `last look of the deploy: ` +
		    JSON.stringify(rows[rows.length - 1]));
		/* while it ran: the step on its way marked as such, those to come too */
		const during = rows.filter((r) => r.state === 'running');
		assert(during.some((r) => r.steps.some((s) => /^… rebuild$/.test(s)) &&
		    r.steps.some((s) => /^○ verify$/.test(s))),
		    `a running deploy never showed "… rebuild" and "○ verify": ${JSON.stringify(during)}`);
		log(`     deploy #${id} seen as: ${rows.map((r) => r.state + ' [' + r.steps.join(', ') + ']').join(' -> ')}`);

		/* what the finished deploy row says */
		async function checkRow(when) {
			const badge = (await row.locator('.badge').first().innerText()).trim();
			assert(badge === 'succeeded', `${when}: the deploy's badge says "${badge}"`);
			const shas = await row.locator('.sha').allInnerTexts();
			assert(shas.length === 2 && shas[0] === from.slice(0, 7) && shas[1] === sha.slice(0, 7),
			    `${when}: commits shown ${JSON.stringify(shas)}, expected ${from.slice(0, 7)} → ${sha.slice(0, 7)}`);
			const steps = (await row.locator('.step').allInnerTexts()).map((s) => s.trim());
			for (const name of ['fetch', 'pull', 'rebuild', 'verify'])
				assert(steps.some((s) => new RegExp(`^✓ ${name}\\b`).test(s)),
				    `${when}: no "✓ ${name}" among the steps ${JSON.stringify(steps)}`);
			const trig = await row.locator('.deploy-trigger').innerText();
			assert(/dashboard/i.test(trig), `${when}: the trigger is shown as "${trig}"`);
			const files = (await row.locator('.deploy-files').innerText()).replace(/\s+/g, ' ').trim();
			assert(/^Changed file M VERSION$/.test(files), `${when}: changed files shown as "${files}"`);
			return { shas, steps, files };
		}
		const live = await checkRow('live');
		await assertNoReload('deploy');
		/* its Log button shows its job (another job shown first; run alone,
		 * there is none yet: a fetch is one) */
		if (await page.locator(`#jobs li[data-job]:not([data-job="${job}"])`).count() === 0) {
			const other = await clickAndGetJob(page.locator('#btn-fetch'), false);
			assert(await waitJobDone(other) === 'succeeded', `fetch job #${other} failed`);
		}
		await page.locator(`#jobs li[data-job]:not([data-job="${job}"])`).first().locator('button').click();
		await page.waitForFunction((d) => {
			const m = /^#(\d+)/.exec(document.getElementById('log-title').textContent);
			return m && Number(m[1]) !== d;
		}, job);
		await row.getByRole('button', { name: `Log of deploy ${id}`, exact: true }).click();
		await page.waitForFunction((d) => {
			const m = /^#(\d+)/.exec(document.getElementById('log-title').textContent);
			return m && Number(m[1]) === d;
		}, job);
		await page.waitForFunction(() => [...document.querySelectorAll('#log .log-line')]
		    .some((l) => /^deploy: .* is live$/.test(l.textContent)));

		/* the git panel: the checkout is at the pushed commit, nothing pending */
		await page.waitForFunction(() => /up to date/i.test(document.getElementById('git-badge').textContent),
		    null, { timeout: T_UI });
		const local = await text('#git-local');
		assert(local.includes(sha.slice(0, 7)) && local.includes(msg), `local commit after the deploy is "${local}"`);
		const lastDep = await text('#deploys-live');
		assert(lastDep.includes(sha.slice(0, 7)) && lastDep.includes('#' + id) && !/not deployed/.test(lastDep),
		    `the deploys panel says "${lastDep}"`);
		assert(await page.locator('#git-incoming').isHidden(), 'incoming commits still shown after the deploy');

		/* the app serves the new VERSION */
		if (APP_URL) {
			const body = await appServes(msg);
			assert(body === msg, `${APP_URL} serves "${body}", expected "${msg}"`);
		} else {
			log('     skip the app check (DAVIT_APP_URL not set)');
		}

		/* a reload shows the same history */
		await page.reload();
		await page.locator('#dash').waitFor({ state: 'visible' });
		await page.locator('#live[data-live="on"]').waitFor({ timeout: T_UI });
		await row.waitFor({ state: 'visible', timeout: T_UI });
		const again = await checkRow('after a reload');
		assert(JSON.stringify(again) === JSON.stringify(live),
		    `after a reload the deploy reads ${JSON.stringify(again)}, before ${JSON.stringify(live)}`);
		deployed = { id, from, to: sha, msg };
		log(`     deploy #${id}: ${live.steps.join(', ')}; files ${live.files}`);
	});

	await scenario('deploy_broken', 'Deploy of a commit that does not build: failed, said why, the app untouched', async () => {
		assert(deployed, 'no successful deploy before this one');
		await markPage();
		const msg = 'Broken build ' + Date.now();
		const sha = push(msg, 'web/Dockerfile', 'FROM scratch\nCOPY no-such-file /nowhere');
		log(`     pushed ${sha.slice(0, 7)} "${msg}" (web/Dockerfile broken)`);
		const job = await clickAndGetJob(page.locator('#btn-deploy'), true);
		await page.locator(`#deploys li[data-job="${job}"]`).waitFor({ state: 'visible', timeout: T_UI });
		const id = Number(await page.locator(`#deploys li[data-job="${job}"]`).getAttribute('data-deploy'));
		const row = page.locator(`#deploys li[data-deploy="${id}"]`);
		const st = await waitJobDone(job);
		assert(st === 'failed', `deploy job #${job} ${st}, expected failed`);
		await page.waitForFunction((d) => {
			const li = document.querySelector(`#deploys li[data-deploy="${d}"]`);
			return li && li.dataset.state === 'failed';
		}, id, { timeout: T_UI });
		await shot('deploy-failed');
		const badge = (await row.locator('.badge').first().innerText()).trim();
		assert(badge === 'failed', `the deploy's badge says "${badge}"`);
		const steps = (await row.locator('.step').allInnerTexts()).map((s) => s.trim());
		assert(steps.length === 3 && /^✓ fetch\b/.test(steps[0]) && /^✓ pull\b/.test(steps[1]) &&
		    /^✗ rebuild\b/.test(steps[2]), `steps of the failed deploy: ${JSON.stringify(steps)}`);
		const err = await row.locator('.deploy-error').innerText();
		assert(/rebuild failed/i.test(err) && /untouched/i.test(err), `error shown: "${err}"`);
		const shas = await row.locator('.sha').allInnerTexts();
		assert(JSON.stringify(shas) === JSON.stringify([deployed.to.slice(0, 7), sha.slice(0, 7)]),
		    `commits shown ${JSON.stringify(shas)}`);
		const files = (await row.locator('.deploy-files').innerText()).replace(/\s+/g, ' ').trim();
		assert(files === 'Changed file M web/Dockerfile', `changed files shown as "${files}"`);
		/* the earlier deploy is still listed, below it */
		const order = await page.$$eval('#deploys li[data-deploy]', (ls) => ls.map((l) => Number(l.dataset.deploy)));
		assert(order[0] === id && order.includes(deployed.id), `deploys listed: ${order.join(',')}`);
		/* the panel says what was deployed last, and that the checkout moved */
		const lastDep = (await text('#deploys-live')).replace(/\s+/g, ' ');
		assert(lastDep.includes(`${deployed.to.slice(0, 7)} by deploy #${deployed.id}`) &&
		    lastDep.includes(`checkout is at ${sha.slice(0, 7)}, which is not deployed`),
		    `the deploys panel says "${lastDep}"`);
		/* the app still runs what the last deploy built */
		for (const n of SERVICES)
			assert(await svc(n).getAttribute('data-state') === 'running', `${n} is not running after the failed build`);
		if (APP_URL) {
			const body = await appServes(deployed.msg);
			assert(body === deployed.msg, `${APP_URL} serves "${body}" after the failed deploy, expected "${deployed.msg}"`);
		}
		await assertNoReload('failed deploy');
	});

	/* ------------------------------------------------------ rollback -- */
	await scenario('rollback', 'a version that exits at once is rolled back and shown so; "Roll back to this" puts a kept release back', async () => {
		assert(deployed, 'no successful deploy before this one');
		await markPage();
		const webOk = 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY VERSION /www/index.html\n' +
		    'CMD ["/bin/busybox", "sh", "-c", "trap \'exit 0\' TERM INT; /bin/busybox httpd -f -p 127.0.0.1:${PORT} -h /www & wait $!"]';
		const bad = push('Exits at once ' + Date.now(), 'web/Dockerfile',
		    'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "false"]');
		log(`     pushed ${bad.slice(0, 7)} (web exits at once)`);
		const job = await clickAndGetJob(page.locator('#btn-deploy'), true);
		await page.locator(`#deploys li[data-job="${job}"]`).waitFor({ state: 'visible', timeout: T_UI });
		const id = Number(await page.locator(`#deploys li[data-job="${job}"]`).getAttribute('data-deploy'));
		const row = page.locator(`#deploys li[data-deploy="${id}"]`);
		const st = await waitJobDone(job, T_JOB * 2);
		assert(st === 'failed', `deploy job #${job} ${st}, expected failed`);
		await page.waitForFunction((d) => {
			const li = document.querySelector(`#deploys li[data-deploy="${d}"]`);
			return li && li.dataset.state === 'rolled_back';
		}, id, { timeout: T_UI });
		await shot('deploy-rolled-back');
		const badge = (await row.locator('.badge').first().innerText()).trim();
		assert(badge === 'rolled back', `the deploy's badge says "${badge}"`);
		const note = (await row.locator('.deploy-note').innerText()).replace(/\s+/g, ' ');
		assert(note.includes(`Rolled back from ${bad.slice(0, 7)} to ${deployed.to.slice(0, 7)}`),
		    `the note says "${note}"`);
		if (APP_URL) {
			const body = await appServes(deployed.msg);
			assert(body === deployed.msg, `${APP_URL} serves "${body}" after the rollback, expected "${deployed.msg}"`);
		}
		/* a newer good version, then back to the first one from its row */
		push('Web back ' + Date.now(), 'web/Dockerfile', webOk);
		const msg = 'Release after rollback ' + Date.now();
		const good = push(msg);
		const job2 = await clickAndGetJob(page.locator('#btn-deploy'), true);
		assert(await waitJobDone(job2, T_JOB * 2) === 'succeeded', `the deploy of ${good.slice(0, 7)} failed`);
		if (APP_URL)
			assert(await appServes(msg) === msg, `${APP_URL} does not serve the new release`);
		const old = page.locator(`#deploys li[data-deploy="${deployed.id}"]`);
		const btn = old.getByRole('button', { name: `Roll back to deploy ${deployed.id}`, exact: true });
		await btn.waitFor({ state: 'visible', timeout: T_UI });
		assert(await page.locator(`#deploys li[data-job="${job2}"] .deploy-rollback`).count() === 0,
		    'the live release offers a rollback to itself');
		await btn.click();
		await page.locator('#confirm').waitFor({ state: 'visible' });
		const q = await text('#confirm-title');
		const body = await text('#confirm-text');
		assert(q.includes(deployed.to.slice(0, 7)) && body.includes(deployed.to),
		    `the confirmation names the commit: "${q}" / "${body}"`);
		await shot('rollback-confirm');
		const before = await logJobId();
		await page.locator('#confirm-ok').click();
		await page.waitForFunction((b) => {
			const m = /^#(\d+)/.exec(document.getElementById('log-title').textContent);
			return m && Number(m[1]) !== b;
		}, before, { timeout: T_UI });
		const job3 = await logJobId();
		assert(await waitJobDone(job3, T_JOB) === 'succeeded', `the rollback job #${job3} failed`);
		if (APP_URL) {
			const served = await appServes(deployed.msg);
			assert(served === deployed.msg, `${APP_URL} serves "${served}" after "Roll back to this"`);
		}
		const note3 = (await page.locator(`#deploys li[data-job="${job3}"] .deploy-note`).innerText());
		assert(note3.includes(`deploy #${deployed.id}`), `the rollback's row says "${note3}"`);
		await shot('rolled-back-manually');
		await assertNoReload('rollback');
	});

	/* ------------------------------------------------- backend down -- */
	if (DOWN_CMD && UP_CMD) {
		await scenario('backend_down', 'the backend going away is said plainly; its return clears it, the deploys are kept', async () => {
			await markPage();
			assert(await page.locator('#banner-backend').isHidden(), 'banner shown before the kill');
			execFileSync('bash', ['-c', DOWN_CMD], { stdio: 'inherit' });
			await page.locator('#banner-backend').waitFor({ state: 'visible', timeout: T_UI * 3 });
			const msg = await text('#banner-backend');
			assert(/backend is unavailable/i.test(msg), `banner says "${msg}"`);
			assert(await page.locator('#btn-fetch').isDisabled(), 'Fetch is enabled without a backend');
			assert(await svc(first).getByRole('button', { name: `Restart ${first}`, exact: true }).isDisabled(),
			    'Restart is enabled without a backend');
			assert(await page.locator('#login-view').isHidden(), 'the page went back to the login form');
			await shot('backend-down');
			execFileSync('bash', ['-c', UP_CMD], { stdio: 'inherit' });
			await page.locator('#banner-backend').waitFor({ state: 'hidden', timeout: 60000 * SLOW });
			await page.waitForFunction(() => !document.getElementById('btn-fetch').disabled, null,
			    { timeout: T_UI });
			for (const n of SERVICES)
				await svc(n).waitFor({ state: 'visible' });
			if (deployed) {
				/* the new backend has the deploy history (DAVIT_STATE_DIR) but
				 * not the jobs of the old one: no Log button that would show
				 * another job of the same number */
				await page.waitForFunction((d) => {
					const li = document.querySelector(`#deploys li[data-deploy="${d}"]`);
					return li && li.dataset.state === 'succeeded' && !li.querySelector('.deploy-log');
				}, deployed.id, { timeout: T_UI });
				const shas = await page.locator(`#deploys li[data-deploy="${deployed.id}"] .sha`).allInnerTexts();
				assert(JSON.stringify(shas) === JSON.stringify([deployed.from.slice(0, 7), deployed.to.slice(0, 7)]),
				    `deploy #${deployed.id} after the backend restart shows ${JSON.stringify(shas)}`);
			}
			await assertNoReload('backend down and up');
			await shot('backend-back');
		});
	} else {
		log('skip the backend going away (DAVIT_BACKEND_DOWN_CMD/DAVIT_BACKEND_UP_CMD not set)');
	}

	/* ---------------------------------------------------------- phone -- */
	await scenario('phone', 'the dashboard fits a 390 px phone screen', async () => {
		await page.setViewportSize(PHONE);
		await page.waitForTimeout(100);	/* layout */
		const w = await page.evaluate(() => document.documentElement.scrollWidth);
		assert(w <= PHONE.width, `the page is ${w} px wide on a ${PHONE.width} px screen`);
		for (const n of SERVICES) {
			const box = await svc(n).getByRole('button', { name: `Rebuild ${n}`, exact: true }).boundingBox();
			assert(box && box.x >= 0 && box.x + box.width <= PHONE.width,
			    `Rebuild ${n} is off screen: ${JSON.stringify(box)}`);
		}
		await page.screenshot({ path: path.join(ART, `${String(++shotN).padStart(2, '0')}-phone-full.png`), fullPage: true });
		await page.setViewportSize(DESKTOP);
	});

	/* ------------------------------------------------- clean console -- */
	await scenario('console', 'no script errors and no CSP violations', async () => {
		/* HTTP errors are logged by Chromium for every 4xx/5xx reply (the
		 * session check before login, the wrong password): not script errors */
		const bad = consoleErrors.filter((e) => !/^Failed to load resource: the server responded with a status of \d+/.test(e));
		assert(pageErrors.length === 0, 'page errors: ' + pageErrors.join(' | '));
		assert(bad.length === 0, 'console errors: ' + bad.join(' | '));
	});

	/* --------------------------------------------------------- logout -- */
	await scenario('logout', 'Log out goes back to the login form', async () => {
		await page.click('#logout');
		await page.locator('#login-form').waitFor({ state: 'visible' });
		assert(await page.locator('#dash').isHidden(), 'the dashboard is still shown');
		const st = await page.evaluate(async () => (await fetch('/api/state')).status);
		assert(st === 401, `GET /api/state after logout: ${st}`);
		await page.reload();
		await page.locator('#login-form').waitFor({ state: 'visible' });
	});

	await projectsGroup();

	await ctx.close();
	fs.rmSync(profile, { recursive: true, force: true });
	if (skipped)
		log(`${skipped} skipped (--only ${process.env.DAVIT_BROWSER_ONLY})`);
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
}
