/* Messages, time, names and the child processes ingot runs (ip, bridge). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

bool cli_json;

void cli_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ingot: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int cli_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ingot %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(ingot %s --help shows how to use it)\n", cmd);
	va_end(ap);
	return 2;
}

bool cli_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(text, stdout);
			return true;
		}
	}
	return false;
}

uint64_t cli_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t cli_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

uint32_t cli_random32(void)
{
	uint32_t v;
	if (getrandom(&v, sizeof v, 0) != sizeof v)
		v = (uint32_t)(cli_now_ns() ^ (uint64_t)getpid() << 16);
	return v;
}

int cli_seconds(const char *s, unsigned min, unsigned *ms)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || end == s || *s == '-' || v < min || v > 3600)
		return -1;
	*ms = (unsigned)v * 1000;
	return 0;
}

bool cli_valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CLI_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || !strchr("_.-", c)))
			return false;
	}
	return true;
}

int cli_exec(int mode, char *const argv[])
{
	char errfile[] = "/tmp/ingot-err-XXXXXX";
	int errfd = mode != CLI_LOUD ? mkostemp(errfile, O_CLOEXEC) : -1;
	if (errfd >= 0)
		unlink(errfile);
	pid_t pid = fork();
	if (pid < 0) {
		cli_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (errfd >= 0) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			dup2(errfd, 2);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "ingot: cannot run %s: %s (is it installed?)\n",
			argv[0], strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	if (errfd >= 0) {
		if (rc != 0 && mode == CLI_QUIET) {
			char buf[4096];
			ssize_t n = pread(errfd, buf, sizeof buf, 0);
			if (n > 0)
				fwrite(buf, 1, (size_t)n, stderr);
		}
		close(errfd);
	}
	return rc;
}

/* tool [-n ns] args...: the list ends with NULL. */
static int run_tool(const char *tool, const char *ns, int mode, va_list ap)
{
	char *argv[CLI_ARGS_MAX];
	int n = 0;
	argv[n++] = (char *)tool;
	if (ns && *ns) {
		argv[n++] = "-n";
		argv[n++] = (char *)ns;
	}
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < CLI_ARGS_MAX - 1)
		argv[n++] = (char *)a;
	argv[n] = NULL;
	return cli_exec(mode, argv);
}

int cli_ip(const char *ns, int mode, ...)
{
	va_list ap;
	va_start(ap, mode);
	int rc = run_tool("ip", ns, mode, ap);
	va_end(ap);
	return rc;
}

int cli_bridge(const char *ns, int mode, ...)
{
	va_list ap;
	va_start(ap, mode);
	int rc = run_tool("bridge", ns, mode, ap);
	va_end(ap);
	return rc;
}

bool cli_netns_exists(const char *ns)
{
	char path[CLI_PATH_MAX];
	snprintf(path, sizeof path, "/run/netns/%s", ns);
	return access(path, F_OK) == 0;
}

bool cli_link_exists(const char *ns, const char *dev)
{
	return cli_ip(ns, CLI_SILENT, "link", "show", "dev", dev, NULL) == 0;
}

int cli_enter_netns(const char *ns)
{
	char path[CLI_PATH_MAX];
	snprintf(path, sizeof path, "/run/netns/%s", ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

void cli_json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

int cli_mkdir_p(const char *path)
{
	char buf[CLI_PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -errno : 0;
}
