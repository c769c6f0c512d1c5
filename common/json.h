/*
 * Small helpers over yajl's generator.  Strings from outside (Docker, git,
 * compose output) may hold invalid UTF-8: json_str repairs it rather than
 * failing the whole document.
 */
#ifndef DAVIT_JSON_H
#define DAVIT_JSON_H

#include <stddef.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define JSON_MAX_DEPTH	32	/* nesting accepted from a peer */

yajl_gen	 json_gen_new(void);	/* its memory wiped when freed or moved */
/* zeroes all of a malloc'd block (its usable size); NULL: nothing */
void		 json_wipe_block(void *p);
/* wipes len bytes of a malloc'd line and frees it (an evbuffer cleanup;
 * NULL: nothing) */
void		 json_line_wipe(const void *data, size_t len, void *unused);
void		 json_str(yajl_gen g, const char *s);	/* NULL -> null */
void		 json_strn(yajl_gen g, const char *s, size_t len);
void		 json_key(yajl_gen g, const char *k);
void		 json_kstr(yajl_gen g, const char *k, const char *v);
void		 json_kint(yajl_gen g, const char *k, long long v);
void		 json_kbool(yajl_gen g, const char *k, int v);
void		 json_knull(yajl_gen g, const char *k);
void		 json_ktime(yajl_gen g, const char *k, long long ms);	/* ISO 8601 UTC, null if 0 */
/*
 * Emits s, a whole JSON value that davit generated itself (canonical
 * arguments, a job's result), as it is: serialized once, never parsed
 * back.  Never text from outside: it is not checked.
 */
void		 json_raw(yajl_gen g, const char *s);
/* re-emits a parsed tree */
void		 json_tree(yajl_gen g, yajl_val v);
/* copies the generator's buffer into a malloc'd NUL-terminated string */
char		*json_gen_take(yajl_gen g, size_t *len);
/* the same with a newline after it (*len counts it), in place: never moved */
char		*json_gen_take_line(yajl_gen g, size_t *len);
/*
 * Parses JSON (never comments) into a tree for yajl_tree_free(); NULL with a
 * message in err on failure: NUL bytes, \u0000 in a string or a key, and
 * nesting deeper than max (at most JSON_MAX_DEPTH) are refused.
 */
yajl_val	 json_parse_max(const char *s, size_t len, int max, char *err,
		    size_t errlen);
/* json_parse_max with JSON_MAX_DEPTH */
yajl_val	 json_parse(const char *s, size_t len, char *err, size_t errlen);
/* object member lookup, NULL if absent */
yajl_val	 json_get(yajl_val obj, const char *key);
const char	*json_get_str(yajl_val obj, const char *key);
/* the current time in milliseconds since the epoch */
long long	 json_now_ms(void);

#endif
