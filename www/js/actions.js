/*
 * Starting a job from a button: the confirmation dialog, the POST, the job
 * shown in the log panel, a toast if it was refused.
 */
import { api, scoped } from './api.js';
import { $, toast } from './util.js';
import { updateButtons } from './views/status.js';
import { L, showJob } from './views/log.js';

const dialog = $('confirm');
let dialogResolve = null;

export function confirmAction(title, text, okLabel) {
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

export async function runJob(button, path, what) {
	if (button) {
		button.dataset.busy = '1';
		button.disabled = true;
	}
	try {
		/* the page's project, as it was when the button was pressed */
		const r = await api('POST', scoped(path));
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
