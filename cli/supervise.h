/* The supervisor's state, shared by supervise.c and replace.c. */
#ifndef CLI_SUPERVISE_H
#define CLI_SUPERVISE_H

#include "cli.h"

/* One monitor process (ingot-kvm or a hosted image) and its tap. */
struct mon {
	pid_t pid;    /* 0: none */
	char tap[16]; /* "" without an ingot network */
	char image[CLI_PATH_MAX];
	char target[8];
	uint64_t started_ms; /* monotonic */
	off_t log_from;      /* its console starts here in console.log */
};

struct sup {
	const char *name;
	struct kv config, state;
	char log[CLI_PATH_MAX];
	char netns[CLI_NAME_MAX];
	char bridge[16];
	struct mon cur;  /* the guest */
	struct mon old;  /* the guest it replaced, draining */
	struct mon next; /* the guest replacing it, until it is ready */
	bool stopping;
	uint64_t kill_at, old_term_at, old_kill_at, restart_at, ready_by;
	unsigned grace_ms, fails;
	off_t ready_from;
	char replace_id[40];
	char ready[128];
	unsigned drain_ms;
};

/* Starts m running image (of target) on tap; 0, or -1 after logging why. */
int sup_start(struct sup *s, struct mon *m, const char *image,
	      const char *target, const char *tap);
void sup_log(struct sup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sup_save(struct sup *s);
/* console.log's length now. */
off_t sup_log_size(const struct sup *s);
unsigned sup_grace_ms(const struct sup *s);

/* replace.c: a request (SIGHUP), then its steps at each tick. */
void rep_request(struct sup *s);
void rep_tick(struct sup *s, uint64_t now);
/* A child ended: true if it was one of replace's. */
bool rep_reaped(struct sup *s, pid_t pid, int status);
/* Stops whatever replace has under way (the guest is stopping). */
void rep_abort(struct sup *s);
/* Milliseconds until replace next needs a tick (UINT64_MAX: none). */
uint64_t rep_next_ms(const struct sup *s, uint64_t now);

#endif
