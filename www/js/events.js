/*
 * The event stream, GET /api/events (frontend/HTTP.md). The names listened
 * to are those of EVENTS in protocol.js, and nothing else; app.js gives a
 * handler per name:
 *   { apply: fn }   a state event: its data is a whole object, applied as it
 *                   comes and again on top of a GET /api/state that was on
 *                   its way meanwhile (applying one twice does no harm);
 *   { signal: fn }  anything else (a log line, the link, missed events).
 * An event of EVENTS without a handler here is not listened to; a handler
 * for a name EVENTS lacks is reported on the console. Data that is not a
 * JSON object is dropped.
 */
import { EVENTS } from './protocol.js';

const RECONNECT_MS = 3000;	/* after the event stream was closed */
const RECENT_MAX = 1000;	/* state events kept while loads are on their way */

let es = null;			/* EventSource */
let esTimer = 0;
let count = 0;			/* state events received */
let loads = 0;			/* state loads on their way */
const recent = [];		/* {n, fn, d} while a load is on its way */

/*
 * A state load starts: returns its mark for loadEnd, which returns the state
 * events received since, to be applied on top of what the load brought.
 */
export function loadBegin() {
	loads++;
	return count;
}

export function loadEnd(mark) {
	loads--;
	const since = recent.filter((e) => e.n > mark);
	if (loads === 0)
		recent.length = 0;
	return since;
}

export function closeEvents() {
	if (es) {
		es.close();
		es = null;
	}
	clearTimeout(esTimer);
}

/*
 * hooks: active() (signed in), open() (the stream is open: first time or
 * again), down() (interrupted), closed() (the server refused the stream: a
 * promise; reconnects after it if still active).
 */
export function connectEvents(handlers, hooks) {
	closeEvents();
	for (const name of Object.keys(handlers))
		if (!Object.hasOwn(EVENTS, name))
			console.warn('davit: the protocol has no event ' + name);
	es = new EventSource('/api/events');
	es.onopen = () => hooks.open();
	es.onerror = () => {
		if (!hooks.active())
			return;
		hooks.down();
		if (es && es.readyState === EventSource.CLOSED) {
			es = null;
			hooks.closed().then(() => {
				if (hooks.active())
					esTimer = setTimeout(() => connectEvents(handlers, hooks), RECONNECT_MS);
			});
		}
	};
	for (const name of Object.keys(EVENTS)) {
		if (!Object.hasOwn(handlers, name))
			continue;
		const fn = handlers[name].apply || handlers[name].signal;
		const replay = !!handlers[name].apply;
		es.addEventListener(name, (ev) => {
			let d;
			try {
				d = JSON.parse(ev.data);
			} catch (e) {
				return;
			}
			if (!d || typeof d !== 'object')
				return;
			if (replay) {
				count++;
				if (loads > 0 && recent.length < RECENT_MAX)
					recent.push({ n: count, fn, d });
			}
			fn(d);
		});
	}
}
