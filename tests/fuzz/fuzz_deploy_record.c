/*
 * libFuzzer target for the deploy history's line parser (backend/
 * deploy_record.c): every line of deploys.jsonl is treated as damaged until
 * it parses.  Invariants: a refused line says why and leaves nothing
 * allocated; an accepted one writes back as JSON that parses again to the
 * same record (the writer and the parser agree).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/deploy.h"
#include "common/json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
gen(const struct deploy_record *r)
{
	yajl_gen	 g = json_gen_new();
	char		*s;

	deploy_record_gen(g, r);
	s = json_gen_take(g, NULL);
	yajl_gen_free(g);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct deploy_record	 r, again;
	char			 err[64], *a, *b;

	err[0] = '\0';
	if (deploy_record_parse((const char *)data, size, &r, err,
	    sizeof(err)) == -1) {
		if (err[0] == '\0' || r.by != NULL || r.ndeliveries != 0 ||
		    r.files != NULL || r.error != NULL)
			abort();
		return 0;
	}
	if (r.ndeliveries > DEPLOY_DELIVERIES || r.nbodies > DEPLOY_DELIVERIES ||
	    r.nfiles > DEPLOY_FILES_KEPT || memchr(r.state, '\0',
	    sizeof(r.state)) == NULL)
		abort();
	a = gen(&r);
	if (deploy_record_parse(a, strlen(a), &again, err, sizeof(err)) == -1)
		abort();
	b = gen(&again);
	if (strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	deploy_record_clear(&again);
	deploy_record_clear(&r);
	return 0;
}
