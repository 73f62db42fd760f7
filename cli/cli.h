/*
 * ingot: the command-line tool that builds, runs and supervises guests.
 *
 * State lives under a run directory (--run-dir, $INGOT_RUN_DIR, else
 * /run/ingot for root and $XDG_RUNTIME_DIR/ingot otherwise):
 *   lock                 flock'd by every command that adds or removes
 *   guests/NAME/config   what the guest was started with (key=value)
 *   guests/NAME/state    what it is doing now, written by its supervisor
 *   guests/NAME/lock     flock'd by the supervisor for its whole life
 *   guests/NAME/console.log
 *   nets/NAME            an ingot network: its bridge and namespace
 * Files are replaced by rename, so a reader sees the old or the new text,
 * never a mix; a record appears and disappears by renaming its directory.
 */
#ifndef CLI_H
#define CLI_H

#include <ingot/abi.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CLI_NAME_MAX 32
#define CLI_PATH_MAX 512
#define CLI_ARGS_MAX 64

/* A command: its name, one-line summary and handler (argv[0] is its name). */
struct cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* --- util.c ------------------------------------------------------------ */
extern bool cli_json;
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the message, then how to get help; returns 2. */
int cli_usage_err(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints help text when argv holds --help; true if it did. */
bool cli_help(int argc, char **argv, const char *text);
uint64_t cli_now_ns(void);  /* CLOCK_REALTIME */
uint64_t cli_mono_ms(void); /* CLOCK_MONOTONIC */
void cli_sleep_ms(unsigned ms);
uint32_t cli_random32(void);
/* A whole number of seconds, min to 3600, as milliseconds; 0 or -1. */
int cli_seconds(const char *s, unsigned min, unsigned *ms);
bool cli_valid_name(const char *s); /* [A-Za-z0-9][A-Za-z0-9_.-]* */
void cli_json_str(const char *s);   /* s as a JSON string, on stdout */
/* Runs argv (execvp, no shell) and waits; returns its exit status.
 * CLI_QUIET hides its output unless it fails (then its stderr is passed
 * on), CLI_SILENT always. */
enum { CLI_LOUD, CLI_QUIET, CLI_SILENT };
int cli_exec(int mode, char *const argv[]);
/* ip(8) and bridge(8) in namespace ns (NULL or "": the host's); the
 * arguments end with NULL. */
int cli_ip(const char *ns, int mode, ...);
int cli_bridge(const char *ns, int mode, ...);
bool cli_netns_exists(const char *ns);
bool cli_link_exists(const char *ns, const char *dev);
/* mkdir -p, the last part 0700; 0 or -errno. */
int cli_mkdir_p(const char *path);
/* Moves the calling process into namespace ns; 0 or -errno. */
int cli_enter_netns(const char *ns);

/* --- kv.c: key=value files ---------------------------------------------- */
#define KV_MAX 96
struct kv {
	int n;
	char *key[KV_MAX];
	char *val[KV_MAX];
};
int kv_read(struct kv *kv, const char *path); /* 0 or -errno */
const char *kv_get(const struct kv *kv, const char *key);
long long kv_num(const struct kv *kv, const char *key, long long def);
void kv_set(struct kv *kv, const char *key, const char *val);
void kv_setf(struct kv *kv, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void kv_add(struct kv *kv, const char *key, const char *val); /* repeats */
void kv_free(struct kv *kv);
/* Writes path atomically (a temporary file, fsync'd, renamed over it). */
int kv_write(const struct kv *kv, const char *path);

/* --- state.c: the run directory ------------------------------------------ */
const char *st_dir(void);
void st_set_dir(const char *dir);
/* Creates the run directory; 0, or prints why not and returns -1. */
int st_init(void);
/* Takes the run directory's lock (blocking); returns the fd to close. */
int st_lock(void);
void st_path(char *buf, const char *name, const char *file);
bool st_exists(const char *name);
/* The supervisor of name holds its lock: true while it lives. */
bool st_alive(const char *name);
/* Makes guests/NAME from a filled temporary directory atomically; -EEXIST
 * when the name is taken. */
int st_create(const char *name, const struct kv *config);
/* Removes guests/NAME (renamed away first). */
int st_remove(const char *name);
/* The names in the run directory's sub ("guests", "nets"), sorted;
 * returns the count (free with st_names_free). */
int st_list(const char *sub, char ***names);
void st_names_free(char **names, int n);
/* A guest's state as readers should see it: a dead supervisor's "running"
 * becomes "exited". */
int st_read(const char *name, struct kv *config, struct kv *state);
/* Whether a guest's console log (at path) shows text from *from on; *from
 * moves on past what was searched but len(text) - 1 bytes, so a text
 * written in two pieces is found when the second comes. */
bool st_log_shows(const char *path, const char *text, off_t *from);

/* --- image.c ------------------------------------------------------------- */
/* Resolves IMAGE (a path, or an app name under the build) to a path and its
 * target ("kvm" or "hosted"); prints what is wrong and returns -1. */
int img_resolve(const char *image, char *path, size_t size,
		const char **target);
/* The monitor, beside this binary (or $INGOT_MONITOR). */
const char *img_monitor(void);
/* The source tree, for `ingot build` (or $INGOT_ROOT). */
const char *img_root(void);

/* --- net.c: ingot networks --------------------------------------------- */
struct cli_net {
	char name[CLI_NAME_MAX];
	char netns[CLI_NAME_MAX];
	char bridge[16];
};
int net_lookup(const char *name, struct cli_net *net); /* 0 or -ENOENT */
/* Makes tap dev in ns, up; attached to bridge unless bridge is NULL. */
int net_tap_create(const char *ns, const char *dev, const char *bridge);
void net_tap_delete(const char *ns, const char *dev);

/* --- supervise.c ---------------------------------------------------------- */
/* Supervises guest name until it stops for good; returns the last exit
 * status.  foreground: its console is copied to stdout too.  ready_fd, if
 * not -1, gets one byte once the first monitor runs, then is closed. */
int sup_main(const char *name, bool foreground, int ready_fd);
/* A status as text: "0", "killed by SIGKILL", ... */
void sup_describe(const struct kv *state, char *buf, size_t size);

/* --- commands ---------------------------------------------------------- */
int cmd_build(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_replace(int argc, char **argv);
int cmd_net(int argc, char **argv);
int cmd_summon(int argc, char **argv);

#endif
