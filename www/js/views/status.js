/*
 * The top of the page: the banners (server unreachable, backend down,
 * Docker unreachable), the live marker of the event stream, and whether the
 * buttons that need the backend can be pressed.
 */
import { S } from '../state.js';
import { $, el, str, fmtDuration } from '../util.js';

export function setServerDown(down) {
	if (S.serverDown === down)
		return;
	S.serverDown = down;
	const b = $('banner-server');
	b.textContent = 'The davit server cannot be reached. Retrying…';
	b.hidden = !down;
	updateButtons();
}

export function setBackend(up, msg) {
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

export function setLive(on, text) {
	const l = $('live');
	l.dataset.live = on ? 'on' : 'off';
	$('live-text').textContent = text || (on ? 'Live' : 'Reconnecting…');
	l.title = on ? 'Live updates are on' : 'Live updates are interrupted';
}

export function renderDockerBanner() {
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

export function updateButtons() {
	const off = !S.backendUp || S.serverDown;
	for (const b of document.querySelectorAll('[data-needs="backend"]')) {
		if (b.dataset.busy === '1')
			continue;
		b.disabled = off || b.dataset.stateOff === '1';
	}
}
