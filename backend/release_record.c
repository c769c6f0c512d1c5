/*
 * The release part of a deploy record (deploy.h): per listed service the
 * image compose runs it from, whether its container was recreated, and
 * what a rollback put back; its JSON form and its reading back from the
 * history file; the names of release tags; and the reading of the
 * engine's container list that a release is taken from.  No I/O here:
 * every reply and line is treated as hostile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/deploy.h"
#include "backend/docker.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"

#define RELEASE_TAG_PREFIX	"davit-"
#define RELEASE_TAG_HEX		12

void
release_record_gen(yajl_gen g, const struct deploy_record *r)
{
	size_t	i;

	json_key(g, "images");
	yajl_gen_array_open(g);
	for (i = 0; i < r->nimages; i++) {
		yajl_gen_map_open(g);
		json_kstr(g, "service", r->images[i].service);
		json_kstr(g, "image", r->images[i].image);
		json_kstr(g, "id", r->images[i].id);
		json_kbool(g, "recreated", r->images[i].recreated);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	json_kstr(g, "rolled_back_to", r->rolled_back_to[0] ?
	    r->rolled_back_to : NULL);
	json_key(g, "release_of");
	if (r->release_of > 0)
		yajl_gen_integer(g, r->release_of);
	else
		yajl_gen_null(g);
	/* a release that can be rolled back to */
	json_kbool(g, "kept", r->nimages > 0 && !r->pruned && r->to[0] != '\0' &&
	    strcmp(r->state, "succeeded") == 0);
}

static int
strbuf(yajl_val v, const char *key, char *buf, size_t len, int need)
{
	yajl_val	m = json_get(v, key);

	buf[0] = '\0';
	if (m == NULL || YAJL_IS_NULL(m))
		return need ? -1 : 0;
	if (!YAJL_IS_STRING(m) || strlen(m->u.string) >= len ||
	    (need && m->u.string[0] == '\0'))
		return -1;
	memcpy(buf, m->u.string, strlen(m->u.string) + 1);
	return 0;
}

int
release_record_parse(yajl_val v, struct deploy_record *r)
{
	yajl_val		 a = json_get(v, "images"), m, rc;
	struct deploy_image	*im;
	size_t			 i;

	if (strbuf(v, "rolled_back_to", r->rolled_back_to,
	    sizeof(r->rolled_back_to), 0) == -1)
		return -1;
	if ((m = json_get(v, "release_of")) != NULL && !YAJL_IS_NULL(m)) {
		if (!YAJL_IS_INTEGER(m) || m->u.number.i <= 0 ||
		    m->u.number.i >= PROTO_MAX_ID)
			return -1;
		r->release_of = m->u.number.i;
	}
	if (a == NULL || YAJL_IS_NULL(a))
		return 0;
	if (!YAJL_IS_ARRAY(a) || a->u.array.len > CONFIG_MAX_SERVICES)
		return -1;
	if (a->u.array.len == 0)
		return 0;
	if ((r->images = calloc(a->u.array.len, sizeof(*r->images))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < a->u.array.len; i++) {
		m = a->u.array.values[i];
		im = &r->images[r->nimages++];
		if (!YAJL_IS_OBJECT(m) ||
		    strbuf(m, "service", im->service, sizeof(im->service), 1) ||
		    strbuf(m, "image", im->image, sizeof(im->image), 1) ||
		    strbuf(m, "id", im->id, sizeof(im->id), 1))
			return -1;
		rc = json_get(m, "recreated");
		im->recreated = rc != NULL && YAJL_IS_TRUE(rc);
	}
	return 0;
}

void
release_record_copy(struct deploy_record *dst, const struct deploy_record *src)
{
	dst->images = NULL;
	dst->nimages = 0;
	if (src->nimages == 0)
		return;
	if ((dst->images = calloc(src->nimages, sizeof(*dst->images))) == NULL)
		fatal("%s", __func__);
	memcpy(dst->images, src->images, src->nimages * sizeof(*dst->images));
	dst->nimages = src->nimages;
}

void
release_record_clear(struct deploy_record *r)
{
	free(r->images);
	r->images = NULL;
	r->nimages = 0;
}

int
release_tag_name(const char *image, const char *commit, char *repo,
    size_t repolen, char *tag, size_t taglen)
{
	const char	*slash, *colon, *at;
	size_t		 rlen;

	if (strlen(commit) < RELEASE_TAG_HEX)
		return -1;
	/* a digest reference has no tag to take the place of */
	if ((at = strchr(image, '@')) != NULL)
		return -1;
	/* the tag: after the last ':' that comes after the last '/' */
	slash = strrchr(image, '/');
	colon = strrchr(slash != NULL ? slash : image, ':');
	rlen = colon != NULL ? (size_t)(colon - image) : strlen(image);
	if (rlen == 0 || rlen >= repolen)
		return -1;
	memcpy(repo, image, rlen);
	repo[rlen] = '\0';
	if ((size_t)snprintf(tag, taglen, "%s%.*s", RELEASE_TAG_PREFIX,
	    RELEASE_TAG_HEX, commit) >= taglen)
		return -1;
	return 0;
}

static int
image_id_valid(const char *s)
{
	return strncmp(s, "sha256:", 7) == 0 && docker_id_valid(s + 7);
}

/* printable ASCII, no blank, bounded: an image name as the engine says it */
static int
image_ref_valid(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || i + 1 >= DEPLOY_IMAGE_REF_MAX)
			return 0;
	return i > 0;
}

static int
state_rank(const char *state)
{
	return strcmp(state, "running") == 0 ? 2 :
	    strcmp(state, "restarting") == 0 ? 1 : 0;
}

int
release_parse_containers(const char *buf, size_t len, const char *project,
    char *const *services, size_t n, char (*ids)[65],
    struct deploy_image *images, char *err, size_t errlen)
{
	yajl_val	 v, item, labels;
	const char	*id, *image, *imgid, *state, *prj, *svc, *oneoff;
	long long	 created, best[CONFIG_MAX_SERVICES];
	int		 rank[CONFIG_MAX_SERVICES], rk;
	char		 perr[64];
	size_t		 i, k;
	yajl_val	 cv;

	if (n > CONFIG_MAX_SERVICES) {
		snprintf(err, errlen, "too many services");
		return -1;
	}
	for (k = 0; k < n; k++) {
		ids[k][0] = '\0';
		memset(&images[k], 0, sizeof(images[k]));
		snprintf(images[k].service, sizeof(images[k].service), "%s",
		    services[k]);
		rank[k] = -1;
		best[k] = -1;
	}
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "a NUL byte");
		return -1;
	}
	if ((v = json_parse(buf, len, perr, sizeof(perr))) == NULL) {
		snprintf(err, errlen, "not JSON: %s", perr);
		return -1;
	}
	if (!YAJL_IS_ARRAY(v) || v->u.array.len > DOCKER_MAX_CONTAINERS) {
		snprintf(err, errlen, "not a container list");
		goto fail;
	}
	for (i = 0; i < v->u.array.len; i++) {
		item = v->u.array.values[i];
		if (!YAJL_IS_OBJECT(item) ||
		    !YAJL_IS_OBJECT((labels = json_get(item, "Labels"))))
			continue;
		prj = json_get_str(labels, LABEL_PROJECT);
		svc = json_get_str(labels, LABEL_SERVICE);
		oneoff = json_get_str(labels, LABEL_ONEOFF);
		if (prj == NULL || strcmp(prj, project) != 0 || svc == NULL ||
		    (oneoff != NULL && strcasecmp(oneoff, "true") == 0))
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(services[k], svc) == 0)
				break;
		if (k == n)
			continue;
		id = json_get_str(item, "Id");
		image = json_get_str(item, "Image");
		imgid = json_get_str(item, "ImageID");
		state = json_get_str(item, "State");
		cv = json_get(item, "Created");
		if (id == NULL || !docker_id_valid(id) || image == NULL ||
		    !image_ref_valid(image) || imgid == NULL ||
		    !image_id_valid(imgid) || state == NULL ||
		    cv == NULL || !YAJL_IS_INTEGER(cv)) {
			snprintf(err, errlen, "containers[%zu]: a bad or missing "
			    "Id, Image, ImageID, State or Created", i);
			goto fail;
		}
		created = cv->u.number.i;
		rk = state_rank(state);
		if (rk < rank[k] || (rk == rank[k] && created <= best[k]))
			continue;
		rank[k] = rk;
		best[k] = created;
		memcpy(ids[k], id, DOCKER_ID_LEN + 1);
		snprintf(images[k].image, sizeof(images[k].image), "%s", image);
		snprintf(images[k].id, sizeof(images[k].id), "%s", imgid);
	}
	yajl_tree_free(v);
	return 0;
fail:
	yajl_tree_free(v);
	return -1;
}
