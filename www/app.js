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
 *                    git, services, deploys, jobs, log; overview (#/)
 *
 * Several projects (GET /api/projects): #/ is the overview, #/p/NAME a
 * project's page, whose every call carries ?project=NAME (api.js scoped)
 * and which takes only its project's events. With one project (or a
 * backend without projects.list) #/ is that project's page, as before.
 *
 * Everything from the server is put into the page with textContent, never
 * as HTML.
 */
import { S } from './js/state.js';
import { $, str, parseTime, renderTimes, toast } from './js/util.js';
import { api, apiHooks, scoped } from './js/api.js';
import { connectEvents, closeEvents, loadBegin, loadEnd } from './js/events.js';
import { setServerDown, setBackend, setLive, renderDockerBanner } from './js/views/status.js';
import { renderProject } from './js/views/project.js';
import { renderGit, bindGit } from './js/views/git.js';
import { setServices, renderServices, onServiceState, onEngineState, bindServices } from './js/views/services.js';
import { renderDeploys, onDeployState, bindDeploys } from './js/views/deploys.js';
import { renderJobs, onJobState } from './js/views/jobs.js';
import { pickLogJob, resetLog, refreshLog, onJobLog, bindLog } from './js/views/log.js';
import { renderOverview } from './js/views/overview.js';

const TICK_MS = 5000;		/* relative times refresh */
const RETRY_MS = 3000;		/* the server unreachable at start */
const OVERVIEW_MS = 1000;	/* the overview re-read at most this often on events */

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
	const signedIn = which === 'dash' || which === 'overview';
	$('loading').hidden = which !== 'loading';
	$('login-view').hidden = which !== 'login';
	$('dash').hidden = which !== 'dash';
	$('overview').hidden = which !== 'overview';
	$('logout').hidden = !signedIn;
	$('live').hidden = !signedIn;
	$('project').hidden = which !== 'dash' || !S.project;
	$('nav-overview').hidden = which !== 'dash' || !S.projectName;
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
	S.projects = null;
	S.projectName = null;
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

/* ----------------------------------------------------------- routes -- */
let overviewTimer = 0;
let overviewSeq = 0;

/*
 * GET /api/projects into S.projects: null when the backend has no
 * projects.list (501) or the list could not be read.
 */
async function loadProjects() {
	const seq = ++overviewSeq;
	try {
		const r = await api('GET', '/api/projects');
		if (seq === overviewSeq)
			S.projects = Array.isArray(r.projects) ? r.projects : [];
	} catch (e) {
		if (seq === overviewSeq && e.status === 501)
			S.projects = null;
		else if (e.status !== 401 && e.status !== 503 && e.status !== 0)
			toast('Could not load the projects: ' + e.message, true);
	}
}

function several() {
	return Array.isArray(S.projects) && S.projects.length > 1;
}

/* the page's state, emptied before another project's is shown */
function clearPage() {
	++stateSeq;
	S.project = S.git = S.services = S.deploys = null;
	S.loaded = false;
	S.jobs.clear();
	resetLog('');
	renderJobs();
	renderProject();
	$('banner-docker').hidden = true;
}

/* the view the hash names: the overview, a project's page, or the only one */
function route() {
	if (!S.csrf)
		return;
	const m = /^#\/p\/([a-z0-9][a-z0-9-]{0,31})$/.exec(location.hash);
	let name = m ? m[1] : null;
	if (!several())
		name = null;	/* one project: its page is #/, without ?project= */
	else if (name && !S.projects.some((p) => p && p.name === name)) {
		toast('There is no project ' + name + '.', true);
		name = null;
	}
	if (several() && name === null) {
		if (location.hash !== '' && location.hash !== '#/')
			history.replaceState(null, '', '#/');
		S.view = 'overview';
		if (S.projectName !== null)
			clearPage();
		S.projectName = null;
		document.title = 'davit';
		renderOverview();
		showView('overview');
		return;
	}
	const changed = S.view !== 'page' || S.projectName !== name;
	S.view = 'page';
	if (S.projectName !== name)
		clearPage();
	S.projectName = name;
	showView('dash');
	if (changed || !S.loaded) {
		loadState();
		refreshLog();
	}
}

/* an event about a project: the overview's list is re-read soon */
function overviewSoon() {
	if (overviewTimer || S.view !== 'overview')
		return;
	overviewTimer = setTimeout(async () => {
		overviewTimer = 0;
		await loadProjects();
		if (S.view === 'overview')
			renderOverview();
	}, OVERVIEW_MS);
}

/* projects.changed, or the stream (re)opened: the list, then the view */
async function reloadProjects() {
	await loadProjects();
	route();
}

/* ------------------------------------------------------------ state -- */
async function enterDashboard() {
	setLive(false, 'Connecting…');
	setBackend(true);
	await loadProjects();
	route();
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
	if (S.view !== 'page')
		return;
	const seq = ++stateSeq;
	const mark = loadBegin();
	let st = null, err = null;
	try {
		st = await api('GET', scoped('/api/state'));
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
/*
 * A project-scoped event (its data names "project") is the page's when the
 * page shows that project, or the only one; on the overview it re-reads
 * the list.
 */
function mine(fn) {
	return (d) => {
		if (typeof d.project === 'string')
			overviewSoon();
		if (S.view !== 'page')
			return;
		if (S.projectName && typeof d.project === 'string' && d.project !== S.projectName)
			return;
		fn(d);
	};
}

/* what each event of js/protocol.js's EVENTS does here (js/events.js) */
const HANDLERS = {
	'job.state': { apply: mine(onJobState) },
	'job.log': { signal: mine(onJobLog) },
	'service.state': { apply: mine(onServiceState) },
	'git.state': { apply: mine((g) => {
		S.git = g;
		renderGit();
	}) },
	'deploy.state': { apply: mine(onDeployState) },
	'engine.state': { apply: (d) => {
		overviewSoon();
		onEngineState(d);
	} },
	'projects.changed': { signal: () => reloadProjects() },
	'backend': { signal: (d) => {
		const was = S.backendUp;
		setBackend(d.up === true, d.up === true ? '' : 'the frontend has lost its link to it');
		/* the stream says "up" when it opens: reload only on a change */
		if (d.up === true && !was) {
			/* a new backend numbers its jobs afresh, and may have new projects */
			resetLog('');
			reloadProjects();
			loadState();
		}
	} },
	'missed': { signal: () => {
		overviewSoon();
		loadState();
		refreshLog();
	} }
};

const STREAM = {
	active: () => !!S.csrf,
	open: () => {
		setLive(true);
		/* first open or reconnect: anything may have been missed */
		if (S.view === 'overview')
			reloadProjects();
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
	window.addEventListener('hashchange', () => route());
	document.addEventListener('visibilitychange', () => {
		/* a phone may have slept: make sure nothing is stale */
		if (document.visibilityState === 'visible' && S.csrf) {
			if (S.view === 'overview')
				reloadProjects();
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
