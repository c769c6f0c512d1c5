/*
 * Reading the projects' configuration: the main file decides the mode
 * (common/config.c); in single-project mode the main file is the one
 * project, named by DAVIT_PROJECT or its workdir; otherwise each NAME.env
 * of DAVIT_PROJECTS_DIR is project NAME, read with the main file's rules.
 * Then the checks across projects: no two share a (real) workdir or a
 * compose project.  Used by the start, --check-config and SIGHUP alike;
 * it reads, it never changes the project list (project.c does).
 *
 * Rules: every problem is kept with the project it belongs to (a reload
 * keeps that project's last good configuration), or with the set when it
 * is no one project's (the directory, a mode mistake, no project at all).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/project.h"
#include "common/log.h"

#define PROJECT_CONF_SUFFIX	".env"

static void
pc_err(struct config_errors *errs, const char *file, const char *key,
    const char *fmt, ...)
{
	struct config_error	*e;
	va_list			 ap;

	if (errs->n == CONFIG_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	e = &errs->e[errs->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->file, sizeof(e->file), "%s", file);
	snprintf(e->key, sizeof(e->key), "%s", key != NULL ? key : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* NAME.env with NAME a project name: 1 and NAME in name, else 0 */
static int
pc_file_name(const char *file, char *name, size_t namelen)
{
	size_t	 len = strlen(file), slen = strlen(PROJECT_CONF_SUFFIX);

	if (len <= slen || strcmp(file + len - slen, PROJECT_CONF_SUFFIX) != 0 ||
	    len - slen >= namelen)
		return 0;
	memcpy(name, file, len - slen);
	name[len - slen] = '\0';
	return config_project_name_valid(name);
}

static int
pc_dirent_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static struct project_conf *
pc_add(struct project_confs *pc, const char *name, const char *path)
{
	struct project_conf	*c;

	if ((c = reallocarray(pc->v, pc->n + 1, sizeof(*c))) == NULL)
		fatal("%s", __func__);
	pc->v = c;
	c = &pc->v[pc->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->path, sizeof(c->path), "%s", path);
	if ((c->errs = calloc(1, sizeof(*c->errs))) == NULL)
		fatal("%s", __func__);
	return c;
}

/* the NAME.env files of dir, in name order; each read into pc */
static void
pc_read_dir(struct project_confs *pc, const struct davit_config *main)
{
	const char		*dir = main->projects_dir;
	struct dirent		**ents = NULL;
	struct project_conf	*c;
	struct stat		 st;
	char			 name[PROTO_PROJECT_NAME_MAX + 1];
	char			 path[PATH_MAX], err[CONFIG_ERR_LEN + PATH_MAX];
	int			 i, n;

	if (stat(dir, &st) == -1) {
		if (errno != ENOENT)
			pc_err(&pc->errs, dir, "DAVIT_PROJECTS_DIR", "%s",
			    strerror(errno));
		return;	/* missing: no projects */
	}
	if (config_root_dir("DAVIT_PROJECTS_DIR", dir, &st, err,
	    sizeof(err)) == -1) {
		pc_err(&pc->errs, dir, NULL, "%s", err);
		return;
	}
	if ((n = scandir(dir, &ents, NULL, pc_dirent_cmp)) == -1) {
		pc_err(&pc->errs, dir, "DAVIT_PROJECTS_DIR", "%s",
		    strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") == 0 ||
		    strcmp(ents[i]->d_name, "..") == 0)
			goto next;
		if (!pc_file_name(ents[i]->d_name, name, sizeof(name))) {
			log_warnx("%s/%s: not NAME.env with NAME [a-z0-9]"
			    "[a-z0-9-]{0,31}, skipped", dir, ents[i]->d_name);
			goto next;
		}
		if (pc->n == CONFIG_MAX_PROJECTS) {
			pc_err(&pc->errs, dir, NULL, "more than %d projects",
			    CONFIG_MAX_PROJECTS);
			goto next;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		c = pc_add(pc, name, path);
		if ((c->cfg = calloc(1, sizeof(*c->cfg))) == NULL)
			fatal("%s", __func__);
		c->ok = config_load_project(path, main, c->cfg, c->errs) == 0;
 next:
		free(ents[i]);
	}
	free(ents);
}

/* single-project mode: NAME.env files beside a main file's project */
static void
pc_check_dir_empty(struct project_confs *pc, const char *main_path,
    const struct davit_config *main)
{
	struct dirent	**ents = NULL;
	char		 name[PROTO_PROJECT_NAME_MAX + 1];
	int		 i, n, found = 0;

	if (main->projects_dir == NULL ||
	    (n = scandir(main->projects_dir, &ents, NULL, NULL)) == -1)
		return;
	for (i = 0; i < n; i++) {
		if (pc_file_name(ents[i]->d_name, name, sizeof(name)))
			found++;
		free(ents[i]);
	}
	free(ents);
	if (found > 0)
		pc_err(&pc->errs, main_path, "DAVIT_WORKDIR", "set in the main "
		    "file while DAVIT_PROJECTS_DIR %s holds %d NAME.env file%s: "
		    "choose one (one project in the main file, or every project "
		    "in its own file)", main->projects_dir, found,
		    found == 1 ? "" : "s");
}

/* a workdir as compared: its real path, or as written if it is not there */
static void
pc_real(const char *dir, char *out)
{
	size_t	 len;

	if (dir != NULL && realpath(dir, out) != NULL)
		return;
	snprintf(out, PATH_MAX, "%s", dir != NULL ? dir : "");
	len = strlen(out);
	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
}

/* the later of two projects sharing a workdir or a compose project is refused */
static void
pc_check_shared(struct project_confs *pc)
{
	struct project_conf	*a, *b;
	char			 ra[PATH_MAX], rb[PATH_MAX];
	size_t			 i, j;

	for (j = 0; j < pc->n; j++) {
		b = &pc->v[j];
		if (!b->ok)
			continue;
		pc_real(b->cfg->workdir, rb);
		for (i = 0; i < j && b->ok; i++) {
			a = &pc->v[i];
			if (!a->ok)
				continue;
			pc_real(a->cfg->workdir, ra);
			if (strcmp(ra, rb) == 0) {
				pc_err(b->errs, b->path, "DAVIT_WORKDIR", "%s is "
				    "project %s's workdir too: each project needs "
				    "its own", rb, a->name);
				b->ok = 0;
			} else if (strcmp(a->cfg->compose_project,
			    b->cfg->compose_project) == 0) {
				pc_err(b->errs, b->path, "DAVIT_COMPOSE_PROJECT",
				    "\"%s\" is project %s's compose project too: "
				    "each project needs its own",
				    b->cfg->compose_project, a->name);
				b->ok = 0;
			}
		}
	}
}

int
project_confs_read(const char *main_path, const struct davit_config *main,
    struct project_confs *pc)
{
	struct project_conf	*c;
	char			 name[PROTO_PROJECT_NAME_MAX + 1];
	size_t			 i;
	int			 ret = 0;

	memset(pc, 0, sizeof(*pc));
	if (!main->multi) {
		if (config_single_name(main, name, sizeof(name)) == -1) {
			pc_err(&pc->errs, main_path, "DAVIT_WORKDIR",
			    "no project name");
			return -1;
		}
		c = pc_add(pc, name, main_path);
		c->ok = 1;	/* the main file's reading said so */
		pc_check_dir_empty(pc, main_path, main);
	} else {
		pc_read_dir(pc, main);
		pc_check_shared(pc);
		if (pc->n == 0)
			pc_err(&pc->errs, main_path, NULL, "no project: put a "
			    "NAME.env file per project in DAVIT_PROJECTS_DIR %s "
			    "(or DAVIT_WORKDIR and the other project keys in "
			    "this file)", main->projects_dir);
	}
	for (i = 0; i < pc->n; i++)
		if (!pc->v[i].ok)
			ret = -1;
	if (pc->errs.n > 0 || pc->errs.dropped > 0)
		ret = -1;
	return ret;
}

void
project_confs_free(struct project_confs *pc)
{
	size_t	 i;

	for (i = 0; i < pc->n; i++) {
		if (pc->v[i].cfg != NULL) {
			config_free(pc->v[i].cfg);
			free(pc->v[i].cfg);
		}
		free(pc->v[i].errs);
	}
	free(pc->v);
	memset(pc, 0, sizeof(*pc));
}

/* the first problem of c as one line, for projects.list's "error" */
void
project_conf_error(const struct project_conf *c, char *out, size_t outlen)
{
	out[0] = '\0';
	if (c->errs != NULL && c->errs->n > 0)
		config_error_str(&c->errs->e[0], out, outlen);
}
