/*
 * The Repository panel: the checkout's and origin's commits, the incoming
 * commits, local changes, when origin was fetched and checked; how davit
 * authenticates to GitHub (git.status's auth: never a token); Fetch, Pull.
 */
import { S } from '../state.js';
import { $, el, str, shortId, fmtDuration, parseTime, timeSpan, badge } from '../util.js';
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

const EXPIRY_WARN_MS = 7 * 24 * 3600 * 1000;	/* the backend notifies then too */

/* "Jan 2, 2031, 03:04 (in 5 days)", or '' */
function whenText(iso) {
	const t = parseTime(iso);
	if (!Number.isFinite(t))
		return '';
	const d = t - Date.now();
	return new Date(t).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) +
	    (d >= 0 ? ' (in ' + fmtDuration(d) + ')' : ' (' + fmtDuration(-d) + ' ago)');
}

/* the auth line under the repository's name, made once (index.html has none) */
function authNodes() {
	let line = $('git-auth');
	if (!line) {
		line = el('p', 'muted git-auth');
		line.id = 'git-auth';
		const err = el('p', 'inline-error git-auth-error');
		err.id = 'git-auth-error';
		err.hidden = true;
		$('git-where').after(line, err);
	}
	return [line, $('git-auth-error')];
}

/*
 * git.status's auth: {mode: app|token|none, ..., error}; its error is not
 * repeated when git's own error (gitError) already says it
 */
export function renderAuth(a, gitError) {
	const [line, err] = authNodes();
	line.replaceChildren();
	line.classList.remove('git-auth-warn');
	if (!a || typeof a !== 'object') {
		line.hidden = true;
		err.hidden = true;
		return;
	}
	if (a.mode === 'app') {
		line.append('GitHub App ' + str(a.app_id) + ', installation ' +
		    (typeof a.installation === 'number' ? String(a.installation) : 'not known yet'));
		const until = whenText(a.token_expires_at);
		line.append(until ? ', token valid until ' + until : ', no token yet');
	} else if (a.mode === 'token') {
		line.append('Personal token (DAVIT_GITHUB_TOKEN)');
		const until = whenText(a.expires_at);
		if (until) {
			line.append(', expires ' + until);
			const left = parseTime(a.expires_at) - Date.now();
			line.classList.toggle('git-auth-warn', left < EXPIRY_WARN_MS);
		}
	} else
		line.append('No GitHub credentials');
	line.hidden = false;
	const shown = a.error && !str(gitError).includes(str(a.error));
	err.textContent = shown ? 'GitHub: ' + str(a.error) : '';
	err.hidden = !shown;
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

	renderAuth(g ? g.auth : null, g ? g.error : null);
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
