/*
 * The Repository panel: the checkout's and origin's commits, the incoming
 * commits, local changes, when origin was fetched and checked; Fetch, Pull.
 */
import { S } from '../state.js';
import { $, el, str, shortId, fmtDuration, timeSpan, badge } from '../util.js';
import { GIT_VERB, queuedText } from '../ops.js';
import { runJob } from '../actions.js';
import { updateButtons } from './status.js';
import { renderDeployLive } from './deploys.js';

function commitNode(c, withAuthor) {
	const d = el('span', 'commit');
	if (!c || typeof c !== 'object') {
		d.append(el('span', 'muted', 'unknown'));
		return d;
	}
	const sha = el('code', 'sha', shortId(c.id));
	sha.title = str(c.id);
	d.append(sha, el('span', 'commit-summary', str(c.summary)));
	const meta = el('span', 'commit-meta');
	if (withAuthor !== false && c.author)
		meta.append(str(c.author), ' · ');
	meta.append(timeSpan(c.time, 'ago'));
	d.append(meta);
	return d;
}

export function renderGit() {
	renderDeployLive();
	const g = S.git;
	const p = S.project;
	const where = [];
	if (p) {
		if (p.repo)
			where.push(str(p.repo));
		if (g && g.branch)
			where.push('branch ' + str(g.branch));
		else if (p.branch)
			where.push('branch ' + str(p.branch));
		if (p.workdir)
			where.push(str(p.workdir));
	}
	$('git-where').textContent = where.join(' · ');
	$('git-where').hidden = where.length === 0;

	const gb = $('git-badge');
	$('git-none').hidden = !!g;
	$('git-commits').hidden = !g;
	const pull = $('btn-pull');
	if (!g) {
		gb.hidden = true;
		$('git-incoming').hidden = true;
		$('git-dirty').hidden = true;
		$('git-error').hidden = true;
		$('git-times').textContent = '';
		pull.dataset.stateOff = '0';
		updateButtons();
		return;
	}

	if (g.detached)
		badge(gb, 'Detached HEAD', 'warn');
	else if (g.update_available)
		badge(gb, 'Update available', 'update');
	else if (g.ahead > 0 && g.behind > 0)
		badge(gb, 'Diverged', 'bad');
	else if (g.ahead > 0)
		badge(gb, g.ahead + ' ahead of origin', 'warn');
	else if (g.remote)
		badge(gb, 'Up to date', 'ok');
	else
		badge(gb, 'Not fetched', 'idle');
	gb.title = g.behind > 0 ? g.behind + ' commit(s) behind origin' : '';

	$('git-local').replaceChildren(commitNode(g.local));
	$('git-remote').replaceChildren(g.remote ? commitNode(g.remote) :
	    el('span', 'muted', 'not fetched yet'));
	/* the poll saw origin move: say so until a fetch brings it in */
	const polled = str(g.polled_id);
	if (polled && (!g.remote || str(g.remote.id) !== polled)) {
		const moved = el('div', 'commit-meta git-polled');
		moved.append('origin has moved to ', el('code', 'sha', shortId(polled)),
		    ' (Fetch to see its commits)');
		$('git-remote').append(moved);
	}

	const err = $('git-error');
	err.textContent = g.error ? str(g.error) : '';
	err.hidden = !g.error;

	const inc = Array.isArray(g.incoming) ? g.incoming : [];
	const list = $('git-incoming-list');
	list.replaceChildren();
	for (const c of inc) {
		const li = el('li');
		li.append(commitNode(c));
		list.append(li);
	}
	const behind = typeof g.behind === 'number' ? g.behind : inc.length;
	$('git-incoming-h').textContent = 'Incoming commits (' + Math.max(behind, inc.length) + ')';
	$('git-incoming').hidden = inc.length === 0;

	const dirty = Array.isArray(g.dirty) ? g.dirty : [];
	const dl = $('git-dirty-list');
	dl.replaceChildren();
	for (const f of dirty.slice(0, 50))
		dl.append(el('li', null, str(f)));
	if (dirty.length > 50)
		dl.append(el('li', 'muted', '… and ' + (dirty.length - 50) + ' more'));
	$('git-dirty').hidden = dirty.length === 0;

	const times = $('git-times');
	times.replaceChildren();
	if (g.fetched_at)
		times.append(timeSpan(g.fetched_at, 'ago', 'Fetched '));
	else
		times.append('Never fetched');
	if (g.polled_at)
		times.append(' · ', timeSpan(g.polled_at, 'ago', 'origin checked '));
	if (p && p.poll_interval > 0)
		times.append(' · checks origin every ' + fmtDuration(p.poll_interval * 1000));
	if (p && p.webhook)
		times.append(' · webhook on');

	pull.classList.toggle('btn-primary', !!g.update_available);
	pull.dataset.stateOff = '0';
	updateButtons();
}

/* what the running (or else the first queued) job does to the checkout */
export function renderGitBusy() {
	let git = '';
	for (const j of S.jobs.values()) {
		const verb = GIT_VERB[j.op];
		if (verb && (j.state === 'running' || (j.state === 'queued' && !git)))
			git = j.state === 'queued' ? queuedText(j) : verb + '…';
	}
	$('git-busy').textContent = git;
}

export function bindGit() {
	$('btn-fetch').addEventListener('click', (ev) => runJob(ev.currentTarget, '/api/git/fetch', 'Fetch'));
	$('btn-pull').addEventListener('click', (ev) => runJob(ev.currentTarget, '/api/git/pull', 'Pull'));
}
