/*
 * davit dashboard: one page, no framework, no build step.
 *
 * State comes from GET /api/state and is kept current by the EventSource on
 * /api/events (job.state, job.log, service.state, git.state, deploy.state,
 * backend, missed). Everything from the server is put into the page with
 * textContent, never as HTML.
 */
'use strict';

(() => {
	const LOG_MAX_LINES = 2000;	/* lines kept in the log panel */
	const JOBS_SHOWN = 25;		/* rows in "Recent jobs" */
	const JOBS_KEPT = 100;		/* jobs remembered from events */
	const DEPLOYS_SHOWN = 10;	/* rows in "Deploys" */
	const DEPLOYS_KEPT = 100;	/* deploys remembered from events */
	const TICK_MS = 5000;		/* relative times refresh */
	const RECONNECT_MS = 3000;	/* after the event stream was closed */
	const TOAST_MS = 6000;

	const $ = (id) => document.getElementById(id);

	/* ------------------------------------------------------------ state -- */
	const S = {
		csrf: null,
		expiresAt: null,
		project: null,
		git: null,
		services: null,		/* {engine, services:[...]} */
		jobs: new Map(),	/* id -> job (without log) */
		deploys: null,		/* array or null (feature absent) */
		backendUp: true,
		backendMsg: '',
		serverDown: false,
		loaded: false
	};

	/* the job shown in the log panel */
	const L = {
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

	let es = null;			/* EventSource */
	let esTimer = 0;
	let stateSeq = 0;
	let expiryTimer = 0;
	let tickTimer = 0;

	/* ---------------------------------------------------------- helpers -- */
	function el(tag, cls, text) {
		const e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		return e;
	}

	function str(v) {
		return (typeof v === 'string') ? v : (v === null || v === undefined ? '' : String(v));
	}

	function shortId(id) {
		return str(id).slice(0, 7);
	}

	function parseTime(iso) {
		if (typeof iso !== 'string' || iso === '')
			return NaN;
		return Date.parse(iso);
	}

	function fmtDuration(ms) {
		if (!Number.isFinite(ms) || ms < 0)
			ms = 0;
		const s = Math.floor(ms / 1000);
		if (s < 60)
			return s + ' s';
		const m = Math.floor(s / 60);
		if (m < 60)
			return m + ' min';
		const h = Math.floor(m / 60);
		if (h < 48)
			return h + ' h' + (m % 60 && h < 10 ? ' ' + (m % 60) + ' min' : '');
		return Math.floor(h / 24) + ' days';
	}

	function fmtAgo(ms) {
		if (!Number.isFinite(ms))
			return '';
		const d = Date.now() - ms;
		if (d < 5000)
			return 'just now';
		return fmtDuration(d) + ' ago';
	}

	function fmtMs(ms) {
		if (typeof ms !== 'number' || !Number.isFinite(ms))
			return '';
		/* a no-break space: "4.6 s" does not wrap */
		return ms < 1000 ? Math.round(ms) + '\u00a0ms' : (ms / 1000).toFixed(1) + '\u00a0s';
	}

	function absTime(ms) {
		return Number.isFinite(ms) ? new Date(ms).toLocaleString() : '';
	}

	/*
	 * A span whose text is a relative time, refreshed by tick(): kind "ago"
	 * ("3 min ago") or "up" (a duration: "3 min").
	 */
	function timeSpan(iso, kind, prefix) {
		const s = el('span', 'rel');
		setTime(s, iso, kind, prefix);
		return s;
	}

	function setTime(s, iso, kind, prefix) {
		const t = parseTime(iso);
		s.dataset.ts = Number.isFinite(t) ? String(t) : '';
		s.dataset.kind = kind || 'ago';
		s.dataset.prefix = prefix || '';
		s.title = absTime(t);
		renderTime(s);
	}

	function renderTime(s) {
		const t = Number(s.dataset.ts);
		if (s.dataset.ts === '' || !Number.isFinite(t)) {
			s.textContent = '';
			return;
		}
		const txt = s.dataset.kind === 'up' ? fmtDuration(Date.now() - t) : fmtAgo(t);
		s.textContent = s.dataset.prefix + txt;
	}

	function tick() {
		for (const s of document.querySelectorAll('span.rel'))
			renderTime(s);
		renderDockerBanner();
		/* the backend is down and the event stream may not say when it is back */
		if (S.csrf && (!S.backendUp || S.serverDown))
			loadState();
	}

	function toast(msg, bad) {
		const t = el('div', 'toast' + (bad ? ' t-bad' : ''), msg);
		t.setAttribute('role', bad ? 'alert' : 'status');
		$('toasts').appendChild(t);
		setTimeout(() => t.remove(), bad ? TOAST_MS * 1.5 : TOAST_MS);
		while ($('toasts').children.length > 4)
			$('toasts').firstChild.remove();
	}

	function badge(node, text, tone, extra) {
		node.textContent = text;
		node.className = ['badge', node.dataset.base, 'b-' + tone, extra].filter(Boolean).join(' ');
		node.hidden = false;
		return node;
	}

	/* ------------------------------------------------------------- HTTP -- */
	class ApiError extends Error {
		constructor(status, code, message, retryAfter) {
			super(message);
			this.status = status;
			this.code = code;
			this.retryAfter = retryAfter;
		}
	}

	async function api(method, path, body) {
		const opts = { method, headers: {}, credentials: 'same-origin', cache: 'no-store' };
		if (method !== 'GET') {
			if (S.csrf)
				opts.headers['X-Davit-CSRF'] = S.csrf;
			if (body !== undefined) {
				opts.headers['Content-Type'] = 'application/json';
				opts.body = JSON.stringify(body);
			}
		}
		let res;
		try {
			res = await fetch(path, opts);
		} catch (e) {
			setServerDown(true);
			throw new ApiError(0, 'network', 'The davit server cannot be reached.');
		}
		setServerDown(false);
		let data = null;
		if ((res.headers.get('Content-Type') || '').includes('json')) {
			try {
				data = await res.json();
			} catch (e) {
				data = null;
			}
		}
		if (!res.ok) {
			const err = (data && typeof data.error === 'object' && data.error) || {};
			const e = new ApiError(res.status, str(err.code) || 'http_' + res.status,
			    str(err.message) || 'HTTP ' + res.status + ' ' + res.statusText,
			    res.headers.get('Retry-After'));
			if (res.status === 401 && path !== '/api/login' && S.csrf)
				loggedOut('Your session has expired. Please sign in again.');
			if (res.status === 503 && method === 'GET')
				setBackend(false, e.message);
			throw e;
		}
		if (data === null || typeof data !== 'object')
			throw new ApiError(res.status, 'bad_reply', 'Unexpected reply from the server.');
		return data;
	}

	/* ------------------------------------------------------ connectivity -- */
	function setServerDown(down) {
		if (S.serverDown === down)
			return;
		S.serverDown = down;
		const b = $('banner-server');
		b.textContent = 'The davit server cannot be reached. Retrying…';
		b.hidden = !down;
		updateButtons();
	}

	function setBackend(up, msg) {
		S.backendUp = up;
		S.backendMsg = up ? '' : str(msg);
		const b = $('banner-backend');
		b.replaceChildren();
		if (!up) {
			b.append(el('strong', null, 'The davit backend is unavailable.'),
			    ' Actions are disabled until it is back' +
			    (S.backendMsg ? ' (' + S.backendMsg + ').' : '.'));
		}
		b.hidden = up || !S.csrf;
		updateButtons();
	}

	function setLive(on, text) {
		const l = $('live');
		l.dataset.live = on ? 'on' : 'off';
		$('live-text').textContent = text || (on ? 'Live' : 'Reconnecting…');
		l.title = on ? 'Live updates are on' : 'Live updates are interrupted';
	}

	function renderDockerBanner() {
		const b = $('banner-docker');
		const eng = S.services && S.services.engine;
		if (!S.csrf || !eng || eng.reachable !== false) {
			b.hidden = true;
			return;
		}
		b.replaceChildren(el('strong', null, 'Docker is unreachable.'));
		let t = ' ';
		if (eng.error)
			t += str(eng.error) + '. ';
		if (Number.isFinite(S.staleSince) && Date.now() - S.staleSince >= 5000)
			t += 'The service states below are from ' + fmtDuration(Date.now() - S.staleSince) + ' ago.';
		else
			t += 'The service states below may be out of date.';
		b.append(t);
		b.hidden = false;
	}

	function markStale() {
		const eng = S.services && S.services.engine;
		$('services').classList.toggle('stale', !!(eng && eng.reachable === false));
	}

	function updateButtons() {
		const off = !S.backendUp || S.serverDown;
		for (const b of document.querySelectorAll('[data-needs="backend"]')) {
			if (b.dataset.busy === '1')
				continue;
			b.disabled = off || b.dataset.stateOff === '1';
		}
	}

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
		if (es) {
			es.close();
			es = null;
		}
		clearTimeout(esTimer);
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

	/* ------------------------------------------------------------ state -- */
	function enterDashboard() {
		showView('dash');
		setLive(false, 'Connecting…');
		setBackend(true);
		loadState();
		connectEvents();
		clearInterval(tickTimer);
		tickTimer = setInterval(tick, TICK_MS);
	}

	/*
	 * State events that arrive while /api/state is on its way may be newer
	 * than the snapshot it brings: they are applied again on top of it (they
	 * are whole objects, so applying one twice does no harm).
	 */
	let evCount = 0;
	let loadsInFlight = 0;
	const evRecent = [];		/* {n, fn, d} while a load is in flight */
	const EV_RECENT_MAX = 1000;

	async function loadState() {
		const seq = ++stateSeq;
		const mark = evCount;
		let st = null, err = null;
		loadsInFlight++;
		try {
			st = await api('GET', '/api/state');
		} catch (e) {
			err = e;
		}
		loadsInFlight--;
		const recent = evRecent.filter((e) => e.n > mark);
		if (loadsInFlight === 0)
			evRecent.length = 0;
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

	function setServices(sv) {
		S.services = (sv && typeof sv === 'object') ? sv : null;
		const eng = S.services && S.services.engine;
		if (eng && typeof eng.stale_ms === 'number')
			S.staleSince = Date.now() - eng.stale_ms;
		else
			S.staleSince = NaN;
		renderDockerBanner();
		markStale();
	}

	/* ----------------------------------------------------------- events -- */
	function connectEvents() {
		if (es)
			es.close();
		clearTimeout(esTimer);
		es = new EventSource('/api/events');
		es.onopen = () => {
			setLive(true);
			/* first open or reconnect: anything may have been missed */
			loadState();
			refreshLog();
		};
		es.onerror = () => {
			if (!S.csrf)
				return;
			setLive(false);
			if (es && es.readyState === EventSource.CLOSED) {
				/* the server refused the stream: session gone? */
				es = null;
				checkSession().then(() => {
					if (S.csrf)
						esTimer = setTimeout(connectEvents, RECONNECT_MS);
				});
			}
		};
		const on = (name, fn, replayable) => es.addEventListener(name, (ev) => {
			let d;
			try {
				d = JSON.parse(ev.data);
			} catch (e) {
				return;
			}
			if (!d || typeof d !== 'object')
				return;
			if (replayable) {
				evCount++;
				if (loadsInFlight > 0 && evRecent.length < EV_RECENT_MAX)
					evRecent.push({ n: evCount, fn, d });
			}
			fn(d);
		});
		on('job.state', onJobState, true);
		on('job.log', onJobLog, false);
		on('service.state', onServiceState, true);
		on('git.state', (g) => {
			S.git = g;
			renderGit();
		}, true);
		on('deploy.state', onDeployState, true);
		/* the Docker engine reachable or not (frontend/HTTP.md) */
		on('engine.state', (e) => {
			const sv = S.services || { engine: null, services: [] };
			sv.engine = e;
			setServices(sv);
			renderServices();
		}, true);
		on('backend', (d) => {
			const was = S.backendUp;
			setBackend(d.up === true, d.up === true ? '' : 'the frontend has lost its link to it');
			/* the stream says "up" when it opens: reload only on a change */
			if (d.up === true && !was) {
				/* a new backend numbers its jobs afresh */
				resetLog('');
				loadState();
			}
		});
		on('missed', () => {
			loadState();
			refreshLog();
		});
	}

	function onJobState(j) {
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

	function onServiceState(s) {
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

	/* a deploy is its id and its creation time (see deployJob) */
	function onDeployState(d) {
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

	/* ---------------------------------------------------------- project -- */
	function renderProject() {
		const p = S.project;
		if (!p) {
			$('project').hidden = true;
			return;
		}
		const name = str(p.github_repo) || str(p.compose_project) || str(p.repo);
		$('project-name').textContent = name;
		$('project-branch').textContent = str(p.branch);
		$('project-branch').hidden = !p.branch;
		$('project').hidden = false;
		document.title = name ? name + ' · davit' : 'davit';
	}

	/* -------------------------------------------------------------- git -- */
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

	function renderGit() {
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

	/* --------------------------------------------------------- services -- */
	const STATE_TONE = {
		running: 'ok', restarting: 'warn', paused: 'info', created: 'idle',
		exited: 'idle', dead: 'bad', missing: 'bad'
	};
	const HEALTH_TONE = { healthy: 'ok', starting: 'warn', unhealthy: 'bad' };
	const svcRows = new Map();	/* name -> {root, ...parts} */

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

	function renderServices() {
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

	const OP_VERB = {
		'service.start': 'starting', 'service.stop': 'stopping', 'service.restart': 'restarting',
		'service.rebuild': 'rebuilding', 'stack.start': 'starting', 'stack.stop': 'stopping',
		'stack.restart': 'restarting', 'stack.rebuild': 'rebuilding', 'deploy': 'deploying'
	};

	function renderServiceBusy() {
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

		let git = '';
		for (const j of S.jobs.values()) {
			const verb = GIT_VERB[j.op];
			if (verb && (j.state === 'running' || (j.state === 'queued' && !git)))
				git = j.state === 'queued' ? queuedText(j) : verb + '…';
		}
		$('git-busy').textContent = git;
	}

	function queuedText(j) {
		return (OP_LABEL[j.op] || str(j.op)).toLowerCase() + ' queued';
	}

	const GIT_VERB = { 'git.fetch': 'fetching', 'git.pull': 'pulling', 'deploy': 'deploying' };

	/* ---------------------------------------------------------- actions -- */
	const dialog = $('confirm');
	let dialogResolve = null;

	function confirmAction(title, text, okLabel) {
		if (typeof dialog.showModal !== 'function')
			return Promise.resolve(window.confirm(title + '\n\n' + text));
		$('confirm-title').textContent = title;
		$('confirm-text').textContent = text;
		$('confirm-ok').textContent = okLabel;
		dialog.returnValue = '';
		return new Promise((resolve) => {
			dialogResolve = resolve;
			dialog.showModal();
			$('confirm-cancel').focus();
		});
	}

	dialog.addEventListener('close', () => {
		if (dialogResolve) {
			const r = dialogResolve;
			dialogResolve = null;
			r(dialog.returnValue === 'ok');
		}
	});

	async function runJob(button, path, what) {
		if (button) {
			button.dataset.busy = '1';
			button.disabled = true;
		}
		try {
			const r = await api('POST', path);
			if (typeof r.job === 'number') {
				/* no toast: the log panel and the busy markers show the job */
				L.pinned = false;
				showJob(r.job, false);
			}
		} catch (e) {
			if (e.status !== 401)
				toast(what + ' failed: ' + e.message +
				    (e.status === 429 && e.retryAfter ? ' (retry in ' + e.retryAfter + ' s)' : ''), true);
		} finally {
			if (button) {
				delete button.dataset.busy;
				updateButtons();
			}
		}
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

	async function deployAction(button) {
		if (!await confirmAction('Deploy now?',
		    'davit fetches the origin, fast-forwards the checkout, rebuilds the images and recreates ' +
		    'the services (they are briefly down), then checks that they run. A failed build ' +
		    'leaves the running app as it is.', 'Deploy'))
			return;
		await runJob(button, '/api/deploy', 'Deploy');
	}

	/* ------------------------------------------------------------- jobs -- */
	const OP_LABEL = {
		'service.start': 'Start', 'service.stop': 'Stop', 'service.restart': 'Restart',
		'service.rebuild': 'Rebuild', 'stack.start': 'Start all', 'stack.stop': 'Stop all',
		'stack.restart': 'Restart all', 'stack.rebuild': 'Rebuild all', 'git.fetch': 'Fetch',
		'git.pull': 'Pull', 'deploy': 'Deploy', 'webhook.push': 'Webhook push'
	};

	function jobLabel(j) {
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

	const JOB_TONE = { queued: 'idle', running: 'info', succeeded: 'ok', failed: 'bad' };

	function jobBadge(node, j) {
		const st = str(j.state) || 'unknown';
		badge(node, st, JOB_TONE[st] || 'idle', st === 'running' ? 'b-running' : '');
	}

	function sortedJobs() {
		return [...S.jobs.values()].sort((a, b) => b.id - a.id);
	}

	function renderJobs() {
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

	/* ---------------------------------------------------------- deploys -- */
	const DEPLOY_STEPS = ['fetch', 'pull', 'rebuild', 'verify'];
	const DEPLOY_TONE = { queued: 'idle', running: 'info', succeeded: 'ok', failed: 'bad', interrupted: 'warn' };
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
	function renderDeployLive() {
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

	function renderDeploys() {
		const panel = $('deploys-panel');
		if (!Array.isArray(S.deploys)) {
			panel.hidden = true;
			return;
		}
		panel.hidden = false;
		renderDeployLive();
		const ol = $('deploys');
		const ds = sortedDeploys().slice(0, DEPLOYS_SHOWN);
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
			badge(b, st, tone, st === 'running' ? 'b-running' : '');
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
			li.append(head, deployMeta(d));
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

	/* -------------------------------------------------------------- log -- */
	const logBox = $('log');

	function pickLogJob() {
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

	function renderLogHead() {
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

	function resetLog(text) {
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

	function showJob(id, scrollTo) {
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

	function refreshLog() {
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

	function onJobLog(d) {
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

	/* ------------------------------------------------------------- boot -- */
	function bind() {
		$('login-form').addEventListener('submit', onLogin);
		$('logout').addEventListener('click', onLogout);
		$('btn-fetch').addEventListener('click', (ev) => runJob(ev.currentTarget, '/api/git/fetch', 'Fetch'));
		$('btn-pull').addEventListener('click', (ev) => runJob(ev.currentTarget, '/api/git/pull', 'Pull'));
		$('btn-deploy').addEventListener('click', (ev) => deployAction(ev.currentTarget));
		for (const b of document.querySelectorAll('[data-stack]'))
			b.addEventListener('click', () => stackAction(b, b.dataset.stack));
		$('log-jump').addEventListener('click', scrollLog);
		$('log-follow').addEventListener('click', () => {
			L.pinned = false;
			const run = sortedJobs().find((x) => x.state === 'running');
			if (run)
				showJob(run.id, false);
			renderLogHead();
		});
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
			await new Promise((r) => setTimeout(r, RECONNECT_MS));
		}
	}

	boot();
})();
