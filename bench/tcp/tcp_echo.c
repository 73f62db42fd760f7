/*
 * bench/tcp's Linux peer for the connection rate: a TCP echo server on one
 * epoll loop (every byte back until the peer closes), the usual shape of
 * a fast Linux server, so the guest is compared with the best a process
 * does rather than with a fork or a thread per connection.
 *
 *   tcp_echo PORT     (prints "serving" once listening)
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define EVENTS 64

int main(int argc, char **argv)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	char *end;
	int one = 1;

	if (argc != 2 || !(addr.sin_port = htons(strtoul(argv[1], &end, 10))) ||
	    *end) {
		fprintf(stderr, "usage: tcp_echo PORT\n");
		return 2;
	}
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
	if (l < 0 || ep < 0 ||
	    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(l, (struct sockaddr *)&addr, sizeof addr) < 0 ||
	    listen(l, 4096) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) < 0) {
		perror("tcp_echo");
		return 1;
	}
	printf("serving\n");
	fflush(stdout);
	for (;;) {
		struct epoll_event evs[EVENTS];
		int n = epoll_wait(ep, evs, EVENTS, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == l) {
				int c;
				while ((c = accept4(l, NULL, NULL,
						    SOCK_NONBLOCK)) >= 0) {
					ev = (struct epoll_event){
					    .events = EPOLLIN, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			char buf[16384];
			ssize_t r = read(fd, buf, sizeof buf);
			if (r > 0 && write(fd, buf, r) == r)
				continue;
			if (r < 0 && errno == EAGAIN)
				continue;
			close(
			    fd); /* end of stream, an error, or a short write */
		}
	}
}
