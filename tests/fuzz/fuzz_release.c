/*
 * libFuzzer target: the pure parsers of releases.  The first byte selects:
 * even, DAVIT_DEPLOY_RUN's word splitting (common/argv.c); odd, the
 * engine's container list as a release reads it (backend/release_record.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/deploy.h"
#include "common/argv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*s, buf[ARGV_MAX_LEN + 1], *argv[ARGV_MAX_WORDS + 1];
	char			 err[128], ids[2][65];
	char			*svcs[] = { "web", "worker" };
	struct deploy_image	 im[2];
	int			 n, i;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		if ((s = malloc(size)) == NULL)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		n = argv_split(s, buf, sizeof(buf), argv, ARGV_MAX_WORDS, err,
		    sizeof(err));
		for (i = 0; i < n; i++)
			if (strlen(argv[i]) > ARGV_MAX_LEN)
				abort();
		if (n >= 0 && argv[n] != NULL)
			abort();
		free(s);
		return 0;
	}
	(void)release_parse_containers((const char *)data + 1, size - 1, "p",
	    svcs, 2, ids, im, err, sizeof(err));
	return 0;
}
