/*
 * The Services panel: a row per service (its state, health, uptime, image,
 * restarts, exit code, what a job is doing to it) with its buttons, and the
 * buttons for all of them.
 */
import { S } from '../state.js';
import { $, el, str, setTime, badge } from '../util.js';
import { OP_VERB, queuedText } from '../ops.js';
import { confirmAction, runJob } from '../actions.js';
import { updateButtons, renderDockerBanner } from './status.js';
import { renderGitBusy } from './git.js';

const STATE_TONE = {
	running: 'ok', restarting: 'warn', paused: 'info', created: 'idle',
	exited: 'idle', dead: 'bad', missing: 'bad'
};
const HEALTH_TONE = { healthy: 'ok', starting: 'warn', unhealthy: 'bad' };
const svcRows = new Map();	/* name -> {root, ...parts} */

/* services.list's answer, or null; also how long Docker has been away */
export function setServices(sv) {
	S.services = (sv && typeof sv === 'object') ? sv : null;
	const eng = S.services && S.services.engine;
	if (eng && typeof eng.stale_ms === 'number')
		S.staleSince = Date.now() - eng.stale_ms;
	else
		S.staleSince = NaN;
	renderDockerBanner();
	markStale();
}

function markStale() {
	const eng = S.services && S.services.engine;
	$('services').classList.toggle('stale', !!(eng && eng.reachable === false));
}

/* a service.state event: the whole record of one service */
export function onServiceState(s) {
	if (!s.service)
		return;
	if (!S.services)
		S.services = { engine: null, services: [] };
	if (!Array.isArray(S.services.services))
		S.services.services = [];
	const list = S.services.services;
	const i = list.findIndex((x) => x.service === s.service);
	if (i >= 0)
		list[i] = s;
	else
		list.push(s);
	renderServices();
}

/* an engine.state event: Docker reachable or not (frontend/HTTP.md) */
export function onEngineState(e) {
	const sv = S.services || { engine: null, services: [] };
	sv.engine = e;
	setServices(sv);
	renderServices();
}

function serviceNames() {
	const names = [];
	if (S.project && Array.isArray(S.project.services))
		for (const n of S.project.services)
			names.push(str(n));
	const list = (S.services && Array.isArray(S.services.services)) ? S.services.services : [];
	for (const s of list)
		if (s && s.service && !names.includes(str(s.service)))
			names.push(str(s.service));
	return names;
}

function makeServiceRow(name) {
	const r = { root: el('article', 'svc') };
	r.root.dataset.service = name;
	const head = el('div', 'svc-head');
	r.name = el('span', 'svc-name', name);
	r.state = el('span', 'badge svc-state');
	r.state.dataset.base = 'svc-state';
	r.health = el('span', 'badge svc-health');
	r.health.dataset.base = 'svc-health';
	r.busy = el('span', 'svc-busy');
	head.append(r.name, r.state, r.health, r.busy);
	const meta = el('dl', 'svc-meta');
	const item = (label, cls) => {
		const d = el('div');
		const dd = el('dd', cls);
		d.append(el('dt', null, label), dd);
		meta.append(d);
		return [d, dd];
	};
	[r.upBox, r.uptime] = item('Uptime', 'svc-uptime');
	[r.imgBox, r.image] = item('Image', 'svc-image');
	[r.rsBox, r.restarts] = item('Restarts', 'svc-restarts');
	[r.exitBox, r.exit] = item('Exit code', 'svc-exit');
	r.uptimeSpan = el('span', 'rel');
	r.uptime.append(r.uptimeSpan);
	const acts = el('div', 'svc-actions');
	r.buttons = {};
	for (const [a, label] of [['start', 'Start'], ['stop', 'Stop'], ['restart', 'Restart'], ['rebuild', 'Rebuild']]) {
		const b = el('button', 'btn', label);
		b.type = 'button';
		b.dataset.action = a;
		b.dataset.needs = 'backend';
		b.setAttribute('aria-label', label + ' ' + name);
		b.addEventListener('click', () => serviceAction(name, a));
		acts.append(b);
		r.buttons[a] = b;
	}
	r.root.append(head, meta, acts);
	return r;
}

export function renderServices() {
	const box = $('services');
	const names = serviceNames();
	const list = (S.services && Array.isArray(S.services.services)) ? S.services.services : [];
	const none = $('services-none');
	if (names.length === 0)
		none.textContent = 'No services configured.';
	else if (!S.services)
		none.textContent = 'The backend did not report the service states; they are unknown for now.';
	none.hidden = names.length > 0 && !!S.services;
	for (const [n, r] of svcRows)
		if (!names.includes(n)) {
			r.root.remove();
			svcRows.delete(n);
		}
	names.forEach((n, i) => {
		let r = svcRows.get(n);
		if (!r) {
			r = makeServiceRow(n);
			svcRows.set(n, r);
		}
		if (box.children[i] !== r.root)
			box.insertBefore(r.root, box.children[i] || null);
		fillServiceRow(r, list.find((x) => x && x.service === n) || null);
	});
	renderServiceBusy();
	updateButtons();
}

function fillServiceRow(r, s) {
	const known = !!S.services;
	const state = s ? str(s.state) || 'unknown' : (known ? 'missing' : 'unknown');
	const tone = STATE_TONE[state] || 'idle';
	r.root.dataset.state = state;
	r.root.dataset.tone = tone;
	badge(r.state, state, tone);
	r.state.title = s ? str(s.status) : '';

	const h = s && s.health ? str(s.health) : '';
	if (h)
		badge(r.health, h, HEALTH_TONE[h] || 'idle');
	else
		r.health.hidden = true;

	const running = state === 'running' || state === 'restarting' || state === 'paused';
	if (running && s.started_at)
		setTime(r.uptimeSpan, s.started_at, 'up');
	else
		setTime(r.uptimeSpan, '', 'up');
	r.upBox.hidden = !(running && s.started_at);
	r.root.dataset.started = s ? str(s.started_at) : '';

	r.image.textContent = s ? str(s.image) : '';
	r.imgBox.hidden = !(s && s.image);
	r.restarts.textContent = s && typeof s.restarts === 'number' ? String(s.restarts) : '';
	r.rsBox.hidden = !(s && s.restarts > 0);
	r.exit.textContent = s && s.exit_code !== null && s.exit_code !== undefined ? String(s.exit_code) : '';
	r.exitBox.hidden = !(s && !running && s.exit_code !== null && s.exit_code !== undefined && state !== 'missing' && state !== 'created');

	r.buttons.start.dataset.stateOff = (state === 'running' || state === 'restarting') ? '1' : '0';
	r.buttons.stop.dataset.stateOff = (state === 'missing' || state === 'exited' || state === 'dead' || state === 'created') ? '1' : '0';
}

/* what a job does to each service and to the checkout, from the jobs known */
export function renderServiceBusy() {
	const busy = new Map();
	for (const j of S.jobs.values()) {
		if (j.state !== 'queued' && j.state !== 'running')
			continue;
		const verb = OP_VERB[j.op];
		if (!verb)
			continue;
		const txt = j.state === 'queued' ? queuedText(j) : verb + '…';
		const svc = j.args && typeof j.args === 'object' ? j.args.service : null;
		for (const n of svcRows.keys())
			if (!svc || svc === n) {
				/* the running job wins over queued ones */
				if (!busy.has(n) || j.state === 'running')
					busy.set(n, txt);
			}
	}
	for (const [n, r] of svcRows)
		r.busy.textContent = busy.get(n) || '';
	renderGitBusy();
}

async function serviceAction(name, action) {
	const verb = action[0].toUpperCase() + action.slice(1);
	if (action === 'stop' && !await confirmAction('Stop ' + name + '?',
	    'The service ' + name + ' will be stopped and stay down until it is started again.', 'Stop'))
		return;
	if (action === 'rebuild' && !await confirmAction('Rebuild ' + name + '?',
	    'The image of ' + name + ' will be rebuilt and its container recreated; it is briefly down.', 'Rebuild'))
		return;
	const r = svcRows.get(name);
	await runJob(r ? r.buttons[action] : null,
	    '/api/services/' + encodeURIComponent(name) + '/' + action, verb + ' ' + name);
}

async function stackAction(button, action) {
	const verb = action[0].toUpperCase() + action.slice(1);
	if (action === 'stop' && !await confirmAction('Stop all services?',
	    'Every service of the project will be stopped and stay down until started again.', 'Stop all'))
		return;
	if (action === 'rebuild' && !await confirmAction('Rebuild all services?',
	    'Every image will be rebuilt and every container recreated; the services are briefly down.', 'Rebuild all'))
		return;
	await runJob(button, '/api/stack/' + action, verb + ' all');
}

export function bindServices() {
	for (const b of document.querySelectorAll('[data-stack]'))
		b.addEventListener('click', () => stackAction(b, b.dataset.stack));
}
