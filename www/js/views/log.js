/*
 * The Log panel: the output of one job, loaded with GET /api/jobs/ID and
 * then followed line by line from job.log events (numbered: a gap reloads
 * the tail); new lines are added once per frame, at most LOG_MAX_LINES kept.
 * It shows the running job unless the user chose one (pinned).
 */
import { S } from '../state.js';
import { $, el, str } from '../util.js';
import { api } from '../api.js';
import { jobLabel, jobBadge, sortedJobs, renderJobs } from './jobs.js';

const LOG_MAX_LINES = 2000;	/* lines kept in the log panel */

/* the job shown in the log panel */
export const L = {
	job: 0,			/* id, 0 = none */
	pinned: false,		/* the user chose it: don't switch to new jobs */
	lastN: 0,		/* number of the last line shown */
	loading: false,
	pending: [],		/* job.log events received while loading */
	queue: [],		/* lines waiting for the next frame */
	frame: 0,
	count: 0,		/* line elements in the panel */
	stick: true		/* follow the bottom */
};

const logBox = $('log');

export function pickLogJob() {
	/* keep the job shown if it is known, chosen, or newer than this state */
	const newest = Math.max(0, ...S.jobs.keys());
	if (L.job && (S.jobs.has(L.job) || L.pinned || L.job > newest)) {
		renderLogHead();
		return;
	}
	const jobs = sortedJobs();
	const run = jobs.find((j) => j.state === 'running');
	const j = run || jobs[0];
	if (j)
		showJob(j.id, false);
	else
		renderLogHead();
}

export function renderLogHead() {
	const j = S.jobs.get(L.job);
	$('log-title').textContent = L.job ? '#' + L.job + (j ? ' ' + jobLabel(j) : '') : '';
	const st = $('log-state');
	if (j)
		jobBadge(st, j);
	else
		st.hidden = true;
	const running = sortedJobs().find((x) => x.state === 'running');
	$('log-follow').hidden = !(L.pinned && running && running.id !== L.job);
	for (const li of $('jobs').children)
		if (li.dataset.job === String(L.job))
			li.setAttribute('aria-current', 'true');
		else
			li.removeAttribute('aria-current');
	if (!L.job && L.count === 0)
		logPlaceholder('No job yet. Actions you start show their output here.');
}

export function resetLog(text) {
	L.job = 0;
	L.pinned = false;
	L.lastN = 0;
	L.queue = [];
	L.pending = [];
	L.loading = false;
	logSeq++;	/* a load on its way is for the old job */
	logPlaceholder(text);
	renderLogHead();
}

function logPlaceholder(text) {
	logBox.replaceChildren(el('div', 'log-empty', text));
	L.count = 0;
}

export function showJob(id, scrollTo) {
	if (id === L.job) {
		/* shown or loading already (the 202 and job.state race) */
		renderLogHead();
		return;
	}
	L.job = id;
	L.lastN = 0;
	L.pending = [];
	L.queue = [];
	L.stick = true;
	$('log-jump').hidden = true;
	logPlaceholder('Loading…');
	renderLogHead();
	loadLog(id);
	if (scrollTo && window.matchMedia('(max-width: 960px)').matches)
		$('log-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

export function refreshLog() {
	if (L.job)
		loadLog(L.job);
}

let logSeq = 0;

async function loadLog(id) {
	const seq = ++logSeq;
	L.loading = true;
	let j;
	try {
		j = await api('GET', '/api/jobs/' + id);
	} catch (e) {
		if (L.job === id && seq === logSeq) {
			L.loading = false;
			if (e.status === 404)
				logPlaceholder('Job #' + id + ' is no longer kept by the backend.');
			else if (e.status !== 401)
				logPlaceholder('Could not load the log: ' + e.message);
		}
		return;
	}
	/* another job was chosen, or a newer load of this one is on its way */
	if (L.job !== id || seq !== logSeq)
		return;
	L.loading = false;
	if (typeof j.id === 'number')
		S.jobs.set(j.id, Object.assign({}, j, { log: undefined }));
	const lines = Array.isArray(j.log) ? j.log : [];
	const total = typeof j.log_lines === 'number' ? j.log_lines : lines.length;
	const first = total - lines.length + 1;
	const top = logBox.scrollTop;
	if (total >= L.lastN) {
		/* the fetched copy is at least as new as what is shown */
		logBox.replaceChildren();
		L.count = 0;
		L.queue = [];
		if (first > 1)
			appendLine('… ' + (first - 1) + ' earlier lines not kept …', 'log-empty');
		for (const line of lines)
			appendLine(str(line));
		L.lastN = total;
	}
	for (const ev of L.pending)
		if (ev.n === L.lastN + 1) {
			queueLine(ev.line);
			L.lastN = ev.n;
		}
	L.pending = [];
	if (L.count === 0 && L.queue.length === 0)
		logPlaceholder(j.state === 'queued' ? 'Waiting for the job to start…' : 'No output.');
	if (L.stick) {
		scrollLog();
	} else {
		/* a reload while the user reads further up: stay there */
		logBox.scrollTop = top;
		$('log-jump').hidden = false;
	}
	renderJobs();
	renderLogHead();
}

let gapTimer = 0;

export function onJobLog(d) {
	if (d.job !== L.job || typeof d.n !== 'number')
		return;
	if (L.loading) {
		L.pending.push(d);
		return;
	}
	if (d.n <= L.lastN)
		return;
	if (d.n > L.lastN + 1) {
		/* lines were lost: reload the tail of the log */
		clearTimeout(gapTimer);
		gapTimer = setTimeout(refreshLog, 200);
		return;
	}
	L.lastN = d.n;
	queueLine(str(d.line));
}

function queueLine(line) {
	L.queue.push(line);
	/* no frames while the tab is hidden: keep only what would be shown */
	if (L.queue.length > LOG_MAX_LINES)
		L.queue.splice(0, L.queue.length - LOG_MAX_LINES);
	if (!L.frame)
		L.frame = requestAnimationFrame(flushLog);
}

function flushLog() {
	L.frame = 0;
	if (L.queue.length === 0)
		return;
	if (L.count === 0)
		logBox.replaceChildren();
	const stick = L.stick;
	const frag = document.createDocumentFragment();
	for (const line of L.queue.splice(0))
		frag.append(el('div', 'log-line', line));
	logBox.append(frag);
	L.count = logBox.children.length;
	while (L.count > LOG_MAX_LINES) {
		logBox.firstChild.remove();
		L.count--;
	}
	if (stick)
		scrollLog();
	else
		$('log-jump').hidden = false;
}

function appendLine(line, cls) {
	logBox.append(el('div', cls || 'log-line', line));
	L.count++;
}

function scrollLog() {
	logBox.scrollTop = logBox.scrollHeight;
	L.stick = true;
	$('log-jump').hidden = true;
}

/* a resize (a phone turned, the one-column layout) keeps the bottom in view */
if (typeof ResizeObserver === 'function')
	new ResizeObserver(() => {
		if (L.stick)
			logBox.scrollTop = logBox.scrollHeight;
	}).observe(logBox);

logBox.addEventListener('scroll', () => {
	const atBottom = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 24;
	L.stick = atBottom;
	if (atBottom)
		$('log-jump').hidden = true;
}, { passive: true });

export function bindLog() {
	$('log-jump').addEventListener('click', scrollLog);
	$('log-follow').addEventListener('click', () => {
		L.pinned = false;
		const run = sortedJobs().find((x) => x.state === 'running');
		if (run)
			showJob(run.id, false);
		renderLogHead();
	});
}
