/*
 * backend/github_jwt.c: the App key file's checks, and RS256 JWTs against
 * the test-only key in tests/fixtures/github/ with a fixed clock.  RS256
 * (PKCS#1 v1.5) is deterministic: the whole token is compared to one made
 * once with `openssl dgst -sha256 -sign`, and its signature is checked with
 * the public key.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "backend/github_jwt.h"

#define KEY	DAVIT_FIXTURES "/github/test-app-key.TEST-ONLY.pem"
#define PUB	DAVIT_FIXTURES "/github/test-app-key.TEST-ONLY.pub.pem"
#define NOW	1700000000

/* made with openssl(1) from the same key, header and claims */
static const char expected[] =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpYXQiOjE2OTk5OTk5NDAsImV4cCI6MTcwMDAwMDU0MCwiaXNzIjoiMTIzNDU2In0."
    "mnGVwsOxYsHgcGUZ9cP7Wt-Y6Ut2fLZc7aemDP54xo1ZiCDyWB0w4L0_UfR-7S4RsuEzdK"
    "Uslr4-PKdKDBSEoSIuIRaOA_oeZXZW2SpKP74K8nwTJAv5xXF2rn-Nnim8HCmaDJfxai5V"
    "QKolDvWDYLXdmK3aHCLHq27eSZysKQaUcvMtstaPXCmtG8H5diiketCW9FJg3x4fkV2nzC"
    "0qb10XlxF77JyvZ7_NpAvS1bF_tCkIr_y_aBjPLG3BN6CWSX95Gv_MP_Y6S3zcr7AImS_A"
    "O0G6lKqbMmbBsZ2DDcL4x9pchGkH-C3w_8g7wKlgIygIR8L2mI6TLvkZ60fjmA";

static char	tmpdir[] = "/tmp/test_github_jwt.XXXXXX";

/* the fixture's bytes, copied to a file of our own with the given mode */
static char *
copy_key(const char *name, mode_t mode)
{
	static char	 path[256];
	char		 buf[8192];
	FILE		*in, *out;
	size_t		 n;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_non_null(in = fopen(KEY, "r"));
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	assert_non_null(out = fopen(path, "w"));
	assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(out);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static size_t
b64dec(const char *in, size_t inlen, unsigned char *out, size_t outmax)
{
	size_t	n = 0;

	assert_int_equal(sodium_base642bin(out, outmax, in, inlen, NULL, &n,
	    NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	return n;
}

static void
test_sign_fixed(void **state)
{
	struct gh_key	*k;
	char		 err[256], *jwt;

	assert_int_equal(gh_key_load(copy_key("k.pem", 0600), geteuid(), &k,
	    err, sizeof(err)), 0);
	jwt = gh_jwt_sign(k, "123456", NOW, err, sizeof(err));
	assert_non_null(jwt);
	assert_string_equal(jwt, expected);
	gh_jwt_free(jwt);
	gh_key_free(k);
}

static void
test_sign_verifies(void **state)
{
	struct gh_key	*k;
	char		 err[256], *jwt, *dot1, *dot2;
	unsigned char	 part[1024];
	size_t		 n;
	FILE		*f;
	EVP_PKEY	*pub;
	EVP_MD_CTX	*md;

	assert_int_equal(gh_key_load(copy_key("k.pem", 0600), geteuid(), &k,
	    err, sizeof(err)), 0);
	jwt = gh_jwt_sign(k, "Iv23liABCdef.1", NOW + 7, err, sizeof(err));
	assert_non_null(jwt);
	assert_non_null(dot1 = strchr(jwt, '.'));
	assert_non_null(dot2 = strchr(dot1 + 1, '.'));
	assert_null(strchr(jwt, '='));
	assert_null(strchr(jwt, '+'));
	assert_null(strchr(jwt, '/'));

	n = b64dec(jwt, (size_t)(dot1 - jwt), part, sizeof(part));
	assert_int_equal(n, strlen("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"));
	assert_memory_equal(part, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", n);
	n = b64dec(dot1 + 1, (size_t)(dot2 - dot1 - 1), part, sizeof(part));
	part[n] = '\0';
	assert_string_equal((char *)part,
	    "{\"iat\":1699999947,\"exp\":1700000547,\"iss\":\"Iv23liABCdef.1\"}");

	n = b64dec(dot2 + 1, strlen(dot2 + 1), part, sizeof(part));
	assert_int_equal(n, 256);
	assert_non_null(f = fopen(PUB, "r"));
	assert_non_null(pub = PEM_read_PUBKEY(f, NULL, NULL, NULL));
	fclose(f);
	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	    pub), 1);
	assert_int_equal(EVP_DigestVerify(md, part, n,
	    (const unsigned char *)jwt, (size_t)(dot2 - jwt)), 1);
	/* one bit off in the claims: no longer verifies */
	dot1[1] ^= 1;
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	    pub), 1);
	assert_int_not_equal(EVP_DigestVerify(md, part, n,
	    (const unsigned char *)jwt, (size_t)(dot2 - jwt)), 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	gh_jwt_free(jwt);
	gh_key_free(k);
}

static void
test_bad_iss(void **state)
{
	struct gh_key	*k;
	char		 err[256];

	assert_int_equal(gh_key_load(copy_key("k.pem", 0600), geteuid(), &k,
	    err, sizeof(err)), 0);
	assert_null(gh_jwt_sign(k, "", NOW, err, sizeof(err)));
	assert_null(gh_jwt_sign(k, "12\"3", NOW, err, sizeof(err)));
	assert_null(gh_jwt_sign(k, "0123", NOW, err, sizeof(err)));
	assert_null(gh_jwt_sign(k, "abc", NOW, err, sizeof(err)));
	assert_null(gh_jwt_sign(k, "Iv", NOW, err, sizeof(err)));
	assert_non_null(strstr(err, "App ID"));
	assert_int_equal(gh_iss_valid("1"), 1);
	assert_int_equal(gh_iss_valid("Iv1.0123abcdef"), 1);
	gh_key_free(k);
}

static void
test_key_file_checks(void **state)
{
	struct gh_key	*k = NULL;
	char		 err[256], link[300], *path;
	FILE		*f;

	path = copy_key("group.pem", 0640);
	assert_int_equal(gh_key_load(path, geteuid(), &k, err, sizeof(err)),
	    -1);
	assert_null(k);
	assert_non_null(strstr(err, "chmod 600"));

	path = copy_key("world.pem", 0604);
	assert_int_equal(gh_key_load(path, geteuid(), &k, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "chmod 600"));

	path = copy_key("owner.pem", 0600);
	assert_int_equal(gh_key_load(path, geteuid() + 1, &k, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "chown"));

	path = copy_key("target.pem", 0600);
	snprintf(link, sizeof(link), "%s/link.pem", tmpdir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(gh_key_load(link, geteuid(), &k, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "symlink"));

	snprintf(link, sizeof(link), "%s/missing.pem", tmpdir);
	assert_int_equal(gh_key_load(link, geteuid(), &k, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "cannot read the key file"));

	/* readable by its owner only, but not a key */
	snprintf(link, sizeof(link), "%s/garbage.pem", tmpdir);
	assert_non_null(f = fopen(link, "w"));
	fputs("-----BEGIN RSA PRIVATE KEY-----\nnot base64 at all\n"
	    "-----END RSA PRIVATE KEY-----\n", f);
	fclose(f);
	assert_int_equal(chmod(link, 0600), 0);
	assert_int_equal(gh_key_load(link, geteuid(), &k, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "not a PEM private key"));

	snprintf(link, sizeof(link), "%s/empty.pem", tmpdir);
	assert_non_null(f = fopen(link, "w"));
	fclose(f);
	assert_int_equal(chmod(link, 0600), 0);
	assert_int_equal(gh_key_load(link, geteuid(), &k, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "empty"));

	/* 0400 is fine too */
	path = copy_key("ro.pem", 0400);
	assert_int_equal(gh_key_load(path, geteuid(), &k, err, sizeof(err)),
	    0);
	gh_key_free(k);
}

static void
test_key_parse_bad(void **state)
{
	struct gh_key	*k = NULL;
	char		 err[256];
	char		 big[GH_KEY_MAX + 1];
	FILE		*f;
	char		 pub[4096];
	size_t		 n;

	/* a public key is not a private key */
	assert_non_null(f = fopen(PUB, "r"));
	n = fread(pub, 1, sizeof(pub), f);
	fclose(f);
	assert_int_equal(gh_key_parse(pub, n, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a PEM private key"));

	memset(big, 'A', sizeof(big));
	assert_int_equal(gh_key_parse(big, sizeof(big), &k, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "larger"));
	assert_int_equal(gh_key_parse("\0\0\0", 3, &k, err, sizeof(err)), -1);
	assert_null(k);
}

static int
setup(void **state)
{
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_fixed),
		cmocka_unit_test(test_sign_verifies),
		cmocka_unit_test(test_bad_iss),
		cmocka_unit_test(test_key_file_checks),
		cmocka_unit_test(test_key_parse_bad),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
