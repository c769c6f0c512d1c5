/* The Recent jobs panel, and the jobs known from the state and the events. */
import { S } from '../state.js';
import { $, el, str, shortId, parseTime, fmtMs, timeSpan, badge } from '../util.js';
import { OP_LABEL } from '../ops.js';
import { renderServiceBusy } from './services.js';
import { renderDeploys } from './deploys.js';
import { L, showJob, renderLogHead } from './log.js';

const JOBS_SHOWN = 25;		/* rows in "Recent jobs" */
const JOBS_KEPT = 100;		/* jobs remembered from events */
const JOB_TONE = { queued: 'idle', running: 'info', succeeded: 'ok', failed: 'bad' };

/* a job.state event: the whole record of one job, without its log */
export function onJobState(j) {
	if (typeof j.id !== 'number')
		return;
	S.jobs.set(j.id, j);
	if (S.jobs.size > JOBS_KEPT) {
		const ids = [...S.jobs.keys()].sort((a, b) => a - b);
		for (const id of ids.slice(0, S.jobs.size - JOBS_KEPT))
			S.jobs.delete(id);
	}
	renderJobs();
	renderServiceBusy();
	if (j.op === 'deploy')
		renderDeploys();	/* its Log button */
	if (j.id === L.job)
		renderLogHead();
	else if (!L.pinned && j.state === 'running')
		showJob(j.id, false);
}

export function jobLabel(j) {
	let s = OP_LABEL[j.op] || str(j.op);
	const a = j.args;
	if (a && typeof a === 'object') {
		if (a.service)
			s += ' ' + str(a.service);
		else if (a.ref)
			s += ' ' + shortId(a.ref);
	}
	return s;
}

export function jobBadge(node, j) {
	const st = str(j.state) || 'unknown';
	badge(node, st, JOB_TONE[st] || 'idle', st === 'running' ? 'b-running' : '');
}

/* newest first */
export function sortedJobs() {
	return [...S.jobs.values()].sort((a, b) => b.id - a.id);
}

export function renderJobs() {
	const ol = $('jobs');
	const jobs = sortedJobs().slice(0, JOBS_SHOWN);
	$('jobs-none').hidden = jobs.length > 0;
	ol.replaceChildren();
	for (const j of jobs) {
		const li = el('li', 'job');
		li.dataset.job = String(j.id);
		li.dataset.state = str(j.state);
		if (j.id === L.job)
			li.setAttribute('aria-current', 'true');
		const b = el('button', 'job-open');
		b.type = 'button';
		const what = el('span', 'job-what');
		what.append(el('span', 'job-id', '#' + j.id), jobLabel(j));
		what.title = str(j.op);
		const st = el('span');
		jobBadge(st, j);
		const meta = el('span', 'job-meta');
		const parts = [];
		if (j.by)
			parts.push('by ' + str(j.by));
		meta.append(parts.join(''));
		const t0 = parseTime(j.started_at), t1 = parseTime(j.ended_at);
		if (j.ended_at) {
			meta.append(parts.length ? ' · ' : '', timeSpan(j.ended_at, 'ago', 'ended '));
			if (Number.isFinite(t0) && Number.isFinite(t1))
				meta.append(' · took ' + fmtMs(t1 - t0));
		} else if (j.started_at) {
			meta.append(parts.length ? ' · ' : '', timeSpan(j.started_at, 'ago', 'started '));
		} else {
			meta.append(parts.length ? ' · ' : '', timeSpan(j.created_at, 'ago', 'queued '));
		}
		if (j.state === 'failed') {
			let why = j.error ? str(j.error) : '';
			if (!why && typeof j.exit === 'number')
				why = 'exit ' + j.exit;
			if (why)
				meta.append(' · ', el('span', 'job-error', why));
		}
		b.append(what, st, meta);
		b.addEventListener('click', () => {
			L.pinned = true;
			showJob(j.id, true);
		});
		li.append(b);
		ol.append(li);
	}
}
