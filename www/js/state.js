/*
 * The dashboard's copy of davit's state: filled from GET /api/state and kept
 * current by the events (app.js); read by every view.
 */
export const S = {
	csrf: null,
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
