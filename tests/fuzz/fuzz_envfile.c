/*
 * libFuzzer target: the .env parser and the whole config on top of it.
 * Built with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION so that a
 * DAVIT_PASSWORD costs argon2id's minimum, not 64 MiB per input.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/envfile.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE	*devnull;

	/*
	 * Unknown and repeated keys are log_warnx()ed through stdio's stderr:
	 * silence that stream. libFuzzer and the sanitizers write to fd 2
	 * directly and keep reporting.
	 */
	if ((devnull = fopen("/dev/null", "w")) != NULL)
		stderr = devnull;
	return (0);
}

static int
count_cb(const char *key, const char *value, size_t valuelen, int lineno,
    void *arg, char *err, size_t errlen)
{
	size_t	*n = arg;

	/* the contract the callers rely on */
	if (strlen(key) == 0 || strlen(key) > ENVFILE_MAX_KEY ||
	    value[valuelen] != '\0' || strlen(value) != valuelen ||
	    valuelen > CONFIG_MAX_VALUE || lineno < 1)
		__builtin_trap();
	(*n)++;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct davit_config	 cfg;
	char			 err[CONFIG_ERR_LEN];
	char			 shown[CONFIG_MAX_VALUE];
	size_t			 n = 0, i;

	if (envfile_parse((const char *)data, size, count_cb, &n, err,
	    sizeof(err)) == -1 && strncmp(err, "line ", 5) != 0)
		__builtin_trap();

	if (config_parse("fuzz.env", (const char *)data, size, &cfg, err,
	    sizeof(err)) == 0) {
		if (cfg.password_hash == NULL)
			__builtin_trap();
		/* no DAVIT_WORKDIR: several projects, no project key here */
		if (cfg.multi && (cfg.workdir != NULL || cfg.nservices != 0))
			__builtin_trap();
		if (!cfg.multi && (cfg.workdir == NULL || cfg.nservices == 0 ||
		    cfg.nservices > CONFIG_MAX_SERVICES ||
		    cfg.compose_project == NULL || cfg.branch == NULL))
			__builtin_trap();
		for (i = 0; i < cfg.nservices; i++)
			if (!config_has_service(&cfg, cfg.services[i]))
				__builtin_trap();
		config_repo_display(&cfg, shown, sizeof(shown));
		config_free(&cfg);
	} else if (err[0] == '\0' || strncmp(err, "fuzz.env", 8) != 0)
		__builtin_trap();
	return (0);
}
