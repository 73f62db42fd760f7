/*
 * Signal handlers installed with the raw system call, the same way in
 * ingot-kvm and in a hosted image (which has no C library to do it).
 */
#ifndef HOST_SIGNAL_H
#define HOST_SIGNAL_H

/* A handler for sig, run with every signal blocked, on the alternate stack
 * if the thread has one, restarting interrupted system calls. */
void host_signal(int sig, void (*fn)(int sig, void *info, void *context));

/* Ignores sig. */
void host_signal_ignore(int sig);

#endif
