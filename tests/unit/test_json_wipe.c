/*
 * common/json.c's wiping: a block zeroed to its usable size, a line wiped
 * and freed, generators whose memory is wiped when yajl frees or moves it
 * still making the same text (a string large enough to move the buffer
 * several times), and json_gen_take_line's newline in place.
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yajl/yajl_gen.h>

#include "common/json.h"

#define BIG	(200 * 1024)	/* yajl's buffer starts at 2 KiB */

static void
test_wipe_block(void **state)
{
	unsigned char	*p;
	size_t		 n, i;

	assert_non_null(p = malloc(100));
	n = malloc_usable_size(p);
	memset(p, 'k', n);
	json_wipe_block(p);
	for (i = 0; i < n; i++)
		assert_int_equal(p[i], 0);
	free(p);
	json_wipe_block(NULL);
	json_line_wipe(NULL, 0, NULL);
}

static void
test_line_wipe(void **state)
{
	char	*p;

	/* frees what it wipes: ASan/valgrind would see a leak otherwise */
	assert_non_null(p = strdup("a line with a secret"));
	json_line_wipe(p, strlen(p), NULL);
}

static void
test_gen_moves(void **state)
{
	yajl_gen	 g;
	char		*big, *out;
	size_t		 len;

	assert_non_null(big = malloc(BIG));
	memset(big, 'x', BIG);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_key(g, "bundle");
	assert_int_equal(yajl_gen_string(g, (unsigned char *)big, BIG),
	    yajl_gen_status_ok);
	yajl_gen_map_close(g);
	out = json_gen_take_line(g, &len);
	yajl_gen_free(g);
	assert_int_equal(len, strlen("{\"bundle\":\"\"}\n") + BIG);
	assert_memory_equal(out, "{\"bundle\":\"", 11);
	assert_memory_equal(out + 11, big, BIG);
	assert_string_equal(out + 11 + BIG, "\"}\n");
	json_line_wipe(out, len, NULL);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wipe_block),
		cmocka_unit_test(test_line_wipe),
		cmocka_unit_test(test_gen_moves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
