/*
 * Small helpers of every view: elements by id and made with textContent
 * (never HTML), values as strings, times ("3 min ago"), badges and toasts.
 */
const TOAST_MS = 6000;

export const $ = (id) => document.getElementById(id);

export function el(tag, cls, text) {
	const e = document.createElement(tag);
	if (cls)
		e.className = cls;
	if (text !== undefined && text !== null)
		e.textContent = String(text);
	return e;
}

export function str(v) {
	return (typeof v === 'string') ? v : (v === null || v === undefined ? '' : String(v));
}

export function shortId(id) {
	return str(id).slice(0, 7);
}

export function parseTime(iso) {
	if (typeof iso !== 'string' || iso === '')
		return NaN;
	return Date.parse(iso);
}

export function fmtDuration(ms) {
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

export function fmtMs(ms) {
	if (typeof ms !== 'number' || !Number.isFinite(ms))
		return '';
	/* a no-break space: "4.6 s" does not wrap */
	return ms < 1000 ? Math.round(ms) + '\u00a0ms' : (ms / 1000).toFixed(1) + '\u00a0s';
}

function absTime(ms) {
	return Number.isFinite(ms) ? new Date(ms).toLocaleString() : '';
}

/*
 * A span whose text is a relative time, refreshed by renderTimes(): kind
 * "ago" ("3 min ago") or "up" (a duration: "3 min").
 */
export function timeSpan(iso, kind, prefix) {
	const s = el('span', 'rel');
	setTime(s, iso, kind, prefix);
	return s;
}

export function setTime(s, iso, kind, prefix) {
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

export function renderTimes() {
	for (const s of document.querySelectorAll('span.rel'))
		renderTime(s);
}

export function toast(msg, bad) {
	const t = el('div', 'toast' + (bad ? ' t-bad' : ''), msg);
	t.setAttribute('role', bad ? 'alert' : 'status');
	$('toasts').appendChild(t);
	setTimeout(() => t.remove(), bad ? TOAST_MS * 1.5 : TOAST_MS);
	while ($('toasts').children.length > 4)
		$('toasts').firstChild.remove();
}

export function badge(node, text, tone, extra) {
	node.textContent = text;
	node.className = ['badge', node.dataset.base, 'b-' + tone, extra].filter(Boolean).join(' ');
	node.hidden = false;
	return node;
}
