/*
 * The HTTP API (frontend/HTTP.md): one fetch per call, the CSRF header on
 * every call that changes something, errors as ApiError with the server's
 * code and message. What a reply says about the connection (the server
 * unreachable, the session gone, the backend unavailable) goes to the hooks
 * that app.js sets.
 */
import { S } from './state.js';
import { str } from './util.js';

export const apiHooks = {
	reachable(up) {},		/* the server answered, or did not */
	unauthorized() {},		/* a 401 while signed in */
	unavailable(message) {}		/* a 503 on a GET: the backend is down */
};

export class ApiError extends Error {
	constructor(status, code, message, retryAfter) {
		super(message);
		this.status = status;
		this.code = code;
		this.retryAfter = retryAfter;
	}
}

/* a project-scoped route of the page's project: ?project=NAME */
export function scoped(path) {
	if (!S.projectName)
		return path;
	return path + (path.includes('?') ? '&' : '?') + 'project=' + encodeURIComponent(S.projectName);
}

export async function api(method, path, body) {
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
		apiHooks.reachable(false);
		throw new ApiError(0, 'network', 'The davit server cannot be reached.');
	}
	apiHooks.reachable(true);
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
			apiHooks.unauthorized();
		if (res.status === 503 && method === 'GET')
			apiHooks.unavailable(e.message);
		throw e;
	}
	if (data === null || typeof data !== 'object')
		throw new ApiError(res.status, 'bad_reply', 'Unexpected reply from the server.');
	return data;
}
