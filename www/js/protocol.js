/*
 * The protocol's names for the dashboard: the ops it may see (job records
 * name theirs) and the events of /api/events with the parts of the state
 * (project, git, services, jobs, deploys) each one makes stale.
 *
 * This file is a stand-in: the frontend generates GET /js/protocol.js from
 * proto/'s tables and serves it before the www directory. Keep its shape:
 * OPS, an array of op names; EVENTS, an object of event name -> state parts.
 * "backend" (the frontend's link to the backend went down or came back) and
 * "missed" (events were dropped) come from the frontend itself.
 */
export const OPS = [
	"hello", "project.get", "auth.login", "subscribe", "services.list",
	"service.start", "service.stop", "service.restart", "service.rebuild",
	"stack.start", "stack.stop", "stack.restart", "stack.rebuild",
	"job.get", "jobs.list", "git.status", "git.fetch", "git.pull",
	"deploy", "deploys.list", "webhook.push", "webhook.rejected"
];

export const EVENTS = {
	"job.state": ["jobs"],
	"job.log": [],
	"service.state": ["services"],
	"git.state": ["git"],
	"deploy.state": ["deploys", "jobs"],
	"engine.state": ["services"],
	"backend": ["project", "git", "services", "jobs", "deploys"],
	"missed": ["project", "git", "services", "jobs", "deploys"]
};
