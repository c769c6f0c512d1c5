/*
 * The Deploys panel: what the last successful deploy put live, and each
 * deploy with its commits, trigger, steps, changed files and error; Deploy.
 */
import { S } from '../state.js';
import { $, el, str, shortId, parseTime, fmtMs, timeSpan, badge } from '../util.js';
import { confirmAction, runJob } from '../actions.js';
import { L, showJob } from './log.js';

const DEPLOYS_SHOWN = 10;	/* rows in "Deploys" */
const DEPLOYS_KEPT = 100;	/* deploys remembered from events */
const DEPLOY_STEPS = ['fetch', 'pull', 'rebuild', 'verify'];
const DEPLOY_TONE = {
	queued: 'idle', running: 'info', succeeded: 'ok', failed: 'bad', interrupted: 'warn', rolled_back: 'warn'
};
const STATE_TEXT = { rolled_back: 'rolled back' };
const TRIGGER_TEXT = {
	dashboard: 'from the dashboard', webhook: 'GitHub push', socket: 'from the control socket'
};
const FILE_LETTER = { added: 'A', modified: 'M', deleted: 'D', renamed: 'R' };
const STEP_MARK = { ok: '✓', failed: '✗', skipped: '–', running: '…', pending: '○' };

function deployTime(d) {
	const t = parseTime(d.created_at);
	return Number.isFinite(t) ? t : 0;
}

/* newest first */
function sortedDeploys() {
	return (S.deploys || []).filter((d) => d && typeof d.id === 'number')
	    .sort((a, b) => (deployTime(b) - deployTime(a)) || (b.id - a.id));
}

/*
 * The job of a deploy while the backend still keeps it. A deploy's id is
 * its job's id, and a new backend numbers its jobs afresh: the same id in
 * an earlier run was another job, told apart by its creation time.
 */
function deployJob(d) {
	if (typeof d.job !== 'number')
		return null;
	const j = S.jobs.get(d.job);
	return j && str(j.created_at) === str(d.created_at) ? j : null;
}

function deployRange(d) {
	const range = el('span', 'commit deploy-range');
	const sha = (id) => {
		const c = el('code', 'sha', shortId(id));
		c.title = str(id);
		return c;
	};
	if (d.from && d.to && d.from !== d.to)
		range.append(sha(d.from), el('span', 'arrow', '→'), sha(d.to));
	else if (d.to)
		range.append(sha(d.to), el('span', 'commit-meta', d.from ? 'no new commits' : ''));
	return range;
}

/*
 * The steps that ran, with ✓ ✗ or – (skipped); while the deploy is on its
 * way also the one running now (…) and those still to come (○).
 */
function deploySteps(d) {
	const done = new Map();
	for (const s of Array.isArray(d.steps) ? d.steps : [])
		if (s && typeof s === 'object' && s.name)
			done.set(str(s.name), s);
	const active = d.state === 'running' || d.state === 'queued';
	const names = DEPLOY_STEPS.concat([...done.keys()].filter((n) => !DEPLOY_STEPS.includes(n)));
	let current = d.state === 'running';
	const ul = el('ul', 'deploy-steps');
	ul.setAttribute('aria-label', 'Steps');
	for (const n of names) {
		const s = done.get(n);
		let res, title;
		if (s) {
			res = s.skipped === true ? 'skipped' : s.ok === true ? 'ok' : 'failed';
			title = n + (res === 'skipped' ? ': skipped' : res === 'ok' ? ': done' : ': failed') +
			    (typeof s.ms === 'number' ? ' in ' + fmtMs(s.ms) : '');
		} else if (!active) {
			continue;	/* not run: an earlier step failed, or not needed */
		} else if (current) {
			res = 'running';
			title = n + ': in progress';
			current = false;
		} else {
			res = 'pending';
			title = n + ': to come';
		}
		let t = STEP_MARK[res] + ' ' + n;
		if (res === 'skipped')
			t += ' skipped';
		else if (s && typeof s.ms === 'number')
			t += ' ' + fmtMs(s.ms);
		const li = el('li', 'step s-' + res, t);
		li.dataset.step = n;
		li.dataset.result = res;
		li.title = title;
		ul.append(li);
	}
	return ul.children.length ? ul : null;
}

function deployFiles(files) {
	const SHOWN = 8;
	const box = el('div', 'deploy-files');
	const ul = el('ul', 'file-chips');
	ul.setAttribute('aria-label', 'Changed files');
	for (const f of files.slice(0, SHOWN)) {
		const li = el('li', 'file-chip');
		if (typeof f === 'string') {
			li.append(f);
		} else if (f && typeof f === 'object') {
			const st = str(f.status);
			const letter = el('span', 'fst fst-' + (FILE_LETTER[st] ? st : 'other'), FILE_LETTER[st] || '?');
			letter.title = st || 'changed';
			li.append(letter, ' ' + (f.old_path ? str(f.old_path) + ' → ' : '') + str(f.path));
		} else {
			continue;
		}
		ul.append(li);
	}
	if (files.length > SHOWN)
		ul.append(el('li', 'file-chip muted', '… and ' + (files.length - SHOWN) + ' more'));
	box.append(el('span', 'deploy-label', files.length === 1 ? 'Changed file' : 'Changed files'), ul);
	return box;
}

function deployMeta(d) {
	const meta = el('div', 'commit-meta deploy-meta');
	const trig = str(d.trigger);
	meta.append(el('span', 'deploy-trigger', TRIGGER_TEXT[trig] || trig || 'unknown trigger'));
	const by = str(d.by);
	if (trig === 'webhook' && by.startsWith('webhook:')) {
		const s = el('span', null, ' · delivery ' + by.slice(8, 16));
		s.title = by.slice(8);
		meta.append(s);
	} else if (by && by !== trig) {
		meta.append(' · by ' + by);
	}
	if (d.pushed && d.to && d.pushed !== d.to)
		meta.append(' · the push named ' + shortId(d.pushed));
	const t0 = parseTime(d.started_at), t1 = parseTime(d.ended_at);
	if (d.ended_at) {
		meta.append(' · ', timeSpan(d.ended_at, 'ago', 'ended '));
		if (Number.isFinite(t0) && Number.isFinite(t1))
			meta.append(' · took ' + fmtMs(t1 - t0));
	} else if (d.started_at) {
		meta.append(' · ', timeSpan(d.started_at, 'ago', 'started '));
	} else if (d.created_at) {
		meta.append(' · ', timeSpan(d.created_at, 'ago', 'queued '));
	}
	return meta;
}

/*
 * What the last successful deploy put live, and whether the checkout has
 * moved since (a pull, or a deploy whose build failed).
 */
export function renderDeployLive() {
	const p = $('deploys-live');
	const last = Array.isArray(S.deploys) ?
	    sortedDeploys().find((d) => d.state === 'succeeded' && d.to) : null;
	p.replaceChildren();
	p.classList.remove('moved');
	if (!last) {
		p.hidden = true;
		return;
	}
	const sha = el('code', 'sha', shortId(last.to));
	sha.title = str(last.to);
	p.append('Last deployed: ', sha, ' by deploy #' + last.id);
	if (last.ended_at)
		p.append(' · ', timeSpan(last.ended_at, 'ago'));
	const local = S.git && S.git.local && S.git.local.id ? str(S.git.local.id) : '';
	const busy = sortedDeploys().some((d) => d.state === 'running' || d.state === 'queued');
	if (local && local !== str(last.to) && !busy) {
		const w = el('span', 'deploys-moved');
		const c = el('code', 'sha', shortId(local));
		c.title = local;
		w.append('The checkout is at ', c, ', which is not deployed.');
		p.append(' ', w);
		p.classList.add('moved');
	}
	p.hidden = false;
}

export function renderDeploys() {
	const panel = $('deploys-panel');
	if (!Array.isArray(S.deploys)) {
		panel.hidden = true;
		return;
	}
	panel.hidden = false;
	renderDeployLive();
	const ol = $('deploys');
	const ds = sortedDeploys().slice(0, DEPLOYS_SHOWN);
	const live = sortedDeploys().find((d) => d.state === 'succeeded' && d.to);
	$('deploys-none').hidden = ds.length > 0;
	ol.replaceChildren();
	for (const d of ds) {
		const st = str(d.state) || 'unknown';
		const tone = DEPLOY_TONE[st] || 'idle';
		const li = el('li', 'deploy');
		li.dataset.deploy = String(d.id);
		if (typeof d.job === 'number')
			li.dataset.job = String(d.job);
		li.dataset.state = st;
		li.dataset.tone = tone;
		li.dataset.trigger = str(d.trigger);
		const head = el('div', 'deploy-head');
		const b = el('span');
		badge(b, STATE_TEXT[st] || st, tone, st === 'running' ? 'b-running' : '');
		head.append(el('strong', 'deploy-name', 'Deploy #' + d.id), b, deployRange(d));
		const j = deployJob(d);
		if (j) {
			const lb = el('button', 'btn btn-small deploy-log', 'Log');
			lb.type = 'button';
			lb.setAttribute('aria-label', 'Log of deploy ' + d.id);
			lb.addEventListener('click', () => {
				L.pinned = true;
				showJob(j.id, true);
			});
			head.append(lb);
		}
		if (d.kept === true && live && str(d.to) !== str(live.to))
			head.append(rollbackButton(d));
		li.append(head, deployMeta(d));
		const note = deployNote(d);
		if (note)
			li.append(note);
		const steps = deploySteps(d);
		if (steps)
			li.append(steps);
		if (Array.isArray(d.files) && d.files.length)
			li.append(deployFiles(d.files));
		if (d.error)
			li.append(el('div', 'job-error deploy-error', str(d.error)));
		ol.append(li);
	}
}

/*
 * What a rollback did: "rolled back from X to Y" (automatic), "release of
 * deploy #N put back" (deploy.rollback), or, for an interrupted deploy,
 * where it had got to.
 */
function deployNote(d) {
	const sha = (id) => {
		const c = el('code', 'sha', shortId(id));
		c.title = str(id);
		return c;
	};
	const p = el('div', 'commit-meta deploy-note');
	if (d.state === 'rolled_back' && d.to && d.rolled_back_to)
		p.append('Rolled back from ', sha(d.to), ' to ', sha(d.rolled_back_to),
		    ': the checkout is behind origin until a newer commit deploys.');
	else if (typeof d.release_of === 'number' && d.release_of > 0)
		p.append('Roll back to the release of deploy #' + d.release_of + '.');
	else if (d.state === 'interrupted' && d.to)
		p.append('Interrupted: the checkout may be at ', sha(d.to),
		    d.from ? ' while the app still runs ' : '', d.from ? sha(d.from) : '', '.');
	else
		return null;
	return p;
}

function rollbackButton(d) {
	const b = el('button', 'btn btn-small deploy-rollback', 'Roll back to this');
	b.type = 'button';
	b.setAttribute('aria-label', 'Roll back to deploy ' + d.id);
	b.addEventListener('click', async (ev) => {
		const button = ev.currentTarget;
		if (!await confirmAction('Roll back to ' + shortId(d.to) + '?',
		    'davit moves the checkout back to commit ' + str(d.to) + ' (deploy #' + d.id +
		    '), runs its kept images again without a build or a fetch, and checks that ' +
		    'the services run. Services whose image changes are recreated.', 'Roll back'))
			return;
		await runJob(button, '/api/deploys/' + d.id + '/rollback', 'Roll back');
	});
	return b;
}

/* a deploy.state event: the whole record of one deploy */
export function onDeployState(d) {
	if (typeof d.id !== 'number')
		return;
	if (!S.deploys)
		S.deploys = [];
	const i = S.deploys.findIndex((x) => x && x.id === d.id &&
	    str(x.created_at) === str(d.created_at));
	if (i >= 0)
		S.deploys[i] = d;
	else
		S.deploys.push(d);
	if (S.deploys.length > DEPLOYS_KEPT)
		S.deploys = sortedDeploys().slice(0, DEPLOYS_KEPT);
	renderDeploys();
}

async function deployAction(button) {
	if (!await confirmAction('Deploy now?',
	    'davit fetches the origin, fast-forwards the checkout, rebuilds the images and recreates ' +
	    'the services whose image or configuration changed (they are briefly down), then checks ' +
	    'that they run; if they do not, it puts the previous release back. A failed build ' +
	    'leaves the running app as it is.', 'Deploy'))
		return;
	await runJob(button, '/api/deploy', 'Deploy');
}

export function bindDeploys() {
	$('btn-deploy').addEventListener('click', (ev) => deployAction(ev.currentTarget));
}
