/*
 * Docker's times and words, without I/O: RFC 3339 times as the engine
 * writes them, Go's units.HumanDuration, and a container's status text as
 * the engine's State.String() would put it ("Up 5 minutes (healthy)").
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend/docker.h"

static int
digits(const char *s, int n, int *out)
{
	int	i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
docker_parse_time(const char *s, long long *ms)
{
	struct tm	 tm;
	int		 year, mon, day, hh, mm, ss, oh, om, frac = 0, nfrac = 0;
	long long	 secs, off = 0;
	time_t		 t;
	const char	*p;

	*ms = 0;
	if (strlen(s) < 20 || digits(s, 4, &year) == -1 || s[4] != '-' ||
	    digits(s + 5, 2, &mon) == -1 || s[7] != '-' ||
	    digits(s + 8, 2, &day) == -1 || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &hh) == -1 || s[13] != ':' ||
	    digits(s + 14, 2, &mm) == -1 || s[16] != ':' ||
	    digits(s + 17, 2, &ss) == -1)
		return -1;
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 ||
	    ss > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nfrac++)
			if (nfrac < 3)
				frac = frac * 10 + (*p - '0');
		if (nfrac == 0)
			return -1;
		for (; nfrac < 3; nfrac++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		if (p[1] != '\0')
			return -1;
	} else if (*p == '+' || *p == '-') {
		if (digits(p + 1, 2, &oh) == -1 || p[3] != ':' ||
		    digits(p + 4, 2, &om) == -1 || p[6] != '\0' || oh > 23 || om > 59)
			return -1;
		off = (oh * 3600LL + om * 60) * (*p == '+' ? 1 : -1);
	} else
		return -1;
	if (year < 1970)
		return 0;	/* Go's zero time, "0001-01-01T00:00:00Z": never */
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	secs = (long long)t - off;
	if (secs <= 0)
		return 0;
	*ms = secs * 1000 + frac;
	return 0;
}

void
docker_human_duration(long long ms, char *buf, size_t len)
{
	long long	secs = ms / 1000, minutes, hours;

	if (secs < 1)
		snprintf(buf, len, "Less than a second");
	else if (secs == 1)
		snprintf(buf, len, "1 second");
	else if (secs < 60)
		snprintf(buf, len, "%lld seconds", secs);
	else if ((minutes = secs / 60) == 1)
		snprintf(buf, len, "About a minute");
	else if (minutes < 60)
		snprintf(buf, len, "%lld minutes", minutes);
	else if ((hours = (ms + 1800000) / 3600000) == 1)	/* math.Round */
		snprintf(buf, len, "About an hour");
	else if (hours < 48)
		snprintf(buf, len, "%lld hours", hours);
	else if (hours < 24 * 7 * 2)
		snprintf(buf, len, "%lld days", hours / 24);
	else if (hours < 24 * 30 * 2)
		snprintf(buf, len, "%lld weeks", hours / 24 / 7);
	else if (hours < 24 * 365 * 2)
		snprintf(buf, len, "%lld months", hours / 24 / 30);
	else
		snprintf(buf, len, "%lld years", ms / 3600000 / 24 / 365);
}

/* as the engine's State.String() */
void
docker_status_text(const struct docker_container *c, long long now_ms,
    char *buf, size_t len)
{
	char	 d[32];

	switch (c->state) {
	case DS_MISSING:
		buf[0] = '\0';
		return;
	case DS_RUNNING:
	case DS_PAUSED:
		docker_human_duration(now_ms - c->started_ms, d, sizeof(d));
		if (c->state == DS_PAUSED)
			snprintf(buf, len, "Up %s (Paused)", d);
		else if (c->health == DH_STARTING)
			snprintf(buf, len, "Up %s (health: starting)", d);
		else if (c->health != DH_NONE)
			snprintf(buf, len, "Up %s (%s)", d,
			    docker_health_name(c->health));
		else
			snprintf(buf, len, "Up %s", d);
		return;
	case DS_RESTARTING:
		docker_human_duration(now_ms - c->finished_ms, d, sizeof(d));
		snprintf(buf, len, "Restarting (%lld) %s ago", c->exit_code, d);
		return;
	case DS_REMOVING:
		snprintf(buf, len, "Removal In Progress");
		return;
	case DS_DEAD:
		snprintf(buf, len, "Dead");
		return;
	case DS_CREATED:
		snprintf(buf, len, "Created");
		return;
	case DS_EXITED:
	default:
		if (c->started_ms == 0) {
			snprintf(buf, len, "Created");
			return;
		}
		if (c->finished_ms == 0) {
			buf[0] = '\0';
			return;
		}
		docker_human_duration(now_ms - c->finished_ms, d, sizeof(d));
		snprintf(buf, len, "Exited (%lld) %s ago", c->exit_code, d);
		return;
	}
}
