/*
 * davit dashboard: one page, no framework, no build step; ES modules, this
 * one first (index.html). It signs in, loads GET /api/state and keeps it
 * current with the events of /api/events, whose names come from
 * js/protocol.js (served by the frontend from proto/'s tables).
 *
 *   js/protocol.js   op and event names (OPS, EVENTS)
 *   js/api.js        the HTTP API; js/events.js the event stream
 *   js/state.js      the state shown; js/ops.js what a job's op is called
 *   js/actions.js    a button that starts a job, the confirmation dialog
 *   js/views/*.js    one per part of the page: status (banners), project,
 *                    git, services, deploys, jobs, log
 *
 * Everything from the server is put into the page with textContent, never
 * as HTML.
 */
import { S } from './js/state.js';
import { $, str, parseTime, renderTimes, toast } from './js/util.js';
import { api, apiHooks } from './js/api.js';
import { connectEvents, closeEvents, loadBegin, loadEnd } from './js/events.js';
import { setServerDown, setBackend, setLive, renderDockerBanner } from './js/views/status.js';
import { renderProject } from './js/views/project.js';
import { renderGit, bindGit } from './js/views/git.js';
import { setServices, renderServices, onServiceState, onEngineState, bindServices } from './js/views/services.js';
import { renderDeploys, onDeployState, bindDeploys } from './js/views/deploys.js';
import { renderJobs, onJobState } from './js/views/jobs.js';
import { pickLogJob, resetLog, refreshLog, onJobLog, bindLog } from './js/views/log.js';

const TICK_MS = 5000;		/* relative times refresh */
const RETRY_MS = 3000;		/* the server unreachable at start */

let stateSeq = 0;
let expiryTimer = 0;
let tickTimer = 0;

/* ---------------------------------------------------------- session -- */
function setSession(s) {
	S.csrf = str(s.csrf);
	S.expiresAt = parseTime(s.expires_at);
	clearTimeout(expiryTimer);
	if (Number.isFinite(S.expiresAt)) {
		const d = Math.min(Math.max(S.expiresAt - Date.now() + 1000, 1000), 0x7fffffff);
		expiryTimer = setTimeout(checkSession, d);
	}
}

async function checkSession() {
	try {
		setSession(await api('GET', '/api/session'));
	} catch (e) {
		if (e.status === 401)
			loggedOut('Your session has expired. Please sign in again.');
	}
}

function showView(which) {
	$('loading').hidden = which !== 'loading';
	$('login-view').hidden = which !== 'login';
	$('dash').hidden = which !== 'dash';
	$('logout').hidden = which !== 'dash';
	$('live').hidden = which !== 'dash';
	$('project').hidden = which !== 'dash' || !S.project;
}

function showLogin(note) {
	showView('login');
	$('login-error').hidden = true;
	$('login-note').textContent = note || 'Enter the dashboard password.';
	$('login-note').classList.toggle('form-error', !!note);
	$('password').value = '';
	$('password').focus();
}

function loggedOut(note) {
	closeEvents();
	clearTimeout(expiryTimer);
	clearInterval(tickTimer);
	S.csrf = null;
	S.loaded = false;
	S.project = S.git = S.services = S.deploys = null;
	S.jobs.clear();
	resetLog('');
	renderJobs();
	$('banner-backend').hidden = true;
	$('banner-docker').hidden = true;
	showLogin(note);
}

async function onLogin(ev) {
	ev.preventDefault();
	const pw = $('password').value;
	const errp = $('login-error');
	errp.hidden = true;
	if (pw === '') {
		errp.textContent = 'Enter the password.';
		errp.hidden = false;
		return;
	}
	$('login-submit').disabled = true;
	try {
		const r = await api('POST', '/api/login', { password: pw });
		$('password').value = '';
		setSession(r);
		enterDashboard();
	} catch (e) {
		if (e.status === 401)
			errp.textContent = 'Wrong password.';
		else if (e.status === 429)
			errp.textContent = 'Too many attempts. Try again' +
			    (e.retryAfter ? ' in ' + e.retryAfter + ' s.' : ' later.');
		else
			errp.textContent = e.message;
		errp.hidden = false;
		$('password').select();
	} finally {
		$('login-submit').disabled = false;
	}
}

async function onLogout() {
	try {
		await api('POST', '/api/logout');
	} catch (e) {
		/* the session is gone either way */
	}
	loggedOut('');
}

apiHooks.reachable = (up) => setServerDown(!up);
apiHooks.unauthorized = () => loggedOut('Your session has expired. Please sign in again.');
apiHooks.unavailable = (message) => setBackend(false, message);

/* ------------------------------------------------------------ state -- */
function enterDashboard() {
	showView('dash');
	setLive(false, 'Connecting…');
	setBackend(true);
	loadState();
	connectEvents(HANDLERS, STREAM);
	clearInterval(tickTimer);
	tickTimer = setInterval(tick, TICK_MS);
}

/*
 * State events that arrive while /api/state is on its way may be newer
 * than the snapshot it brings: they are applied again on top of it
 * (js/events.js).
 */
async function loadState() {
	const seq = ++stateSeq;
	const mark = loadBegin();
	let st = null, err = null;
	try {
		st = await api('GET', '/api/state');
	} catch (e) {
		err = e;
	}
	const recent = loadEnd(mark);
	if (err) {
		if (seq === stateSeq && err.status !== 401 && err.status !== 503 && err.status !== 0)
			toast('Could not load the state: ' + err.message, true);
		return;
	}
	if (seq !== stateSeq || !S.csrf)
		return;
	applyState(st);
	for (const e of recent)
		e.fn(e.d);
}

function applyState(st) {
	S.project = (st.project && typeof st.project === 'object') ? st.project : null;
	S.git = (st.git && typeof st.git === 'object') ? st.git : null;
	setServices(st.services);
	S.jobs.clear();
	if (Array.isArray(st.jobs))
		for (const j of st.jobs)
			if (j && typeof j.id === 'number')
				S.jobs.set(j.id, j);
	S.deploys = Array.isArray(st.deploys) ? st.deploys.slice() : null;
	S.loaded = true;
	setBackend(st.backend === undefined || st.backend === 'up',
	    st.backend === 'down' ? 'the frontend has lost its link to it' : '');
	renderProject();
	renderGit();
	renderServices();
	renderJobs();
	renderDeploys();
	pickLogJob();
}

/* ----------------------------------------------------------- events -- */
/* what each event of js/protocol.js's EVENTS does here (js/events.js) */
const HANDLERS = {
	'job.state': { apply: onJobState },
	'job.log': { signal: onJobLog },
	'service.state': { apply: onServiceState },
	'git.state': { apply: (g) => {
		S.git = g;
		renderGit();
	} },
	'deploy.state': { apply: onDeployState },
	'engine.state': { apply: onEngineState },
	'backend': { signal: (d) => {
		const was = S.backendUp;
		setBackend(d.up === true, d.up === true ? '' : 'the frontend has lost its link to it');
		/* the stream says "up" when it opens: reload only on a change */
		if (d.up === true && !was) {
			/* a new backend numbers its jobs afresh */
			resetLog('');
			loadState();
		}
	} },
	'missed': { signal: () => {
		loadState();
		refreshLog();
	} }
};

const STREAM = {
	active: () => !!S.csrf,
	open: () => {
		setLive(true);
		/* first open or reconnect: anything may have been missed */
		loadState();
		refreshLog();
	},
	down: () => setLive(false),
	/* the server refused the stream: session gone? */
	closed: () => checkSession()
};

/* ------------------------------------------------------------- boot -- */
function tick() {
	renderTimes();
	renderDockerBanner();
	/* the backend is down and the event stream may not say when it is back */
	if (S.csrf && (!S.backendUp || S.serverDown))
		loadState();
}

function bind() {
	$('login-form').addEventListener('submit', onLogin);
	$('logout').addEventListener('click', onLogout);
	bindGit();
	bindDeploys();
	bindServices();
	bindLog();
	document.addEventListener('visibilitychange', () => {
		/* a phone may have slept: make sure nothing is stale */
		if (document.visibilityState === 'visible' && S.csrf) {
			loadState();
			tick();
		}
	});
}

async function boot() {
	bind();
	showView('loading');
	for (;;) {
		try {
			setSession(await api('GET', '/api/session'));
			enterDashboard();
			return;
		} catch (e) {
			if (e.status === 401) {
				showLogin('');
				return;
			}
			$('loading').textContent = e.status ? e.message + ' Retrying…' :
			    'Waiting for the davit server…';
		}
		/* server unreachable or broken: the banner says so; retry */
		await new Promise((r) => setTimeout(r, RETRY_MS));
	}
}

boot();
