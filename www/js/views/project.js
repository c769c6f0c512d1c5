/*
 * The project's name and branch in the top bar, and the page's title: with
 * several projects, the name davit knows it by (#/p/NAME).
 */
import { S } from '../state.js';
import { $, str } from '../util.js';

export function renderProject() {
	const p = S.project;
	if (!p) {
		$('project').hidden = true;
		return;
	}
	const name = S.projectName || str(p.github_repo) || str(p.compose_project) || str(p.repo);
	$('project-name').textContent = name;
	$('project-branch').textContent = str(p.branch);
	$('project-branch').hidden = !p.branch;
	$('project').hidden = false;
	document.title = name ? name + ' · davit' : 'davit';
}
