/*
 * The audit log: one JSON object per line, appended to DAVIT_AUDIT_LOG.
 * Every request (time, peer, op, redacted arguments, result, duration),
 * every file update and every Docker action.  Secrets never reach it:
 * arguments are rendered from the op table with PF_SECRET fields redacted.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "common/json.h"
#include "common/log.h"

static int	audit_fd = -1;

void
audit_open(const char *path)
{
	char		*copy, *dir;
	struct stat	 st;

	if ((copy = strdup(path)) == NULL)
		fatal("%s", __func__);
	dir = dirname(copy);
	if (stat(dir, &st) == -1 && errno == ENOENT && mkdir(dir, 0750) == -1)
		log_warn("%s: mkdir %s", __func__, dir);
	free(copy);
	if ((audit_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640)) == -1)
		fatal("DAVIT_AUDIT_LOG %s", path);
}

void
audit_close(void)
{
	if (audit_fd != -1)
		close(audit_fd);
	audit_fd = -1;
}

static void
audit_write(yajl_gen g)
{
	char	*line;
	size_t	 len;

	yajl_gen_map_close(g);
	line = json_gen_take(g, &len);
	yajl_gen_free(g);
	line[len] = '\n';
	/* one write(2) per record: O_APPEND keeps lines whole */
	if (audit_fd != -1 && write(audit_fd, line, len + 1) != (ssize_t)len + 1)
		log_warn("%s: write", __func__);
	free(line);
}

static yajl_gen
audit_begin(const char *kind)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_ktime(g, "time", json_now_ms());
	json_kstr(g, "kind", kind);
	return g;
}

void
audit_request(const struct ctl_request *cr, const struct proto_error *err)
{
	yajl_gen	 g = audit_begin("request");
	char		*args;
	yajl_val	 tree;
	char		 perr[64];

	json_kint(g, "uid", cr->uid);
	json_kint(g, "pid", cr->pid);
	json_kstr(g, "op", cr->req.op != NULL ? cr->req.op->name : NULL);
	json_key(g, "id");
	if (cr->req.id >= 0)
		yajl_gen_integer(g, cr->req.id);
	else
		yajl_gen_null(g);
	json_key(g, "args");
	args = proto_args_json(&cr->req, 1);
	if ((tree = json_parse(args, strlen(args), perr, sizeof(perr))) != NULL) {
		json_tree(g, tree);
		yajl_tree_free(tree);
	} else
		yajl_gen_null(g);
	free(args);
	json_kstr(g, "result", err == NULL ? "ok" : proto_errcode_name(err->code));
	json_kint(g, "ms", json_now_ms() - cr->started_ms);
	audit_write(g);
}

void
audit_record(const char *kind, const char *json_object)
{
	yajl_gen	 g = audit_begin(kind);
	yajl_val	 tree;
	char		 perr[64];
	size_t		 i;

	tree = json_parse(json_object, strlen(json_object), perr, sizeof(perr));
	if (tree != NULL && tree->type == yajl_t_object)
		for (i = 0; i < tree->u.object.len; i++) {
			json_key(g, tree->u.object.keys[i]);
			json_tree(g, tree->u.object.values[i]);
		}
	else
		log_warnx("%s: %s: not a JSON object", __func__, kind);
	if (tree != NULL)
		yajl_tree_free(tree);
	audit_write(g);
}
