/*
 * A GitHub App's private key and the RS256 JWTs that authenticate as the
 * App (github_jwt.h says what the key file must be).  No I/O but reading
 * the key file in gh_key_load; gh_jwt_sign is a pure function of the key,
 * the issuer and the clock, so that unit tests can compare whole tokens.
 *
 * Secrets: the PEM text lives in sodium_malloc'd memory that is read-only
 * (sodium_mprotect_readonly) between uses and wiped on free; OpenSSL's
 * parsed key is made, used and freed (OpenSSL clears RSA numbers on free)
 * within one gh_jwt_sign.  The signing input and the token are built in
 * sodium_malloc'd memory.  No message ever holds key material.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <sodium.h>

#include "backend/github_jwt.h"

#define GH_JWT_HEADER	"{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
#define GH_CLAIMS_MAX	(sizeof("{\"iat\":,\"exp\":,\"iss\":\"\"}") + \
			    2 * 21 + GH_ISS_MAX)
#define GH_SIG_MAX	1024	/* RSA up to 8192 bits */

struct gh_key {
	char	*pem;		/* sodium_malloc'd, read-only between uses */
	size_t	 len;
};

static void
gh_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* an encrypted key is refused, never prompted for */
static int
gh_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return 0;
}

/* OpenSSL's parsed key from k, or NULL; leaves k read-only */
static EVP_PKEY *
gh_key_open(const struct gh_key *k, char *err, size_t errlen)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*bio;

	if (sodium_mprotect_readonly(k->pem) == -1) {
		gh_err(err, errlen, "cannot reach the App key's memory");
		return NULL;
	}
	if ((bio = BIO_new_mem_buf(k->pem, (int)k->len)) == NULL) {
		gh_err(err, errlen, "out of memory");
		goto done;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, gh_no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (pkey == NULL) {
		gh_err(err, errlen, "not a PEM private key (a GitHub App key "
		    "starts with -----BEGIN RSA PRIVATE KEY-----; an encrypted "
		    "key is not supported)");
		goto done;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		gh_err(err, errlen, "not an RSA key (GitHub App keys are RSA)");
		goto fail;
	}
	if (EVP_PKEY_get_bits(pkey) < GH_KEY_MIN_BITS) {
		gh_err(err, errlen, "the RSA key is shorter than 2048 bits");
		goto fail;
	}
 done:
	(void)sodium_mprotect_noaccess(k->pem);
	return pkey;
 fail:
	EVP_PKEY_free(pkey);
	(void)sodium_mprotect_noaccess(k->pem);
	return NULL;
}

int
gh_key_parse(const char *buf, size_t len, struct gh_key **out, char *err,
    size_t errlen)
{
	struct gh_key	*k;
	EVP_PKEY	*pkey;

	*out = NULL;
	if (len == 0) {
		gh_err(err, errlen, "the key file is empty");
		return -1;
	}
	if (len > GH_KEY_MAX) {
		gh_err(err, errlen, "the key file is larger than 16 KiB");
		return -1;
	}
	if (sodium_init() == -1) {
		gh_err(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->pem = sodium_malloc(len)) == NULL) {
		free(k);
		gh_err(err, errlen, "out of memory");
		return -1;
	}
	memcpy(k->pem, buf, len);
	k->len = len;
	(void)sodium_mprotect_noaccess(k->pem);
	if ((pkey = gh_key_open(k, err, errlen)) == NULL) {
		gh_key_free(k);
		return -1;
	}
	EVP_PKEY_free(pkey);
	*out = k;
	return 0;
}

int
gh_key_load(const char *path, uid_t owner, struct gh_key **out, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL, why[160];
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd = -1, ret = -1;

	*out = NULL;
	if (sodium_init() == -1) {
		gh_err(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	if (lstat(path, &st) == -1) {
		snprintf(err, errlen, "cannot read the key file: %s",
		    strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		gh_err(err, errlen, "the key file is a symlink: give the path "
		    "of the file itself");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "cannot read the key file: %s",
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "cannot read the key file: %s",
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		gh_err(err, errlen, "the key file is not a regular file");
		goto fail;
	}
	if (st.st_uid != owner) {
		snprintf(why, sizeof(why), "the key file belongs to uid %u, "
		    "not %u: chown %u it", (unsigned)st.st_uid,
		    (unsigned)owner, (unsigned)owner);
		gh_err(err, errlen, why);
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(why, sizeof(why), "the key file has mode %04o: "
		    "chmod 600 it (the owner alone may read it)",
		    (unsigned)(st.st_mode & 07777));
		gh_err(err, errlen, why);
		goto fail;
	}
	if (st.st_size > GH_KEY_MAX) {
		gh_err(err, errlen, "the key file is larger than 16 KiB");
		goto fail;
	}
	if ((buf = sodium_malloc(GH_KEY_MAX + 1)) == NULL) {
		gh_err(err, errlen, "out of memory");
		goto fail;
	}
	while (len < GH_KEY_MAX + 1) {
		n = read(fd, buf + len, GH_KEY_MAX + 1 - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "cannot read the key file: %s",
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	ret = gh_key_parse(buf, len, out, err, errlen);
 fail:
	if (buf != NULL)
		sodium_free(buf);	/* wipes */
	close(fd);
	return ret;
}

void
gh_key_free(struct gh_key *k)
{
	if (k == NULL)
		return;
	sodium_free(k->pem);	/* wipes, whatever its protection */
	free(k);
}

int
gh_iss_valid(const char *iss)
{
	size_t	 i, len;
	int	 digits = 1;

	if (iss == NULL || (len = strlen(iss)) == 0 || len >= GH_ISS_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (iss[i] < '0' || iss[i] > '9')
			digits = 0;
		if (!((iss[i] >= '0' && iss[i] <= '9') ||
		    (iss[i] >= 'a' && iss[i] <= 'z') ||
		    (iss[i] >= 'A' && iss[i] <= 'Z') || iss[i] == '.'))
			return 0;
	}
	if (digits)
		return iss[0] != '0';
	return strncmp(iss, "Iv", 2) == 0 && len > 2;
}

/* base64url without padding of in at out (room for outmax); its length */
static size_t
b64url(char *out, size_t outmax, const void *in, size_t inlen)
{
	if (sodium_base64_ENCODED_LEN(inlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) > outmax)
		return 0;
	sodium_bin2base64(out, outmax, in, inlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return strlen(out);
}

char *
gh_jwt_sign(const struct gh_key *key, const char *iss, int64_t now,
    char *err, size_t errlen)
{
	char		 claims[GH_CLAIMS_MAX];
	unsigned char	 sig[GH_SIG_MAX];
	char		*jwt = NULL;
	EVP_PKEY	*pkey = NULL;
	EVP_MD_CTX	*md = NULL;
	size_t		 off, n, siglen;
	int		 clen;

	if (key == NULL || !gh_iss_valid(iss)) {
		gh_err(err, errlen, "the App ID must be a number or a client "
		    "ID (Iv...)");
		return NULL;
	}
	if (now < GH_JWT_IAT_SKEW || now > INT64_MAX - GH_JWT_LIFETIME) {
		gh_err(err, errlen, "the clock is out of range");
		return NULL;
	}
	clen = snprintf(claims, sizeof(claims),
	    "{\"iat\":%" PRId64 ",\"exp\":%" PRId64 ",\"iss\":\"%s\"}",
	    now - GH_JWT_IAT_SKEW, now + GH_JWT_LIFETIME, iss);
	if (clen < 0 || (size_t)clen >= sizeof(claims)) {
		gh_err(err, errlen, "the JWT claims are too long");
		return NULL;
	}
	if ((jwt = sodium_malloc(GH_JWT_MAX)) == NULL) {
		gh_err(err, errlen, "out of memory");
		return NULL;
	}
	off = b64url(jwt, GH_JWT_MAX, GH_JWT_HEADER, strlen(GH_JWT_HEADER));
	if (off == 0 || off + 1 >= GH_JWT_MAX)
		goto toolong;
	jwt[off++] = '.';
	if ((n = b64url(jwt + off, GH_JWT_MAX - off, claims,
	    (size_t)clen)) == 0)
		goto toolong;
	off += n;

	if ((pkey = gh_key_open(key, err, errlen)) == NULL)
		goto fail;
	siglen = sizeof(sig);
	if (EVP_PKEY_get_size(pkey) <= 0 ||
	    (size_t)EVP_PKEY_get_size(pkey) > sizeof(sig)) {
		gh_err(err, errlen, "the RSA key is too large");
		goto fail;
	}
	/* RS256: RSASSA-PKCS1-v1_5 with SHA-256, OpenSSL's default for RSA */
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)jwt,
	    off) != 1) {
		ERR_clear_error();
		gh_err(err, errlen, "signing the JWT failed");
		goto fail;
	}
	if (off + 1 >= GH_JWT_MAX)
		goto toolong;
	jwt[off++] = '.';
	if (b64url(jwt + off, GH_JWT_MAX - off, sig, siglen) == 0)
		goto toolong;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	sodium_memzero(sig, sizeof(sig));
	return jwt;

 toolong:
	gh_err(err, errlen, "the JWT is too long");
 fail:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	sodium_free(jwt);
	return NULL;
}

void
gh_jwt_free(char *jwt)
{
	if (jwt != NULL)
		sodium_free(jwt);
}
