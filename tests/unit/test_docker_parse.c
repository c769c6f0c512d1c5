/*
 * docker_parse.c: the Engine API's replies, recorded from Docker Engine
 * 20.10.24 (API 1.41) with a compose v1 project "dkxtest" (services web,
 * with a healthcheck, and worker), then malformed variants of each: wrong
 * types, truncated JSON, huge numbers, missing labels, NULs, lengths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/docker.h"

#define WEB_ID		"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3eccc617f567"
#define WORKER_ID	"210e1e9094bb6ed6fdbac6b84c17a11712606ffa9b3d9615ca788e88854762db"
#define PROJECT		"dkxtest"

/* ---- recorded replies (GET /version, /v1.41/containers/json?all=1&filters=
 * {"label":["com.docker.compose.project=dkxtest"]}, /v1.41/containers/ID/json
 * with the health log cut to one entry and HostConfig, GraphDriver,
 * NetworkSettings and Mounts left out, and lines of /v1.41/events) ---- */
static const char rec_version[] =
    "{\"Platform\":{\"Name\":\"\"},\"Components\":[{\"Name\":\"Engine\",\""
    "Version\":\"20.10.24+dfsg1\",\"Details\":{\"ApiVersion\":\"1.41\",\""
    "Arch\":\"amd64\",\"BuildTime\":\"2026-05-07T21:09:36.000000000+00:00"
    "\",\"Experimental\":\"false\",\"GitCommit\":\"5d6db84\",\"GoVersion\""
    ":\"go1.19.8\",\"KernelVersion\":\"6.18.44-fc-v657\",\"MinAPIVersion\""
    ":\"1.12\",\"Os\":\"linux\"}},{\"Name\":\"containerd\",\"Version\":\""
    "1.6.20~ds1\",\"Details\":{\"GitCommit\":\"1.6.20~ds1-1+deb12u3\"}},{"
    "\"Name\":\"runc\",\"Version\":\"1.1.5+ds1\",\"Details\":{\"GitCommit"
    "\":\"1.1.5+ds1-1+deb12u1\"}},{\"Name\":\"docker-init\",\"Version\":\""
    "0.19.0\",\"Details\":{\"GitCommit\":\"\"}}],\"Version\":\"20.10.24+d"
    "fsg1\",\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.12\",\"GitCommi"
    "t\":\"5d6db84\",\"GoVersion\":\"go1.19.8\",\"Os\":\"linux\",\"Arch\""
    ":\"amd64\",\"KernelVersion\":\"6.18.44-fc-v657\",\"BuildTime\":\"202"
    "6-05-07T21:09:36.000000000+00:00\"}";
static const char rec_list[] =
    "[{\"Id\":\"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3eccc"
    "617f567\",\"Names\":[\"/dkxtest_web_1\"],\"Image\":\"dkxtest-web\",\""
    "ImageID\":\"sha256:2cd6e9727dc252e1572211a3c3e54b39188b96e31af119970"
    "f43a65189f10df1\",\"Command\":\"/bin/busybox sh -c 'trap 'exit 0' TE"
    "RM INT; /bin/busybox httpd -f -p 127.0.0.1:${PORT} -h /www & wait $!"
    "'\",\"Created\":1795721658,\"Ports\":[],\"Labels\":{\"com.docker.com"
    "pose.config-hash\":\"22bd7158dd6bdb9f98bc895a50fa472dd06ccf9ac75c635"
    "048baa282bcbdc63d\",\"com.docker.compose.container-number\":\"1\",\""
    "com.docker.compose.oneoff\":\"False\",\"com.docker.compose.project\""
    ":\"dkxtest\",\"com.docker.compose.project.config_files\":\"docker-co"
    "mpose.yml\",\"com.docker.compose.project.working_dir\":\"/tmp/dkx/ap"
    "p\",\"com.docker.compose.service\":\"web\",\"com.docker.compose.vers"
    "ion\":\"1.29.2\",\"davit.demo\":\"1\",\"davit.demo.project\":\"dkxte"
    "st\"},\"State\":\"running\",\"Status\":\"Up 5 seconds (healthy)\",\""
    "HostConfig\":{\"NetworkMode\":\"host\"},\"NetworkSettings\":{\"Netwo"
    "rks\":{\"host\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null"
    ",\"NetworkID\":\"6df0d3ed8e06bf7eacaa29409e343f35d8ad8ab62ed2b2fd238"
    "923c2f4317e36\",\"EndpointID\":\"092d05ee6d05781b2cb43aa99544094aa89"
    "95b472ba0ab0f58174681cb754eff\",\"Gateway\":\"\",\"IPAddress\":\"\","
    "\"IPPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\""
    "GlobalIPv6PrefixLen\":0,\"MacAddress\":\"\",\"DriverOpts\":null}}},\""
    "Mounts\":[]},{\"Id\":\"210e1e9094bb6ed6fdbac6b84c17a11712606ffa9b3d9"
    "615ca788e88854762db\",\"Names\":[\"/dkxtest_worker_1\"],\"Image\":\""
    "dkxtest-worker\",\"ImageID\":\"sha256:350c5ff63fff83b51f6f3b5e3b2c38"
    "de6da952197664cba4084d4ded5c588dff\",\"Command\":\"/bin/busybox sh -"
    "c 'trap 'exit 0' TERM INT; while :; do /bin/busybox sleep 1 & wait $"
    "!; done'\",\"Created\":1795721658,\"Ports\":[],\"Labels\":{\"com.doc"
    "ker.compose.config-hash\":\"cbc1b5cff849e64d319c6f424b895cc60f1ddd45"
    "ce39212950950e980e867643\",\"com.docker.compose.container-number\":\""
    "1\",\"com.docker.compose.oneoff\":\"False\",\"com.docker.compose.pro"
    "ject\":\"dkxtest\",\"com.docker.compose.project.config_files\":\"doc"
    "ker-compose.yml\",\"com.docker.compose.project.working_dir\":\"/tmp/"
    "dkx/app\",\"com.docker.compose.service\":\"worker\",\"com.docker.com"
    "pose.version\":\"1.29.2\",\"davit.demo\":\"1\",\"davit.demo.project\""
    ":\"dkxtest\"},\"State\":\"running\",\"Status\":\"Up 5 seconds\",\"Ho"
    "stConfig\":{\"NetworkMode\":\"none\"},\"NetworkSettings\":{\"Network"
    "s\":{\"none\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\""
    "NetworkID\":\"c2d7a0a7bc81ddb2ea0548caab97deef42f59042846eaf42fce1aa"
    "82003fb1ca\",\"EndpointID\":\"7489f9c1024860a8b7e5d7a7d5294f1e637466"
    "385a6dba219abe1a5df1eb95d2\",\"Gateway\":\"\",\"IPAddress\":\"\",\"I"
    "PPrefixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"Glo"
    "balIPv6PrefixLen\":0,\"MacAddress\":\"\",\"DriverOpts\":null}}},\"Mo"
    "unts\":[]}]";
static const char rec_inspect_web[] =
    "{\"Id\":\"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3eccc6"
    "17f567\",\"Created\":\"2026-11-26T19:34:18.093851062Z\",\"Path\":\"/"
    "bin/busybox\",\"Args\":[\"sh\",\"-c\",\"trap 'exit 0' TERM INT; /bin"
    "/busybox httpd -f -p 127.0.0.1:${PORT} -h /www & wait $!\"],\"State\""
    ":{\"Status\":\"running\",\"Running\":true,\"Paused\":false,\"Restart"
    "ing\":false,\"OOMKilled\":false,\"Dead\":false,\"Pid\":21795,\"ExitC"
    "ode\":0,\"Error\":\"\",\"StartedAt\":\"2026-11-26T19:34:18.210009899"
    "Z\",\"FinishedAt\":\"0001-01-01T00:00:00Z\",\"Health\":{\"Status\":\""
    "healthy\",\"FailingStreak\":0,\"Log\":[{\"Start\":\"2026-11-26T19:34"
    ":20.21077797Z\",\"End\":\"2026-11-26T19:34:20.252631224Z\",\"ExitCod"
    "e\":0,\"Output\":\"\"}]}},\"Image\":\"sha256:2cd6e9727dc252e1572211a"
    "3c3e54b39188b96e31af119970f43a65189f10df1\",\"ResolvConfPath\":\"/va"
    "r/lib/docker/containers/1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786d"
    "f9666d4c3eccc617f567/resolv.conf\",\"HostnamePath\":\"/var/lib/docke"
    "r/containers/1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3ec"
    "cc617f567/hostname\",\"HostsPath\":\"/var/lib/docker/containers/1eed"
    "b8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3eccc617f567/hosts\""
    ",\"LogPath\":\"/var/lib/docker/containers/1eedb8985ce2d82408bf8ebacf"
    "4bcbfc42300bc9786df9666d4c3eccc617f567/1eedb8985ce2d82408bf8ebacf4bc"
    "bfc42300bc9786df9666d4c3eccc617f567-json.log\",\"Name\":\"/dkxtest_w"
    "eb_1\",\"RestartCount\":0,\"Driver\":\"overlay2\",\"Platform\":\"lin"
    "ux\",\"MountLabel\":\"\",\"ProcessLabel\":\"\",\"AppArmorProfile\":\""
    "\",\"ExecIDs\":null,\"Config\":{\"Hostname\":\"vm\",\"Domainname\":\""
    "\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":false,\"Atta"
    "chStderr\":false,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":fal"
    "se,\"Env\":[\"PORT=28111\",\"PATH=/usr/local/sbin:/usr/local/bin:/us"
    "r/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"/bin/busybox\",\"sh\",\"-c\""
    ",\"trap 'exit 0' TERM INT; /bin/busybox httpd -f -p 127.0.0.1:${PORT"
    "} -h /www & wait $!\"],\"Healthcheck\":{\"Test\":[\"CMD\",\"/bin/bus"
    "ybox\",\"wget\",\"-q\",\"-O\",\"/dev/null\",\"http://127.0.0.1:28111"
    "/\"],\"Interval\":2000000000,\"Timeout\":2000000000,\"StartPeriod\":"
    "2000000000,\"Retries\":5},\"Image\":\"dkxtest-web\",\"Volumes\":null"
    ",\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\""
    ":{\"com.docker.compose.config-hash\":\"22bd7158dd6bdb9f98bc895a50fa4"
    "72dd06ccf9ac75c635048baa282bcbdc63d\",\"com.docker.compose.container"
    "-number\":\"1\",\"com.docker.compose.oneoff\":\"False\",\"com.docker"
    ".compose.project\":\"dkxtest\",\"com.docker.compose.project.config_f"
    "iles\":\"docker-compose.yml\",\"com.docker.compose.project.working_d"
    "ir\":\"/tmp/dkx/app\",\"com.docker.compose.service\":\"web\",\"com.d"
    "ocker.compose.version\":\"1.29.2\",\"davit.demo\":\"1\",\"davit.demo"
    ".project\":\"dkxtest\"},\"StopTimeout\":5}}";
static const char rec_inspect_worker[] =
    "{\"Id\":\"210e1e9094bb6ed6fdbac6b84c17a11712606ffa9b3d9615ca788e8885"
    "4762db\",\"Created\":\"2026-11-26T19:34:18.090923556Z\",\"Path\":\"/"
    "bin/busybox\",\"Args\":[\"sh\",\"-c\",\"trap 'exit 0' TERM INT; whil"
    "e :; do /bin/busybox sleep 1 & wait $!; done\"],\"State\":{\"Status\""
    ":\"running\",\"Running\":true,\"Paused\":false,\"Restarting\":false,"
    "\"OOMKilled\":false,\"Dead\":false,\"Pid\":21796,\"ExitCode\":0,\"Er"
    "ror\":\"\",\"StartedAt\":\"2026-11-26T19:34:18.359620374Z\",\"Finish"
    "edAt\":\"0001-01-01T00:00:00Z\"},\"Image\":\"sha256:350c5ff63fff83b5"
    "1f6f3b5e3b2c38de6da952197664cba4084d4ded5c588dff\",\"ResolvConfPath\""
    ":\"/var/lib/docker/containers/210e1e9094bb6ed6fdbac6b84c17a11712606f"
    "fa9b3d9615ca788e88854762db/resolv.conf\",\"HostnamePath\":\"/var/lib"
    "/docker/containers/210e1e9094bb6ed6fdbac6b84c17a11712606ffa9b3d9615c"
    "a788e88854762db/hostname\",\"HostsPath\":\"/var/lib/docker/container"
    "s/210e1e9094bb6ed6fdbac6b84c17a11712606ffa9b3d9615ca788e88854762db/h"
    "osts\",\"LogPath\":\"/var/lib/docker/containers/210e1e9094bb6ed6fdba"
    "c6b84c17a11712606ffa9b3d9615ca788e88854762db/210e1e9094bb6ed6fdbac6b"
    "84c17a11712606ffa9b3d9615ca788e88854762db-json.log\",\"Name\":\"/dkx"
    "test_worker_1\",\"RestartCount\":0,\"Driver\":\"overlay2\",\"Platfor"
    "m\":\"linux\",\"MountLabel\":\"\",\"ProcessLabel\":\"\",\"AppArmorPr"
    "ofile\":\"\",\"ExecIDs\":null,\"Config\":{\"Hostname\":\"210e1e9094b"
    "b\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"Attach"
    "Stdout\":false,\"AttachStderr\":false,\"Tty\":false,\"OpenStdin\":fa"
    "lse,\"StdinOnce\":false,\"Env\":[\"PATH=/usr/local/sbin:/usr/local/b"
    "in:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"/bin/busybox\",\"sh\""
    ",\"-c\",\"trap 'exit 0' TERM INT; while :; do /bin/busybox sleep 1 &"
    " wait $!; done\"],\"Image\":\"dkxtest-worker\",\"Volumes\":null,\"Wo"
    "rkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{\"c"
    "om.docker.compose.config-hash\":\"cbc1b5cff849e64d319c6f424b895cc60f"
    "1ddd45ce39212950950e980e867643\",\"com.docker.compose.container-numb"
    "er\":\"1\",\"com.docker.compose.oneoff\":\"False\",\"com.docker.comp"
    "ose.project\":\"dkxtest\",\"com.docker.compose.project.config_files\""
    ":\"docker-compose.yml\",\"com.docker.compose.project.working_dir\":\""
    "/tmp/dkx/app\",\"com.docker.compose.service\":\"worker\",\"com.docke"
    "r.compose.version\":\"1.29.2\",\"davit.demo\":\"1\",\"davit.demo.pro"
    "ject\":\"dkxtest\"},\"StopTimeout\":5}}";
static const char rec_event_die[] =
    "{\"status\":\"die\",\"id\":\"210e1e9094bb6ed6fdbac6b84c17a11712606ff"
    "a9b3d9615ca788e88854762db\",\"from\":\"dkxtest-worker\",\"Type\":\"c"
    "ontainer\",\"Action\":\"die\",\"Actor\":{\"ID\":\"210e1e9094bb6ed6fd"
    "bac6b84c17a11712606ffa9b3d9615ca788e88854762db\",\"Attributes\":{\"c"
    "om.docker.compose.config-hash\":\"cbc1b5cff849e64d319c6f424b895cc60f"
    "1ddd45ce39212950950e980e867643\",\"com.docker.compose.container-numb"
    "er\":\"1\",\"com.docker.compose.oneoff\":\"False\",\"com.docker.comp"
    "ose.project\":\"dkxtest\",\"com.docker.compose.project.config_files\""
    ":\"docker-compose.yml\",\"com.docker.compose.project.working_dir\":\""
    "/tmp/dkx/app\",\"com.docker.compose.service\":\"worker\",\"com.docke"
    "r.compose.version\":\"1.29.2\",\"davit.demo\":\"1\",\"davit.demo.pro"
    "ject\":\"dkxtest\",\"exitCode\":\"0\",\"image\":\"dkxtest-worker\",\""
    "name\":\"dkxtest_worker_1\"}},\"scope\":\"local\",\"time\":179572166"
    "8,\"timeNano\":1795721668117923502}";
static const char rec_event_health_status[] =
    "{\"status\":\"health_status: healthy\",\"id\":\"1eedb8985ce2d82408bf"
    "8ebacf4bcbfc42300bc9786df9666d4c3eccc617f567\",\"from\":\"dkxtest-we"
    "b\",\"Type\":\"container\",\"Action\":\"health_status: healthy\",\"A"
    "ctor\":{\"ID\":\"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4"
    "c3eccc617f567\",\"Attributes\":{\"com.docker.compose.config-hash\":\""
    "22bd7158dd6bdb9f98bc895a50fa472dd06ccf9ac75c635048baa282bcbdc63d\",\""
    "com.docker.compose.container-number\":\"1\",\"com.docker.compose.one"
    "off\":\"False\",\"com.docker.compose.project\":\"dkxtest\",\"com.doc"
    "ker.compose.project.config_files\":\"docker-compose.yml\",\"com.dock"
    "er.compose.project.working_dir\":\"/tmp/dkx/app\",\"com.docker.compo"
    "se.service\":\"web\",\"com.docker.compose.version\":\"1.29.2\",\"dav"
    "it.demo\":\"1\",\"davit.demo.project\":\"dkxtest\",\"image\":\"dkxte"
    "st-web\",\"name\":\"dkxtest_web_1\"}},\"scope\":\"local\",\"time\":1"
    "795721670,\"timeNano\":1795721670670486415}";
static const char rec_event_exec_start[] =
    "{\"status\":\"exec_start: /bin/busybox wget -q -O /dev/null http://1"
    "27.0.0.1:28111/\",\"id\":\"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc97"
    "86df9666d4c3eccc617f567\",\"from\":\"dkxtest-web\",\"Type\":\"contai"
    "ner\",\"Action\":\"exec_start: /bin/busybox wget -q -O /dev/null htt"
    "p://127.0.0.1:28111/\",\"Actor\":{\"ID\":\"1eedb8985ce2d82408bf8ebac"
    "f4bcbfc42300bc9786df9666d4c3eccc617f567\",\"Attributes\":{\"com.dock"
    "er.compose.config-hash\":\"22bd7158dd6bdb9f98bc895a50fa472dd06ccf9ac"
    "75c635048baa282bcbdc63d\",\"com.docker.compose.container-number\":\""
    "1\",\"com.docker.compose.oneoff\":\"False\",\"com.docker.compose.pro"
    "ject\":\"dkxtest\",\"com.docker.compose.project.config_files\":\"doc"
    "ker-compose.yml\",\"com.docker.compose.project.working_dir\":\"/tmp/"
    "dkx/app\",\"com.docker.compose.service\":\"web\",\"com.docker.compos"
    "e.version\":\"1.29.2\",\"davit.demo\":\"1\",\"davit.demo.project\":\""
    "dkxtest\",\"execID\":\"e45ed5daf86293afb44e36bf938a73383413a6d61ea37"
    "1b532f13702d38b1a62\",\"image\":\"dkxtest-web\",\"name\":\"dkxtest_w"
    "eb_1\"}},\"scope\":\"local\",\"time\":1795721668,\"timeNano\":179572"
    "1668409817970}";
static const char rec_event_destroy[] =
    "{\"status\":\"destroy\",\"id\":\"210e1e9094bb6ed6fdbac6b84c17a117126"
    "06ffa9b3d9615ca788e88854762db\",\"from\":\"dkxtest-worker\",\"Type\""
    ":\"container\",\"Action\":\"destroy\",\"Actor\":{\"ID\":\"210e1e9094"
    "bb6ed6fdbac6b84c17a11712606ffa9b3d9615ca788e88854762db\",\"Attribute"
    "s\":{\"com.docker.compose.config-hash\":\"cbc1b5cff849e64d319c6f424b"
    "895cc60f1ddd45ce39212950950e980e867643\",\"com.docker.compose.contai"
    "ner-number\":\"1\",\"com.docker.compose.oneoff\":\"False\",\"com.doc"
    "ker.compose.project\":\"dkxtest\",\"com.docker.compose.project.confi"
    "g_files\":\"docker-compose.yml\",\"com.docker.compose.project.workin"
    "g_dir\":\"/tmp/dkx/app\",\"com.docker.compose.service\":\"worker\",\""
    "com.docker.compose.version\":\"1.29.2\",\"davit.demo\":\"1\",\"davit"
    ".demo.project\":\"dkxtest\",\"image\":\"dkxtest-worker\",\"name\":\""
    "dkxtest_worker_1\"}},\"scope\":\"local\",\"time\":1795721674,\"timeN"
    "ano\":1795721674714876402}";
static const char rec_event_start[] =
    "{\"status\":\"start\",\"id\":\"210e1e9094bb6ed6fdbac6b84c17a11712606"
    "ffa9b3d9615ca788e88854762db\",\"from\":\"dkxtest-worker\",\"Type\":\""
    "container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"210e1e9094bb6ed"
    "6fdbac6b84c17a11712606ffa9b3d9615ca788e88854762db\",\"Attributes\":{"
    "\"com.docker.compose.config-hash\":\"cbc1b5cff849e64d319c6f424b895cc"
    "60f1ddd45ce39212950950e980e867643\",\"com.docker.compose.container-n"
    "umber\":\"1\",\"com.docker.compose.oneoff\":\"False\",\"com.docker.c"
    "ompose.project\":\"dkxtest\",\"com.docker.compose.project.config_fil"
    "es\":\"docker-compose.yml\",\"com.docker.compose.project.working_dir"
    "\":\"/tmp/dkx/app\",\"com.docker.compose.service\":\"worker\",\"com."
    "docker.compose.version\":\"1.29.2\",\"davit.demo\":\"1\",\"davit.dem"
    "o.project\":\"dkxtest\",\"image\":\"dkxtest-worker\",\"name\":\"dkxt"
    "est_worker_1\"}},\"scope\":\"local\",\"time\":1795721668,\"timeNano\""
    ":1795721668385398874}";

static char	err[DOCKER_ERR_LEN];

#define PARSE_FAILS(call, needle) do {					\
	err[0] = '\0';							\
	assert_int_equal((call), -1);					\
	if (strstr(err, (needle)) == NULL)				\
		fail_msg("error \"%s\" does not say \"%s\"", err, (needle)); \
} while (0)

/* a copy of s with "from" replaced by "to" (once, which must exist) */
static char *
subst(const char *s, const char *from, const char *to)
{
	const char	*p = strstr(s, from);
	char		*out;
	size_t		 pre;

	if (p == NULL)
		fail_msg("\"%s\" not in the recording", from);
	pre = (size_t)(p - s);
	out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	memcpy(out, s, pre);
	strcpy(out + pre, to);
	strcat(out, p + strlen(from));
	return out;
}

/* ------------------------------------------------------------ version -- */

static void
test_version_recorded(void **state)
{
	struct docker_version	v;

	assert_int_equal(docker_parse_version(rec_version, strlen(rec_version), &v,
	    err, sizeof(err)), 0);
	assert_int_equal(v.major, 1);
	assert_int_equal(v.minor, 41);
	assert_int_equal(v.min_major, 1);
	assert_int_equal(v.min_minor, 12);
	assert_string_equal(v.engine, "20.10.24+dfsg1");
}

static void
test_version_malformed(void **state)
{
	struct docker_version	 v;
	const char		*s;
	char			*m;

	s = "[]";
	PARSE_FAILS(docker_parse_version(s, strlen(s), &v, err, sizeof(err)),
	    "not an object");
	s = "{\"Version\":\"20.10\"}";
	PARSE_FAILS(docker_parse_version(s, strlen(s), &v, err, sizeof(err)),
	    "no \"ApiVersion\"");
	s = "{\"ApiVersion\":1.41}";
	PARSE_FAILS(docker_parse_version(s, strlen(s), &v, err, sizeof(err)),
	    "\"ApiVersion\" is not a string");
	s = "{\"ApiVersion\":\"one.41\"}";
	PARSE_FAILS(docker_parse_version(s, strlen(s), &v, err, sizeof(err)),
	    "bad ApiVersion");
	s = "{\"ApiVersion\":\"1.41x\"}";
	PARSE_FAILS(docker_parse_version(s, strlen(s), &v, err, sizeof(err)),
	    "bad ApiVersion");
	s = "{\"ApiVersion\":\"1.99999999999999999999\"}";
	PARSE_FAILS(docker_parse_version(s, strlen(s), &v, err, sizeof(err)),
	    "bad ApiVersion");
	s = "{\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"x\"}";
	PARSE_FAILS(docker_parse_version(s, strlen(s), &v, err, sizeof(err)),
	    "bad MinAPIVersion");
	/* truncated */
	PARSE_FAILS(docker_parse_version(rec_version, strlen(rec_version) / 2, &v,
	    err, sizeof(err)), "invalid JSON");
	PARSE_FAILS(docker_parse_version("", 0, &v, err, sizeof(err)), "empty");
	/* a NUL inside, and an escaped one */
	PARSE_FAILS(docker_parse_version("{\"ApiVersion\":\"1.4\0001\"}", 22, &v,
	    err, sizeof(err)), "NUL");
	s = "{\"ApiVersion\":\"1.41\\u0000\"}";
	PARSE_FAILS(docker_parse_version(s, strlen(s), &v, err, sizeof(err)),
	    "\\u0000");
	/* an engine version with control characters is not kept */
	m = subst(rec_version, "\"Version\":\"20.10.24+dfsg1\",\"ApiVersion\"",
	    "\"Version\":\"20\\n10\",\"ApiVersion\"");
	assert_int_equal(docker_parse_version(m, strlen(m), &v, err, sizeof(err)), 0);
	assert_string_equal(v.engine, "?");
	free(m);
	/* longer than the bound, without reading it */
	PARSE_FAILS(docker_parse_version(rec_version, DOCKER_MAX_REPLY + 1, &v,
	    err, sizeof(err)), "longer than");
}

/* -------------------------------------------------------------- list -- */

static void
test_list_recorded(void **state)
{
	struct docker_container	*cs;
	size_t			 n;

	assert_int_equal(docker_parse_list(rec_list, strlen(rec_list), PROJECT,
	    &cs, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(cs[0].id, WEB_ID);
	assert_string_equal(cs[0].name, "dkxtest_web_1");
	assert_string_equal(cs[0].service, "web");
	assert_string_equal(cs[0].image, "dkxtest-web");
	assert_int_equal(cs[0].state, DS_RUNNING);
	assert_int_equal(cs[0].health, DH_HEALTHY);	/* "(healthy)" */
	assert_int_equal(cs[0].oneoff, 0);
	assert_int_equal(cs[0].number, 1);
	assert_true(cs[0].created_ms == 1795721658000LL);
	assert_int_equal(cs[0].inspected, 0);
	assert_string_equal(cs[1].id, WORKER_ID);
	assert_string_equal(cs[1].service, "worker");
	assert_int_equal(cs[1].health, DH_NONE);
	free(cs);

	/* another project's containers are skipped */
	assert_int_equal(docker_parse_list(rec_list, strlen(rec_list), "other",
	    &cs, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(cs);

	assert_int_equal(docker_parse_list("[]", 2, PROJECT, &cs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(cs);
}

static void
test_list_labels(void **state)
{
	struct docker_container	*cs;
	size_t			 n;
	char			*m;

	/* no labels at all, or no project label: not ours */
	m = subst(rec_list, "\"com.docker.compose.project\":\"dkxtest\",",
	    "");
	assert_int_equal(docker_parse_list(m, strlen(m), PROJECT, &cs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(cs[0].id, WORKER_ID);
	free(cs);
	free(m);
	m = subst(rec_list, "\"Labels\":{", "\"Labels\":null,\"X\":{");
	assert_int_equal(docker_parse_list(m, strlen(m), PROJECT, &cs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1);
	free(cs);
	free(m);
	/* a project container without a service label: kept, service "" */
	m = subst(rec_list, "\"com.docker.compose.service\":\"web\",", "");
	assert_int_equal(docker_parse_list(m, strlen(m), PROJECT, &cs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(cs[0].service, "");
	free(cs);
	free(m);
	/* "compose run" containers are flagged */
	m = subst(rec_list, "\"com.docker.compose.oneoff\":\"False\"",
	    "\"com.docker.compose.oneoff\":\"True\"");
	assert_int_equal(docker_parse_list(m, strlen(m), PROJECT, &cs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(cs[0].oneoff, 1);
	free(cs);
	free(m);
	/* labels of the wrong type */
	m = subst(rec_list, "\"com.docker.compose.service\":\"web\"",
	    "\"com.docker.compose.service\":7");
	PARSE_FAILS(docker_parse_list(m, strlen(m), PROJECT, &cs, &n, err,
	    sizeof(err)), "containers[0]: a compose label is not a string");
	assert_null(cs);
	free(m);
	m = subst(rec_list, "\"Labels\":{\"com.docker.compose.config-hash\":"
	    "\"22bd", "\"Labels\":[\"22bd");
	PARSE_FAILS(docker_parse_list(m, strlen(m), PROJECT, &cs, &n, err,
	    sizeof(err)), "invalid JSON");
	free(m);
	m = subst(rec_list, "\"Labels\":{", "\"Labels\":\"x\",\"Y\":{");
	PARSE_FAILS(docker_parse_list(m, strlen(m), PROJECT, &cs, &n, err,
	    sizeof(err)), "\"Labels\" is not an object");
	free(m);
	/* a service label with a control character */
	m = subst(rec_list, "\"com.docker.compose.service\":\"web\"",
	    "\"com.docker.compose.service\":\"w\\u0001eb\"");
	PARSE_FAILS(docker_parse_list(m, strlen(m), PROJECT, &cs, &n, err,
	    sizeof(err)), "bad service label");
	free(m);
	/* a garbage container-number is ignored */
	m = subst(rec_list, "\"com.docker.compose.container-number\":\"1\"",
	    "\"com.docker.compose.container-number\":\"99999999999999999999999\"");
	assert_int_equal(docker_parse_list(m, strlen(m), PROJECT, &cs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(cs[0].number, 0);
	free(cs);
	free(m);
}

static void
test_list_malformed(void **state)
{
	struct docker_container	*cs;
	size_t			 n;
	const char		*s;
	char			*m;
	struct {
		const char	*from, *to, *needle;
	} cases[] = {
		{ "\"Id\":\"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3eccc617f567\"",
		  "\"Id\":\"1eedb8985ce2\"", "not 64 hex digits" },
		{ "\"Id\":\"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3eccc617f567\"",
		  "\"Id\":\"1EEDB8985CE2D82408BF8EBACF4BCBFC42300BC9786DF9666D4C3ECCC617F567\"",
		  "not 64 hex digits" },
		{ "\"Id\":\"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3eccc617f567\"",
		  "\"Id\":\"../../../../etc/passwd/d82408bf8ebacf4bcbfc42300bc9786df9666d4c3\"",
		  "not 64 hex digits" },
		{ "\"Id\":\"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3eccc617f567\"",
		  "\"Id\":17", "\"Id\" is not a string" },
		{ "\"Id\":\"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3eccc617f567\",",
		  "", "no \"Id\"" },
		{ "\"State\":\"running\"", "\"State\":\"sleeping\"", "unknown state" },
		{ "\"State\":\"running\"", "\"State\":\"run\\nning\\u001b[2J\"",
		  "unknown state \"run?ning?[2J\"" },
		{ "\"State\":\"running\"", "\"State\":{\"Status\":\"running\"}",
		  "\"State\" is not a string" },
		{ "\"Names\":[\"/dkxtest_web_1\"]", "\"Names\":\"/dkxtest_web_1\"",
		  "\"Names\" is not an array" },
		{ "\"Names\":[\"/dkxtest_web_1\"]", "\"Names\":[1]",
		  "a name is not a string" },
		{ "\"Created\":1795721658", "\"Created\":1e300", "not an integer" },
		{ "\"Created\":1795721658", "\"Created\":99999999999999999999999",
		  "not an integer" },
		{ "\"Created\":1795721658", "\"Created\":-5", "out of range" },
		{ "\"Created\":1795721658", "\"Created\":\"yesterday\"",
		  "not an integer" },
		{ "\"Image\":\"dkxtest-web\"", "\"Image\":\"a\\tb\"", "bad image name" },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = subst(rec_list, cases[i].from, cases[i].to);
		cs = (void *)1;
		PARSE_FAILS(docker_parse_list(m, strlen(m), PROJECT, &cs, &n, err,
		    sizeof(err)), cases[i].needle);
		assert_null(cs);
		assert_int_equal(n, 0);
		free(m);
	}
	s = "{\"message\":\"page not found\"}";
	PARSE_FAILS(docker_parse_list(s, strlen(s), PROJECT, &cs, &n, err,
	    sizeof(err)), "not an array");
	s = "[1,2]";
	PARSE_FAILS(docker_parse_list(s, strlen(s), PROJECT, &cs, &n, err,
	    sizeof(err)), "containers[0]: not an object");
	for (i = 1; i < strlen(rec_list); i += 97)
		PARSE_FAILS(docker_parse_list(rec_list, i, PROJECT, &cs, &n, err,
		    sizeof(err)), "invalid JSON");
	/* nested beyond reason */
	m = calloc(1, 4096);
	assert_non_null(m);
	memset(m, '[', 2000);
	PARSE_FAILS(docker_parse_list(m, strlen(m), PROJECT, &cs, &n, err,
	    sizeof(err)), "nested deeper");
	free(m);
	/* a NUL byte in the middle */
	m = strdup(rec_list);
	assert_non_null(m);
	m[100] = '\0';
	PARSE_FAILS(docker_parse_list(m, strlen(rec_list), PROJECT, &cs, &n, err,
	    sizeof(err)), "NUL");
	free(m);
}

/* a list of n exited containers of the project */
static char *
many(size_t n, size_t *lenp)
{
	const char	*item = "{\"Id\":\"%064zx\",\"State\":\"exited\","
			    "\"Labels\":{\"com.docker.compose.project\":"
			    "\"dkxtest\",\"com.docker.compose.service\":\"s\"}}";
	size_t		 i, len = 0, cap = (n + 2) * 200;
	char		*buf;

	buf = malloc(cap);
	assert_non_null(buf);
	buf[len++] = '[';
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf[len++] = ',';
		len += snprintf(buf + len, cap - len, item, i + 1);
	}
	buf[len++] = ']';
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* more containers of the project than davit keeps */
static void
test_list_too_many(void **state)
{
	struct docker_container	*cs;
	size_t			 n, len;
	char			*buf;

	buf = many(DOCKER_MAX_CONTAINERS + 1, &len);
	PARSE_FAILS(docker_parse_list(buf, len, PROJECT, &cs, &n, err, sizeof(err)),
	    "more than 1024");
	assert_null(cs);
	free(buf);
	/* exactly the limit is fine */
	buf = many(DOCKER_MAX_CONTAINERS, &len);
	assert_int_equal(docker_parse_list(buf, len, PROJECT, &cs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, DOCKER_MAX_CONTAINERS);
	assert_int_equal(cs[n - 1].state, DS_EXITED);
	assert_string_equal(cs[n - 1].service, "s");
	free(cs);
	free(buf);
}

/* ----------------------------------------------------------- inspect -- */

static void
test_inspect_recorded(void **state)
{
	struct docker_container	c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(docker_parse_inspect(rec_inspect_web,
	    strlen(rec_inspect_web), &c, err, sizeof(err)), 0);
	assert_int_equal(c.inspected, 1);
	assert_string_equal(c.id, WEB_ID);
	assert_string_equal(c.name, "dkxtest_web_1");
	assert_string_equal(c.service, "web");
	assert_string_equal(c.image, "dkxtest-web");
	assert_int_equal(c.state, DS_RUNNING);
	assert_int_equal(c.health, DH_HEALTHY);
	assert_true(c.started_ms == 1795721658210LL);
	assert_true(c.finished_ms == 0);	/* Go's zero time */
	assert_true(c.restarts == 0);
	assert_true(c.exit_code == 0);
	assert_true(c.created_ms == 1795721658093LL);

	memset(&c, 0, sizeof(c));
	assert_int_equal(docker_parse_inspect(rec_inspect_worker,
	    strlen(rec_inspect_worker), &c, err, sizeof(err)), 0);
	assert_string_equal(c.id, WORKER_ID);
	assert_string_equal(c.service, "worker");
	assert_int_equal(c.health, DH_NONE);
	assert_true(c.started_ms == 1795721658359LL);
}

static void
test_inspect_exited(void **state)
{
	struct docker_container	 c;
	char			*m, *m2, *m3;

	m = subst(rec_inspect_worker, "\"Status\":\"running\",\"Running\":true",
	    "\"Status\":\"exited\",\"Running\":false");
	m2 = subst(m, "\"ExitCode\":0", "\"ExitCode\":137");
	m3 = subst(m2, "\"FinishedAt\":\"0001-01-01T00:00:00Z\"",
	    "\"FinishedAt\":\"2026-11-26T19:35:18.5+00:00\"");
	memset(&c, 0, sizeof(c));
	assert_int_equal(docker_parse_inspect(m3, strlen(m3), &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.state, DS_EXITED);
	assert_true(c.exit_code == 137);
	assert_true(c.finished_ms == 1795721718500LL);
	free(m);
	free(m2);
	free(m3);
	/* what inspect lacks is kept from the list */
	m = subst(rec_inspect_worker, "\"Image\":\"dkxtest-worker\"", "\"X\":1");
	memset(&c, 0, sizeof(c));
	strcpy(c.image, "from-the-list");
	assert_int_equal(docker_parse_inspect(m, strlen(m), &c, err,
	    sizeof(err)), 0);
	assert_string_equal(c.image, "from-the-list");
	free(m);
}

static void
test_inspect_malformed(void **state)
{
	struct docker_container	 c;
	char			*m;
	struct {
		const char	*from, *to, *needle;
	} cases[] = {
		{ "\"State\":{", "\"State\":[],\"X\":{", "\"State\" is not an object" },
		{ "\"Status\":\"running\"", "\"Status\":true", "\"Status\" is not a string" },
		{ "\"Status\":\"running\"", "\"Status\":\"zombie\"", "unknown state" },
		{ "\"ExitCode\":0", "\"ExitCode\":\"0\"", "\"ExitCode\" is not an integer" },
		{ "\"ExitCode\":0", "\"ExitCode\":99999999999999999999", "not an integer" },
		{ "\"ExitCode\":0", "\"ExitCode\":4294967296", "out of range" },
		{ "\"ExitCode\":0,", "", "no \"ExitCode\"" },
		{ "\"StartedAt\":\"2026-11-26T19:34:18.210009899Z\"",
		  "\"StartedAt\":\"yesterday\"", "bad StartedAt" },
		{ "\"StartedAt\":\"2026-11-26T19:34:18.210009899Z\"",
		  "\"StartedAt\":\"2026-13-26T19:34:18Z\"", "bad StartedAt" },
		{ "\"StartedAt\":\"2026-11-26T19:34:18.210009899Z\"",
		  "\"StartedAt\":\"2026-11-26T19:34:18.Z\"", "bad StartedAt" },
		{ "\"StartedAt\":\"2026-11-26T19:34:18.210009899Z\"",
		  "\"StartedAt\":\"2026-11-26T19:34:18Zjunk\"", "bad StartedAt" },
		{ "\"StartedAt\":\"2026-11-26T19:34:18.210009899Z\"",
		  "\"StartedAt\":null", "\"StartedAt\" is not a string" },
		{ "\"Health\":{\"Status\":\"healthy\"", "\"Health\":{\"Status\":\"great\"",
		  "bad State.Health" },
		{ "\"Health\":{\"Status\":\"healthy\"", "\"Health\":{\"Status\":1",
		  "bad State.Health" },
		{ "\"RestartCount\":0", "\"RestartCount\":-1", "out of range" },
		{ "\"RestartCount\":0", "\"RestartCount\":0.5", "not an integer" },
		{ "\"Config\":{", "\"Config\":7,\"X\":{", "\"Config\" is not an object" },
		{ "\"Id\":\"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3eccc617f567\"",
		  "\"Id\":\"1eedb8985ce2d82408bf8ebacf4bcbfc42300bc9786df9666d4c3eccc617f56\"",
		  "not 64 hex digits" },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = subst(rec_inspect_web, cases[i].from, cases[i].to);
		memset(&c, 0, sizeof(c));
		strcpy(c.name, "untouched");
		PARSE_FAILS(docker_parse_inspect(m, strlen(m), &c, err,
		    sizeof(err)), cases[i].needle);
		/* a failed parse leaves the container as it was */
		assert_string_equal(c.name, "untouched");
		assert_int_equal(c.inspected, 0);
		free(m);
	}
	PARSE_FAILS(docker_parse_inspect("null", 4, &c, err, sizeof(err)),
	    "not an object");
	PARSE_FAILS(docker_parse_inspect(rec_inspect_web, 300, &c, err,
	    sizeof(err)), "invalid JSON");
}

/* ------------------------------------------------------------ events -- */

static void
test_events_recorded(void **state)
{
	struct docker_event	ev;

	assert_int_equal(docker_parse_event(rec_event_die, strlen(rec_event_die),
	    PROJECT, &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.kind, DE_CHANGE);
	assert_string_equal(ev.action, "die");
	assert_string_equal(ev.id, WORKER_ID);
	assert_string_equal(ev.service, "worker");

	assert_int_equal(docker_parse_event(rec_event_health_status,
	    strlen(rec_event_health_status), PROJECT, &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.kind, DE_CHANGE);
	assert_string_equal(ev.action, "health_status");
	assert_string_equal(ev.service, "web");

	assert_int_equal(docker_parse_event(rec_event_exec_start,
	    strlen(rec_event_exec_start), PROJECT, &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.kind, DE_IGNORE);

	assert_int_equal(docker_parse_event(rec_event_destroy,
	    strlen(rec_event_destroy), PROJECT, &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.kind, DE_DESTROY);
	assert_string_equal(ev.id, WORKER_ID);

	assert_int_equal(docker_parse_event(rec_event_start,
	    strlen(rec_event_start), PROJECT, &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.kind, DE_CHANGE);

	/* another project's event */
	assert_int_equal(docker_parse_event(rec_event_start,
	    strlen(rec_event_start), "other", &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.kind, DE_IGNORE);
}

static void
test_events_malformed(void **state)
{
	struct docker_event	 ev;
	char			*m, *line;
	const char		*s;
	struct {
		const char	*from, *to, *needle;
	} cases[] = {
		{ "\"Action\":\"start\"", "\"Action\":1", "\"Action\" is not a string" },
		{ "\"Action\":\"start\"", "\"Action\":\"\"", "bad Action" },
		{ "\"Action\":\"start\"", "\"Action\":\":x\"", "bad Action" },
		{ "\"Action\":\"start\"", "\"Action\":\"st\\nart\"", "bad Action" },
		{ "\"Action\":\"start\"", "\"Action\":\"st art\"", "bad Action" },
		{ "\"Action\":\"start\"",
		  "\"Action\":\"startstartstartstartstartstartstart\"", "bad Action" },
		{ "\"Actor\":{", "\"Actor\":[],\"X\":{", "\"Actor\" is not an object" },
		{ "\"Actor\":{\"ID\":\"" WORKER_ID "\"",
		  "\"Actor\":{\"ID\":\"xyz\"", "Actor.ID is not 64 hex digits" },
		{ "\"Attributes\":{", "\"Attributes\":3,\"X\":{",
		  "Actor.Attributes is not an object" },
		{ "\"com.docker.compose.project\":\"dkxtest\"",
		  "\"com.docker.compose.project\":false", "a compose label is not a string" },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = subst(rec_event_start, cases[i].from, cases[i].to);
		PARSE_FAILS(docker_parse_event(m, strlen(m), PROJECT, &ev, err,
		    sizeof(err)), cases[i].needle);
		free(m);
	}
	/* an image event is not a container's */
	m = subst(rec_event_start, "\"Type\":\"container\"", "\"Type\":\"image\"");
	assert_int_equal(docker_parse_event(m, strlen(m), PROJECT, &ev, err,
	    sizeof(err)), 0);
	assert_int_equal(ev.kind, DE_IGNORE);
	free(m);
	/* without labels: not the project's */
	m = subst(rec_event_start, "\"com.docker.compose.project\":\"dkxtest\",", "");
	assert_int_equal(docker_parse_event(m, strlen(m), PROJECT, &ev, err,
	    sizeof(err)), 0);
	assert_int_equal(ev.kind, DE_IGNORE);
	free(m);
	/* unknown actions change nothing */
	m = subst(rec_event_start, "\"Action\":\"start\"", "\"Action\":\"attach\"");
	assert_int_equal(docker_parse_event(m, strlen(m), PROJECT, &ev, err,
	    sizeof(err)), 0);
	assert_int_equal(ev.kind, DE_IGNORE);
	free(m);
	s = "{\"status\":\"start\"";
	PARSE_FAILS(docker_parse_event(s, strlen(s), PROJECT, &ev, err, sizeof(err)),
	    "invalid JSON");
	s = "\"start\"";
	PARSE_FAILS(docker_parse_event(s, strlen(s), PROJECT, &ev, err, sizeof(err)),
	    "not an object");
	/* an overlong line is refused before parsing */
	line = malloc(DOCKER_MAX_EVENT_LINE + 2);
	assert_non_null(line);
	memset(line, ' ', DOCKER_MAX_EVENT_LINE + 1);
	line[0] = '{';
	line[DOCKER_MAX_EVENT_LINE] = '}';
	line[DOCKER_MAX_EVENT_LINE + 1] = '\0';
	PARSE_FAILS(docker_parse_event(line, DOCKER_MAX_EVENT_LINE + 1, PROJECT,
	    &ev, err, sizeof(err)), "longer than");
	free(line);
}

/* -------------------------------------------------- errors and times -- */

static void
test_error_body(void **state)
{
	char		 msg[64];
	const char	*s;

	s = "{\"message\":\"No such container: nonexist\"}\n";
	assert_int_equal(docker_parse_error(s, strlen(s), msg, sizeof(msg)), 0);
	assert_string_equal(msg, "No such container: nonexist");
	s = "{\"message\":\"client version 1.99 is too new. Maximum supported API "
	    "version is 1.41\"}";
	assert_int_equal(docker_parse_error(s, strlen(s), msg, sizeof(msg)), 0);
	assert_int_equal(strlen(msg), sizeof(msg) - 1);	/* cut, terminated */
	s = "{\"message\":\"line\\none\\u001b[31m\"}";
	assert_int_equal(docker_parse_error(s, strlen(s), msg, sizeof(msg)), 0);
	assert_string_equal(msg, "line one [31m");
	s = "{\"message\":5}";
	assert_int_equal(docker_parse_error(s, strlen(s), msg, sizeof(msg)), -1);
	s = "<html>502 Bad Gateway</html>";
	assert_int_equal(docker_parse_error(s, strlen(s), msg, sizeof(msg)), -1);
	assert_int_equal(docker_parse_error("", 0, msg, sizeof(msg)), -1);
}

static void
test_time(void **state)
{
	long long	ms;

	assert_int_equal(docker_parse_time("2026-11-26T19:34:18.210009899Z", &ms), 0);
	assert_true(ms == 1795721658210LL);
	assert_int_equal(docker_parse_time("2026-11-26T19:34:18Z", &ms), 0);
	assert_true(ms == 1795721658000LL);
	assert_int_equal(docker_parse_time("2026-11-26T20:34:18.2+01:00", &ms), 0);
	assert_true(ms == 1795721658200LL);
	assert_int_equal(docker_parse_time("2026-11-26T18:34:18-01:00", &ms), 0);
	assert_true(ms == 1795721658000LL);
	assert_int_equal(docker_parse_time("0001-01-01T00:00:00Z", &ms), 0);
	assert_true(ms == 0);
	assert_int_equal(docker_parse_time("", &ms), -1);
	assert_int_equal(docker_parse_time("2026-11-26", &ms), -1);
	assert_int_equal(docker_parse_time("2026-11-26T25:00:00Z", &ms), -1);
	assert_int_equal(docker_parse_time("2026-11-26T19:34:18", &ms), -1);
	assert_int_equal(docker_parse_time("2026-11-26T19:34:18+0100", &ms), -1);
	assert_int_equal(docker_parse_time("2026-11-26 19:34:18Z", &ms), -1);
	assert_int_equal(docker_parse_time("+026-11-26T19:34:18Z", &ms), -1);
}

static void
test_names(void **state)
{
	enum docker_state	st;

	assert_int_equal(docker_state_parse("restarting", &st), 0);
	assert_int_equal(st, DS_RESTARTING);
	assert_string_equal(docker_state_name(st), "restarting");
	assert_int_equal(docker_state_parse("removing", &st), 0);
	assert_string_equal(docker_state_name(st), "exited");
	assert_int_equal(docker_state_parse("missing", &st), -1);
	assert_int_equal(docker_state_parse("", &st), -1);
	assert_string_equal(docker_state_name(DS_MISSING), "missing");
	assert_null(docker_health_name(DH_NONE));
	assert_string_equal(docker_health_name(DH_UNHEALTHY), "unhealthy");
	assert_true(docker_id_valid(WEB_ID));
	assert_false(docker_id_valid(WEB_ID "0"));
	assert_false(docker_id_valid("1eed"));
}

/* the text Docker's list shows, from the inspected state */
static void
test_status_text(void **state)
{
	struct docker_container	c;
	char			buf[DOCKER_STATUS_LEN], d[32];
	long long		t0 = 1795721658210LL;

	memset(&c, 0, sizeof(c));
	c.state = DS_RUNNING;
	c.started_ms = t0;
	docker_status_text(&c, t0 + 500, buf, sizeof(buf));
	assert_string_equal(buf, "Up Less than a second");
	c.health = DH_STARTING;
	docker_status_text(&c, t0 + 5000, buf, sizeof(buf));
	assert_string_equal(buf, "Up 5 seconds (health: starting)");
	c.health = DH_HEALTHY;
	docker_status_text(&c, t0 + 5000, buf, sizeof(buf));
	assert_string_equal(buf, "Up 5 seconds (healthy)");	/* as recorded */
	c.state = DS_PAUSED;
	docker_status_text(&c, t0 + 61000, buf, sizeof(buf));
	assert_string_equal(buf, "Up About a minute (Paused)");
	c.state = DS_EXITED;
	c.exit_code = 137;
	c.finished_ms = t0 + 1000;
	docker_status_text(&c, t0 + 1000 + 3 * 60000, buf, sizeof(buf));
	assert_string_equal(buf, "Exited (137) 3 minutes ago");
	c.state = DS_CREATED;
	docker_status_text(&c, t0, buf, sizeof(buf));
	assert_string_equal(buf, "Created");
	c.state = DS_DEAD;
	docker_status_text(&c, t0, buf, sizeof(buf));
	assert_string_equal(buf, "Dead");
	c.state = DS_RESTARTING;
	c.exit_code = 1;
	docker_status_text(&c, t0 + 1000 + 2000, buf, sizeof(buf));
	assert_string_equal(buf, "Restarting (1) 2 seconds ago");

	docker_human_duration(1000, d, sizeof(d));
	assert_string_equal(d, "1 second");
	docker_human_duration(59 * 60000, d, sizeof(d));
	assert_string_equal(d, "59 minutes");
	docker_human_duration(89 * 60000, d, sizeof(d));
	assert_string_equal(d, "About an hour");
	docker_human_duration(91 * 60000, d, sizeof(d));
	assert_string_equal(d, "2 hours");
	docker_human_duration(3LL * 24 * 3600000, d, sizeof(d));
	assert_string_equal(d, "3 days");
	docker_human_duration(20LL * 24 * 3600000, d, sizeof(d));
	assert_string_equal(d, "2 weeks");
	docker_human_duration(100LL * 24 * 3600000, d, sizeof(d));
	assert_string_equal(d, "3 months");
	docker_human_duration(800LL * 24 * 3600000, d, sizeof(d));
	assert_string_equal(d, "2 years");
	docker_human_duration(-5000, d, sizeof(d));	/* a clock step back */
	assert_string_equal(d, "Less than a second");
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_version_recorded),
		cmocka_unit_test(test_version_malformed),
		cmocka_unit_test(test_list_recorded),
		cmocka_unit_test(test_list_labels),
		cmocka_unit_test(test_list_malformed),
		cmocka_unit_test(test_list_too_many),
		cmocka_unit_test(test_inspect_recorded),
		cmocka_unit_test(test_inspect_exited),
		cmocka_unit_test(test_inspect_malformed),
		cmocka_unit_test(test_events_recorded),
		cmocka_unit_test(test_events_malformed),
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_status_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
