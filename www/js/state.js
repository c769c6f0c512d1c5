/*
 * The dashboard's copy of davit's state: filled from GET /api/state and kept
 * current by the events (app.js); read by every view.
 */
export const S = {
	csrf: null,
	projects: null,		/* GET /api/projects' list; null: a backend without it */
	projectName: null,	/* the page's project, sent as ?project=; null: the only one */
	view: 'page',		/* 'page' (a project) or 'overview' (#/ with several) */
	expiresAt: null,
	project: null,
	git: null,
	services: null,		/* {engine, services:[...]} */
	staleSince: NaN,	/* when Docker was last reachable */
	jobs: new Map(),	/* id -> job (without log) */
	deploys: null,		/* array or null (feature absent) */
	backendUp: true,
	backendMsg: '',
	serverDown: false,
	loaded: false
};
