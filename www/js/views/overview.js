/*
 * The overview (#/): a card per project of GET /api/projects (name, short
 * commit, update available, services up of total, the last deploy with its
 * state and time, the project's error), each a link to its page
 * (#/p/NAME). Kept current by app.js: a project-scoped event re-reads the
 * list (at most once per REFRESH_MS), projects.changed at once.
 */
import { S } from '../state.js';
import { $, el, str, shortId, timeSpan } from '../util.js';

const DEPLOY_TONE = {
	succeeded: 'ok', failed: 'bad', running: 'running', queued: 'info',
	cancelled: 'idle', rolled_back: 'warn'
};

/* a project's page, by its name (names are [a-z0-9-]: safe in a hash) */
export function projectHash(name) {
	return '#/p/' + encodeURIComponent(name);
}

function card(p) {
	const name = str(p.name);
	const c = el('a', 'card project-card');
	c.href = projectHash(name);
	c.dataset.project = name;

	const head = el('div', 'card-head');
	head.append(el('h2', 'project-card-name', name));
	if (p.update_available === true)
		head.append(el('span', 'badge b-update', 'update available'));
	if (p.error)
		head.append(el('span', 'badge b-bad', 'error'));
	c.append(head);

	const dl = el('dl', 'project-facts');
	const fact = (label, value) => {
		const row = el('div', 'fact');
		row.append(el('dt', null, label));
		const dd = el('dd');
		if (value instanceof Node)
			dd.append(value);
		else
			dd.textContent = value;
		row.append(dd);
		dl.append(row);
		return dd;
	};
	const where = [str(p.repo), str(p.branch)].filter(Boolean).join(' · ');
	if (where)
		fact('Repository', where).className = 'mono small';
	const commit = el('span', 'mono', p.local ? shortId(p.local) : '—');
	if (p.local)
		commit.title = str(p.local);
	fact('Commit', commit).dataset.role = 'commit';
	const sv = p.services && typeof p.services === 'object' ? p.services : null;
	const up = sv && Number.isInteger(sv.running) ? sv.running : null;
	const total = sv && Number.isInteger(sv.total) ? sv.total : null;
	const svc = el('span', 'badge', up === null ? '—' : up + ' of ' + total + ' up');
	svc.classList.add(up === null ? 'b-idle' : up === total ? 'b-ok' : up === 0 ? 'b-bad' : 'b-warn');
	fact('Services', svc).dataset.role = 'services';
	const d = p.last_deploy && typeof p.last_deploy === 'object' ? p.last_deploy : null;
	const dep = el('span');
	if (d) {
		const st = str(d.state);
		dep.append(el('span', 'badge b-' + (DEPLOY_TONE[st] || 'info'), st || 'unknown'));
		if (d.time)
			dep.append(' ', timeSpan(d.time, 'ago'));
	} else
		dep.textContent = 'none yet';
	fact('Last deploy', dep).dataset.role = 'deploy';
	c.append(dl);
	if (p.error)
		c.append(el('p', 'inline-error', str(p.error)));
	return c;
}

export function renderOverview() {
	const list = Array.isArray(S.projects) ? S.projects : [];
	const box = $('projects-list');
	box.replaceChildren(...list.filter((p) => p && typeof p.name === 'string').map(card));
	$('projects-none').hidden = list.length !== 0;
	$('overview-count').textContent = list.length === 1 ? '1 project' : list.length + ' projects';
}
