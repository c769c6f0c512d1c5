/*
 * Who the client is: pure functions, no I/O (fuzzed in fuzz_frontend.c).
 *
 *   - DAVIT_TRUSTED_PROXIES, a comma list of addresses and CIDRs, parsed
 *     into a bounded table (client_proxies_parse);
 *   - X-Forwarded-For, read only when the peer is in that table: its
 *     right-most address that is not a trusted proxy is the client
 *     (client_forwarded); a malformed element there means "unknown", and
 *     the caller keeps the peer's address;
 *   - the key under which a client is counted (client_key): an IPv4
 *     address as is, an IPv6 address by its /64 (one host gets a whole
 *     /64 from most providers), an IPv4-mapped IPv6 address as IPv4;
 *   - whether a listen address is loopback (client_listen_is_loopback).
 * Every address comes out in inet_ntop's canonical form.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "frontend/frontend.h"

#define CLIENT_ELEM_MAX	64	/* one element of a list, as text */

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One address, possibly "[v6]", "[v6]:port" or "v4:port" (as some proxies
 * write X-Forwarded-For): 0 and the address in a, else -1.
 */
static int
addr_parse(const char *s, size_t len, struct fe_cidr *a, int allow_port)
{
	char		 buf[CLIENT_ELEM_MAX];
	const char	*end;
	size_t		 i;

	memset(a, 0, sizeof(*a));
	if (len == 0 || len >= sizeof(buf))
		return -1;
	if (s[0] == '[') {
		if ((end = memchr(s, ']', len)) == NULL)
			return -1;
		if (end + 1 != s + len) {
			if (!allow_port || end[1] != ':' || end + 2 == s + len)
				return -1;
			for (i = (size_t)(end + 2 - s); i < len; i++)
				if (s[i] < '0' || s[i] > '9')
					return -1;
		}
		memcpy(buf, s + 1, (size_t)(end - s - 1));
		buf[end - s - 1] = '\0';
		if (inet_pton(AF_INET6, buf, a->addr) != 1)
			return -1;
		a->family = AF_INET6;
		a->bits = 128;
		return 0;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		a->family = AF_INET6;
		a->bits = 128;
		return 0;
	}
	/* "v4:port" */
	if (allow_port && (end = memchr(buf, ':', len)) != NULL) {
		for (i = (size_t)(end - buf) + 1; i < len; i++)
			if (buf[i] < '0' || buf[i] > '9')
				return -1;
		if ((size_t)(end - buf) + 1 == len)
			return -1;
		buf[end - buf] = '\0';
	}
	if (inet_pton(AF_INET, buf, a->addr) != 1)
		return -1;
	a->family = AF_INET;
	a->bits = 32;
	return 0;
}

/* an IPv4-mapped IPv6 address becomes the IPv4 address */
static void
addr_unmap(struct fe_cidr *a)
{
	static const unsigned char	mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (a->family == AF_INET6 && memcmp(a->addr, mapped, 12) == 0) {
		memmove(a->addr, a->addr + 12, 4);
		memset(a->addr + 4, 0, 12);
		a->family = AF_INET;
		a->bits = 32;
	}
}

static int
cidr_match(const struct fe_cidr *net, const struct fe_cidr *a)
{
	unsigned	full = net->bits / 8, rest = net->bits % 8;
	unsigned char	mask;

	if (net->family != a->family)
		return 0;
	if (memcmp(net->addr, a->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (a->addr[full] & mask);
}

int
client_cidr_parse(const char *s, size_t len, struct fe_cidr *net)
{
	const char	*slash;
	size_t		 alen, i;
	unsigned	 bits = 0;

	if ((slash = memchr(s, '/', len)) == NULL)
		alen = len;
	else
		alen = (size_t)(slash - s);
	if (addr_parse(s, alen, net, 0) == -1)
		return -1;
	if (slash != NULL) {
		if (alen + 1 == len || len - alen - 1 > 3)
			return -1;
		for (i = alen + 1; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			bits = bits * 10 + (unsigned)(s[i] - '0');
		}
		if (bits > net->bits)
			return -1;
		net->bits = bits;
	}
	addr_unmap(net);
	if (net->family == AF_INET && slash != NULL && net->bits > 32) {
		/* ::ffff:a.b.c.d/120 */
		if (net->bits < 96)
			return -1;
		net->bits -= 96;
	}
	return 0;
}

int
client_proxies_parse(const char *s, struct fe_proxies *p, char *err,
    size_t errlen)
{
	const char	*e, *end;
	size_t		 len;

	memset(p, 0, sizeof(*p));
	if (s == NULL)
		return 0;
	end = s + strlen(s);
	while (s < end) {
		while (s < end && is_blank(*s))
			s++;
		if ((e = memchr(s, ',', (size_t)(end - s))) == NULL)
			e = end;
		len = (size_t)(e - s);
		while (len > 0 && is_blank(s[len - 1]))
			len--;
		if (len == 0) {
			snprintf(err, errlen, "an empty element");
			return -1;
		}
		if (p->n == FE_MAX_PROXIES) {
			snprintf(err, errlen, "more than %d elements", FE_MAX_PROXIES);
			return -1;
		}
		if (client_cidr_parse(s, len, &p->net[p->n]) == -1) {
			snprintf(err, errlen, "\"%.*s\" is not an address or CIDR",
			    (int)(len > CLIENT_ELEM_MAX ? CLIENT_ELEM_MAX : len), s);
			return -1;
		}
		p->n++;
		s = e + 1;
		if (e == end)
			break;
		if (s == end) {
			snprintf(err, errlen, "an empty element");
			return -1;
		}
	}
	return 0;
}

static int
proxies_match(const struct fe_proxies *p, const struct fe_cidr *a)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		if (cidr_match(&p->net[i], a))
			return 1;
	return 0;
}

int
client_addr_trusted(const struct fe_proxies *p, const char *addr)
{
	struct fe_cidr	a;

	if (p == NULL || p->n == 0 || addr == NULL ||
	    addr_parse(addr, strlen(addr), &a, 0) == -1)
		return 0;
	addr_unmap(&a);
	return proxies_match(p, &a);
}

static void
addr_format(const struct fe_cidr *a, char *out, size_t outlen)
{
	char	buf[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family, a->addr, buf, sizeof(buf)) == NULL)
		snprintf(buf, sizeof(buf), "?");
	snprintf(out, outlen, "%s", buf);
}

int
client_forwarded(const char *xff, size_t len, const struct fe_proxies *p,
    char *out, size_t outlen)
{
	struct fe_cidr	 a, last;
	const char	*s, *e = xff + len;
	size_t		 elen;
	int		 any = 0;

	/* from the right: each proxy appended the address it saw */
	for (;;) {
		/* the element is [s, e) */
		s = e;
		while (s > xff && s[-1] != ',')
			s--;
		elen = (size_t)(e - s);
		while (elen > 0 && is_blank(*s)) {
			s++;
			elen--;
		}
		while (elen > 0 && is_blank(s[elen - 1]))
			elen--;
		if (elen > 0) {
			if (addr_parse(s, elen, &a, 1) == -1)
				return -1;
			addr_unmap(&a);
			if (!proxies_match(p, &a)) {
				addr_format(&a, out, outlen);
				return 0;
			}
			last = a;
			any = 1;
		}
		/* empty elements ("a, , b") are skipped */
		while (e > xff && e[-1] != ',')
			e--;
		if (e == xff)
			break;
		e--;		/* the comma */
	}
	if (!any)
		return -1;
	/* every one a proxy: the left-most is the client */
	addr_format(&last, out, outlen);
	return 0;
}

void
client_key(const char *addr, char *out, size_t outlen)
{
	struct fe_cidr	a;
	char		buf[INET6_ADDRSTRLEN];

	if (addr == NULL || addr_parse(addr, strlen(addr), &a, 0) == -1) {
		/* not an address (a Unix socket, "?"): as it is, cut */
		snprintf(out, outlen, "%s", addr != NULL && addr[0] != '\0' ?
		    addr : "?");
		return;
	}
	addr_unmap(&a);
	if (a.family == AF_INET6) {
		memset(a.addr + 8, 0, 8);
		if (inet_ntop(AF_INET6, a.addr, buf, sizeof(buf)) == NULL)
			snprintf(buf, sizeof(buf), "?");
		snprintf(out, outlen, "%s/64", buf);
		return;
	}
	addr_format(&a, out, outlen);
}

int
client_listen_is_loopback(const char *listen)
{
	struct fe_cidr	 a;
	const char	*colon;
	size_t		 hlen;

	if (listen == NULL)
		return 0;
	if (listen[0] == '[') {
		if ((colon = strstr(listen, "]:")) == NULL)
			return 0;
		hlen = (size_t)(colon - listen) + 1;
	} else {
		if ((colon = strrchr(listen, ':')) == NULL)
			return 0;
		hlen = (size_t)(colon - listen);
	}
	if (hlen == 9 && strncasecmp(listen, "localhost", 9) == 0)
		return 1;
	if (addr_parse(listen, hlen, &a, 0) == -1)
		return 0;
	addr_unmap(&a);
	if (a.family == AF_INET)
		return a.addr[0] == 127;
	return memcmp(a.addr, in6addr_loopback.s6_addr, 16) == 0;
}
