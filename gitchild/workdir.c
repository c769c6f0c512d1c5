/*
 * The checkout's place as both programs see it: the backend decides to
 * clone when DAVIT_WORKDIR is missing or empty, and the child refuses to
 * clone anywhere else, with the same check.  No libgit2.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "gitchild/wire.h"

int
gc_dir_empty(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	int		 empty = 1;

	if ((d = opendir(path)) == NULL)
		return errno == ENOENT;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}
