/*
 * github_jwt.c: a GitHub App's private key and the JWTs signed with it.
 *
 * The key file must be a regular file (not a symlink) owned by the expected
 * user (root in production) and readable by it alone.  Its PEM text is kept
 * in sodium_malloc'd memory, read-only except while the key is being used,
 * and wiped when freed; OpenSSL's parsed copy exists only while signing.
 * JWTs are returned in sodium_malloc'd memory too (gh_jwt_free wipes them).
 * Nothing here logs: errors go to the caller's buffer and never contain
 * key material.
 */
#ifndef DAVIT_GITHUB_JWT_H
#define DAVIT_GITHUB_JWT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define GH_KEY_MAX		(16 * 1024)	/* a PEM file larger than this is refused */
#define GH_KEY_MIN_BITS		2048		/* GitHub's keys are 2048 bits */
#define GH_JWT_IAT_SKEW		60		/* iat this many seconds in the past */
#define GH_JWT_LIFETIME		540		/* exp = now + this (GitHub: at most 600) */
#define GH_JWT_MAX		2048		/* an encoded JWT, NUL included */
#define GH_ISS_MAX		64		/* an App ID or client ID */

struct gh_key;

/*
 * Reads the PEM private key at path: refused unless it is a regular file,
 * not a symlink, owned by owner, with no permission for group or others,
 * and an RSA key of at least GH_KEY_MIN_BITS.  0, or -1 with err set.
 */
int	 gh_key_load(const char *path, uid_t owner, struct gh_key **out,
	    char *err, size_t errlen);
/* The same from memory (the caller wipes buf). */
int	 gh_key_parse(const char *buf, size_t len, struct gh_key **out,
	    char *err, size_t errlen);
void	 gh_key_free(struct gh_key *);

/* 1 if iss is a valid JWT issuer: digits, or a client ID "Iv..." */
int	 gh_iss_valid(const char *iss);

/*
 * Signs {"alg":"RS256","typ":"JWT"}.{"iat":now-60,"exp":now+540,"iss":iss}
 * with RS256.  Pure but for OpenSSL: the same key, iss and now give the same
 * token.  Returns a NUL-terminated token in sodium_malloc'd memory (free it
 * with gh_jwt_free), or NULL with err set.
 */
char	*gh_jwt_sign(const struct gh_key *key, const char *iss, int64_t now,
	    char *err, size_t errlen);
void	 gh_jwt_free(char *jwt);

#endif
