/*
 * What the dashboard says about a job's op: its label and what it does to
 * the services or the checkout while it runs. Every op named here must be
 * one of OPS (protocol.js); one that is not is reported on the console.
 */
import { OPS } from './protocol.js';
import { str } from './util.js';

export const OP_LABEL = {
	'service.start': 'Start', 'service.stop': 'Stop', 'service.restart': 'Restart',
	'service.rebuild': 'Rebuild', 'stack.start': 'Start all', 'stack.stop': 'Stop all',
	'stack.restart': 'Restart all', 'stack.rebuild': 'Rebuild all', 'git.fetch': 'Fetch',
	'git.pull': 'Pull', 'deploy': 'Deploy', 'webhook.push': 'Webhook push',
	'deploy.rollback': 'Roll back'
};

/* ops that act on the services (all of them, or args.service) */
export const OP_VERB = {
	'service.start': 'starting', 'service.stop': 'stopping', 'service.restart': 'restarting',
	'service.rebuild': 'rebuilding', 'stack.start': 'starting', 'stack.stop': 'stopping',
	'stack.restart': 'restarting', 'stack.rebuild': 'rebuilding', 'deploy': 'deploying',
	'deploy.rollback': 'rolling back'
};

/* ops that act on the checkout */
export const GIT_VERB = {
	'git.fetch': 'fetching', 'git.pull': 'pulling', 'deploy': 'deploying', 'deploy.rollback': 'rolling back'
};

for (const t of [OP_LABEL, OP_VERB, GIT_VERB])
	for (const op of Object.keys(t))
		if (!OPS.includes(op))
			console.warn('davit: the protocol has no op ' + op);

export function queuedText(j) {
	return (OP_LABEL[j.op] || str(j.op)).toLowerCase() + ' queued';
}
