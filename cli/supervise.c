/*
 * The supervisor: one process per guest, for the guest's whole life.  It
 * holds guests/NAME/lock (so a killed supervisor is seen as such), starts
 * the monitor with its console on console.log, records every start and
 * exit in guests/NAME/state, restarts by the policy with backoff, turns
 * SIGTERM into the guest's clean stop (SIGKILL after the grace period)
 * and carries out `ingot replace` (replace.c).  The monitor dies with it
 * (PR_SET_PDEATHSIG), so no guest outlives its record.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervise.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
/* A run this long resets the backoff (Docker's rule). */
#define HEALTHY_MS 10000

static sigset_t handled, saved_mask;

void sup_log(struct sup *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(buf, sizeof buf, "ingot: ");
	n += vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	int fd = open(s->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		ssize_t w = write(fd, buf, n);
		(void)w;
		close(fd);
	}
}

void sup_save(struct sup *s)
{
	char path[CLI_PATH_MAX];
	st_path(path, s->name, "state");
	kv_write(&s->state, path);
}

off_t sup_log_size(const struct sup *s)
{
	struct stat st;
	return stat(s->log, &st) == 0 ? st.st_size : 0;
}

unsigned sup_grace_ms(const struct sup *s)
{
	return s->grace_ms;
}

void sup_describe(const struct kv *state, char *buf, size_t size)
{
	long long sig = kv_num(state, "signal", 0);
	long long code = kv_num(state, "exit", -1);
	if (kv_num(state, "lost", 0))
		snprintf(buf, size, "supervisor lost");
	else if (sig)
		snprintf(buf, size, "killed by SIG%s",
			 sigabbrev_np((int)sig) ? sigabbrev_np((int)sig) : "?");
	else if (code >= 0)
		snprintf(buf, size, "%lld", code);
	else
		snprintf(buf, size, "-");
}

/* The monitor's command line: the image's own options, then its args. */
static int build_argv(struct sup *s, const char *image, const char *target,
		      const char *tap, char **argv, char *bufs, size_t bsize)
{
	int n = 0;
	bool kvm = strcmp(target, "kvm") == 0;
	argv[n++] = (char *)(kvm ? img_monitor() : image);
	const char *mem = kv_get(&s->config, "mem");
	if (mem && *mem) {
		argv[n++] = "--mem";
		argv[n++] = (char *)mem;
	}
	if (*tap) {
		snprintf(bufs, bsize, "service=%s,mac=%s", tap,
			 kv_get(&s->config, "mac"));
		argv[n++] = "--net";
		argv[n++] = bufs;
	}
	for (int i = 0; i < s->config.n && n < CLI_ARGS_MAX - 4; i++)
		if (strcmp(s->config.key[i], "netarg") == 0) {
			argv[n++] = "--net";
			argv[n++] = s->config.val[i];
		}
	argv[n++] = kvm ? (char *)image : "--";
	for (int i = 0; i < s->config.n && n < CLI_ARGS_MAX - 1; i++)
		if (strcmp(s->config.key[i], "arg") == 0)
			argv[n++] = s->config.val[i];
	argv[n] = NULL;
	return n;
}

int sup_start(struct sup *s, struct mon *m, const char *image,
	      const char *target, const char *tap)
{
	char *argv[CLI_ARGS_MAX], netbuf[64];
	build_argv(s, image, target, tap, argv, netbuf, sizeof netbuf);
	int log = open(s->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (log < 0) {
		sup_log(s, "cannot open %s: %s", s->log, strerror(errno));
		return -1;
	}
	off_t log_from = sup_log_size(s);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		/* Its own process group: a terminal's ^C reaches only the
		 * supervisor, which asks the guest once. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		sigprocmask(SIG_SETMASK, &saved_mask, NULL);
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(log, 1);
		dup2(log, 2);
		if (*s->netns) {
			int err = cli_enter_netns(s->netns);
			if (err) {
				dprintf(2, "ingot: namespace %s: %s\n",
					s->netns, strerror(-err));
				_exit(INGOT_EXIT_SETUP);
			}
		}
		execv(argv[0], argv);
		dprintf(2, "ingot: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(INGOT_EXIT_SETUP);
	}
	close(log);
	if (pid < 0) {
		sup_log(s, "fork: %s", strerror(errno));
		return -1;
	}
	/* A restart passes m's own strings. */
	struct mon next = {
	    .pid = pid, .started_ms = cli_mono_ms(), .log_from = log_from};
	snprintf(next.tap, sizeof next.tap, "%s", tap);
	snprintf(next.image, sizeof next.image, "%s", image);
	snprintf(next.target, sizeof next.target, "%s", target);
	*m = next;
	return 0;
}

/* The guest is running (again): what ps shows. */
static void saved_running(struct sup *s)
{
	kv_set(&s->state, "status", s->stopping ? "stopping" : "running");
	kv_setf(&s->state, "pid", "%d", (int)s->cur.pid);
	kv_setf(&s->state, "started", "%llu", (unsigned long long)cli_now_ns());
	kv_set(&s->state, "image", s->cur.image);
	kv_set(&s->state, "tap", s->cur.tap);
	kv_setf(&s->state, "log_from", "%lld", (long long)s->cur.log_from);
	kv_set(&s->state, "exit", "");
	kv_set(&s->state, "signal", "");
	sup_save(s);
}

static bool restart_wanted(struct sup *s, int code)
{
	const char *policy = kv_get(&s->config, "restart");
	if (s->stopping || !policy)
		return false;
	/* Bad arguments or a guest that cannot be set up fail the same way
	 * every time. */
	if (code == 2 || code == INGOT_EXIT_SETUP)
		return false;
	if (strcmp(policy, "always") == 0)
		return true;
	return strcmp(policy, "on-failure") == 0 && code != 0;
}

/* The guest's monitor ended with wait status ws. */
static void cur_exited(struct sup *s, int ws)
{
	int sig = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
	int code = sig ? 128 + sig : WEXITSTATUS(ws);
	uint64_t now = cli_mono_ms();
	bool healthy = now - s->cur.started_ms >= HEALTHY_MS;
	s->cur.pid = 0;
	kv_setf(&s->state, "exit", "%d", code);
	kv_setf(&s->state, "signal", "%d", sig);
	kv_setf(&s->state, "finished", "%llu",
		(unsigned long long)cli_now_ns());
	kv_set(&s->state, "pid", "");
	if (sig)
		sup_log(s, "the guest's monitor was killed by SIG%s",
			sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	if (!restart_wanted(s, code)) {
		/* Its tap goes first: "exited" means nothing of it is left. */
		if (*s->cur.tap)
			net_tap_delete(s->netns, s->cur.tap);
		s->cur.tap[0] = 0;
		kv_set(&s->state, "status", "exited");
		sup_save(s);
		return;
	}
	/* 0.1 s after a healthy run, doubling for each quick failure. */
	if (healthy)
		s->fails = 0;
	unsigned delay = BACKOFF_MIN_MS;
	for (unsigned i = 0; i < s->fails && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	s->fails++;
	s->restart_at = now + delay;
	kv_set(&s->state, "status", "restarting");
	kv_setf(&s->state, "restarts", "%lld",
		kv_num(&s->state, "restarts", 0) + 1);
	sup_save(s);
	sup_log(s, "exit %d: restarting in %u ms (--restart %s)", code, delay,
		kv_get(&s->config, "restart"));
}

static void begin_stop(struct sup *s)
{
	if (s->stopping) {
		/* A second request: at once, as the monitor's own rule. */
		if (s->cur.pid)
			kill(s->cur.pid, SIGKILL);
		return;
	}
	s->stopping = true;
	rep_abort(s);
	s->restart_at = 0;
	if (s->cur.pid) {
		kill(s->cur.pid, SIGTERM);
		s->kill_at = cli_mono_ms() + s->grace_ms;
		kv_set(&s->state, "status", "stopping");
		sup_save(s);
	}
}

static void reap(struct sup *s)
{
	int ws;
	pid_t pid;
	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		if (rep_reaped(s, pid, ws))
			continue;
		if (pid == s->cur.pid)
			cur_exited(s, ws);
	}
}

static void copy_console(struct sup *s, off_t *done)
{
	int fd = open(s->log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[8192];
	ssize_t n;
	while ((n = pread(fd, buf, sizeof buf, *done)) > 0) {
		ssize_t w = write(1, buf, n);
		(void)w;
		*done += n;
	}
	close(fd);
}

static uint64_t next_wakeup(struct sup *s, uint64_t now, bool foreground)
{
	uint64_t at = UINT64_MAX;
	if (s->kill_at && s->cur.pid)
		at = s->kill_at;
	if (s->restart_at && s->restart_at < at)
		at = s->restart_at;
	uint64_t r = rep_next_ms(s, now);
	if (r != UINT64_MAX && now + r < at)
		at = now + r;
	if (foreground && now + 50 < at)
		at = now + 50;
	return at == UINT64_MAX ? 1000 : (at > now ? at - now : 0);
}

static int load(struct sup *s, const char *name)
{
	char path[CLI_PATH_MAX];
	s->name = name;
	st_path(path, name, "config");
	if (kv_read(&s->config, path) < 0)
		return -1;
	st_path(s->log, name, "console.log");
	snprintf(s->netns, sizeof s->netns, "%s",
		 kv_get(&s->config, "netns") ? kv_get(&s->config, "netns")
					     : "");
	snprintf(s->bridge, sizeof s->bridge, "%s",
		 kv_get(&s->config, "bridge") ? kv_get(&s->config, "bridge")
					      : "");
	s->grace_ms = (unsigned)kv_num(&s->config, "grace_ms", 10000);
	kv_setf(&s->state, "sup_pid", "%d", (int)getpid());
	kv_set(&s->state, "restarts", "0");
	return 0;
}

int sup_main(const char *name, bool foreground, int ready_fd)
{
	static struct sup s;
	if (load(&s, name) < 0)
		return INGOT_EXIT_SETUP;
	char lockpath[CLI_PATH_MAX];
	st_path(lockpath, name, "lock");
	int lock = open(lockpath, O_RDWR | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
		return INGOT_EXIT_SETUP;
	sigemptyset(&handled);
	int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaddset(&handled, sigs[i]);
	sigprocmask(SIG_BLOCK, &handled, &saved_mask);

	struct stat st;
	off_t copied = stat(s.log, &st) == 0 ? st.st_size : 0;
	const char *tap = kv_get(&s.config, "tap");
	if (sup_start(&s, &s.cur, kv_get(&s.config, "image"),
		      kv_get(&s.config, "target"), tap ? tap : "") < 0) {
		kv_set(&s.state, "status", "exited");
		kv_setf(&s.state, "exit", "%d", INGOT_EXIT_SETUP);
		sup_save(&s);
	} else {
		saved_running(&s);
	}
	if (ready_fd >= 0) {
		ssize_t w = write(ready_fd, "r", 1);
		(void)w;
		close(ready_fd);
	}
	while (s.cur.pid || s.restart_at || s.old.pid || s.next.pid) {
		uint64_t now = cli_mono_ms();
		uint64_t wait = next_wakeup(&s, now, foreground);
		struct timespec ts = {wait / 1000,
				      (long)(wait % 1000) * 1000000};
		int sig = sigtimedwait(&handled, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			begin_stop(&s);
		else if (sig == SIGHUP)
			rep_request(&s);
		else if (sig == SIGUSR1 && s.cur.pid)
			kill(s.cur.pid, SIGUSR1);
		else if (sig == SIGCHLD)
			reap(&s);
		now = cli_mono_ms();
		if (s.kill_at && s.cur.pid && now >= s.kill_at) {
			sup_log(&s, "no clean stop in %u ms: SIGKILL",
				s.grace_ms);
			kill(s.cur.pid, SIGKILL);
			s.kill_at = 0;
		}
		if (s.restart_at && now >= s.restart_at) {
			s.restart_at = 0;
			if (sup_start(&s, &s.cur, s.cur.image, s.cur.target,
				      s.cur.tap) == 0)
				saved_running(&s);
		}
		rep_tick(&s, now);
		if (foreground)
			copy_console(&s, &copied);
	}
	if (foreground)
		copy_console(&s, &copied);
	if (*s.cur.tap)
		net_tap_delete(s.netns, s.cur.tap);
	kv_set(&s.state, "status", "exited");
	sup_save(&s);
	return (int)kv_num(&s.state, "exit", INGOT_EXIT_SETUP);
}
