/*
 * latency_load: measures what latency_proxy sustains: open-loop UDP datagrams or TCP
 * connections at a set rate through the proxy, to an echo server this program runs itself
 * in the upstream namespace (docs/BENCHMARKS.md, "The emulator's capacity").
 *
 *   latency_load [--upstream-netns NS] udp|tcp TARGET_IP:PORT RATE SECONDS [BYTES]
 *
 * Run it in the client namespace, where latency_proxy holds TARGET and forwards it to
 * TARGET in NS; the echo sockets are bound to TARGET in NS. udp: RATE datagrams a second
 * of BYTES (default 100) over 8 client sockets, each echoed back. tcp: RATE connections a
 * second, each connect, send BYTES (default 100), read them back, close. After SECONDS
 * it waits 2 s more for what is still under way, then prints one JSON line: what was
 * started and completed, the achieved rate, the round-trip times (p50, p99, max, in ms)
 * and its own CPU seconds. One thread, epoll; Linux only; NS needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000ull
#define HIST_US 100			/* round-trip histogram: 100 us buckets */
#define HIST_N 100000			/* up to 10 s */
#define UDP_SOCKS 8
#define TICK_NS (NS / 1000)		/* pacing: every millisecond */
#define TCP_MAX 60000			/* connections under way at once */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static uint32_t hist[HIST_N];
static uint64_t done_n, started_n, failed_n;
static uint64_t rtt_max;

static void rtt_record(uint64_t rtt)
{
	uint64_t b = rtt / (HIST_US * 1000);

	hist[b < HIST_N ? b : HIST_N - 1]++;
	if (rtt > rtt_max)
		rtt_max = rtt;
	done_n++;
}

static double rtt_quantile(double q)
{
	uint64_t want = (uint64_t)((double)done_n * q), seen = 0;

	for (size_t b = 0; b < HIST_N; b++) {
		seen += hist[b];
		if (seen > want)
			return (double)(b + 1) * HIST_US / 1000.0;
	}
	return 0;
}

static int ns_home = -1, ns_up = -1;

static int socket_in(bool up, int family, int type)
{
	int fd, err;

	if (up && ns_up >= 0 && setns(ns_up, CLONE_NEWNET) != 0)
		return -1;
	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	err = errno;
	if (up && ns_up >= 0 && setns(ns_home, CLONE_NEWNET) != 0) {
		perror("latency_load: setns back");
		exit(1);
	}
	errno = err;
	return fd;
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl;

	if (!colon || (hl = (size_t)(colon - s)) == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static void bufs(int fd)
{
	int n = 8 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &n, sizeof(n)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &n, sizeof(n)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n));
}

static int epfd;

static void watch(int fd, uint32_t ev, uint64_t tag, int op)
{
	struct epoll_event e = {.events = ev, .data.u64 = tag};

	epoll_ctl(epfd, op, fd, &e);
}

/* tags: kind in the top byte, an index below */
#define TAG(kind, i) (((uint64_t)(kind) << 56) | (uint64_t)(i))
enum { K_UDP_ECHO = 1, K_UDP_CLI, K_TCP_LISTEN, K_TCP_CLI, K_TCP_ECHO };

/* ---- UDP ------------------------------------------------------------------------------ */

static int run_udp(const struct sockaddr_in *target, double rate, double secs, size_t bytes)
{
	int echo = socket_in(true, AF_INET, SOCK_DGRAM), cli[UDP_SOCKS];
	unsigned char buf[65536];
	uint64_t t0, end, seq = 0;

	if (echo < 0 || bind(echo, (const struct sockaddr *)target, sizeof(*target)) != 0) {
		perror("latency_load: udp echo");
		return 1;
	}
	bufs(echo);
	watch(echo, EPOLLIN, TAG(K_UDP_ECHO, 0), EPOLL_CTL_ADD);
	for (int i = 0; i < UDP_SOCKS; i++) {
		cli[i] = socket_in(false, AF_INET, SOCK_DGRAM);
		if (cli[i] < 0 || connect(cli[i], (const struct sockaddr *)target, sizeof(*target))) {
			perror("latency_load: udp client");
			return 1;
		}
		bufs(cli[i]);
		watch(cli[i], EPOLLIN, TAG(K_UDP_CLI, i), EPOLL_CTL_ADD);
	}
	if (bytes < 16)
		bytes = 16;
	memset(buf, 'x', sizeof(buf));
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (;;) {
		struct epoll_event evs[64];
		uint64_t now = now_ns();
		int n;

		if (now < end) {
			uint64_t want = (uint64_t)((double)(now - t0) / 1e9 * rate);

			while (seq < want) {
				uint64_t ts = now_ns();

				memcpy(buf, &ts, 8);
				memcpy(buf + 8, &seq, 8);
				if (send(cli[seq % UDP_SOCKS], buf, bytes, MSG_DONTWAIT) < 0)
					failed_n++;
				started_n++;
				seq++;
			}
		} else if (now > end + 2 * NS || done_n + failed_n >= started_n) {
			break;
		}
		n = epoll_wait(epfd, evs, 64, 1);
		for (int k = 0; k < n; k++) {
			uint64_t tag = evs[k].data.u64;
			int kind = (int)(tag >> 56), fd;

			if (kind == K_UDP_ECHO) {
				for (int r = 0; r < 256; r++) {
					struct sockaddr_in from;
					socklen_t fl = sizeof(from);
					ssize_t got = recvfrom(echo, buf, sizeof(buf), MSG_DONTWAIT,
							       (struct sockaddr *)&from, &fl);

					if (got <= 0)
						break;
					sendto(echo, buf, (size_t)got, MSG_DONTWAIT,
					       (struct sockaddr *)&from, fl);
				}
				continue;
			}
			fd = cli[tag & 0xff];
			for (int r = 0; r < 256; r++) {
				unsigned char in[2048];
				ssize_t got = recv(fd, in, sizeof(in), MSG_DONTWAIT);
				uint64_t ts;

				if (got < 16)
					break;
				memcpy(&ts, in, 8);
				rtt_record(now_ns() - ts);
			}
		}
	}
	return 0;
}

/* ---- TCP ------------------------------------------------------------------------------ */

struct tconn {
	int fd;
	uint64_t start;
	size_t sent, got;
	bool connected;
};

static struct tconn *conns;
static int *free_slots;
static int nfree;

static void tcp_end(struct tconn *c, bool ok)
{
	if (ok)
		rtt_record(now_ns() - c->start);
	else
		failed_n++;
	close(c->fd);
	c->fd = -1;
	free_slots[nfree++] = (int)(c - conns);
}

static int run_tcp(const struct sockaddr_in *target, double rate, double secs, size_t bytes)
{
	int lfd = socket_in(true, AF_INET, SOCK_STREAM), one = 1;
	unsigned char buf[65536];
	uint64_t t0, end;

	if (lfd < 0)
		return 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (const struct sockaddr *)target, sizeof(*target)) != 0 ||
	    listen(lfd, 65535) != 0) {
		perror("latency_load: tcp echo");
		return 1;
	}
	watch(lfd, EPOLLIN, TAG(K_TCP_LISTEN, 0), EPOLL_CTL_ADD);
	conns = calloc(TCP_MAX, sizeof(*conns));
	free_slots = calloc(TCP_MAX, sizeof(*free_slots));
	if (!conns || !free_slots)
		return 1;
	for (int i = TCP_MAX - 1; i >= 0; i--) {
		conns[i].fd = -1;
		free_slots[nfree++] = i;
	}
	if (bytes > sizeof(buf))
		bytes = sizeof(buf);
	memset(buf, 'y', sizeof(buf));
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	for (;;) {
		struct epoll_event evs[256];
		uint64_t now = now_ns();
		int n;

		if (now < end) {
			uint64_t want = (uint64_t)((double)(now - t0) / 1e9 * rate);

			while (started_n < want) {
				struct tconn *c;
				int fd;

				started_n++;
				if (nfree == 0) {
					failed_n++;
					continue;
				}
				fd = socket_in(false, AF_INET, SOCK_STREAM);
				if (fd < 0) {
					failed_n++;
					continue;
				}
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				c = &conns[free_slots[--nfree]];
				*c = (struct tconn){.fd = fd, .start = now_ns()};
				if (connect(fd, (const struct sockaddr *)target, sizeof(*target)) != 0 &&
				    errno != EINPROGRESS) {
					tcp_end(c, false);
					continue;
				}
				watch(fd, EPOLLOUT | EPOLLIN, TAG(K_TCP_CLI, c - conns), EPOLL_CTL_ADD);
			}
		} else if (now > end + 2 * NS || done_n + failed_n >= started_n) {
			break;
		}
		n = epoll_wait(epfd, evs, 256, 1);
		for (int k = 0; k < n; k++) {
			uint64_t tag = evs[k].data.u64;
			int kind = (int)(tag >> 56);

			if (kind == K_TCP_LISTEN) {
				for (int r = 0; r < 64; r++) {
					int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

					if (fd < 0)
						break;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					watch(fd, EPOLLIN, TAG(K_TCP_ECHO, (uint32_t)fd), EPOLL_CTL_ADD);
				}
			} else if (kind == K_TCP_ECHO) {
				int fd = (int)(tag & 0xffffffff);
				ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

				if (got > 0)
					send(fd, buf, (size_t)got, MSG_NOSIGNAL | MSG_DONTWAIT);
				else if (got == 0 || (errno != EAGAIN && errno != EINTR))
					close(fd);
			} else if (kind == K_TCP_CLI) {
				struct tconn *c = &conns[tag & 0xffffffff];
				unsigned char in[65536];
				ssize_t got;

				if (c->fd < 0)
					continue;
				if (evs[k].events & EPOLLERR) {
					tcp_end(c, false);
					continue;
				}
				if (!c->connected && (evs[k].events & EPOLLOUT)) {
					c->connected = true;
					if (send(c->fd, buf, bytes, MSG_NOSIGNAL) != (ssize_t)bytes) {
						tcp_end(c, false);
						continue;
					}
					watch(c->fd, EPOLLIN, tag, EPOLL_CTL_MOD);
				}
				if (!(evs[k].events & (EPOLLIN | EPOLLHUP)))
					continue;
				got = recv(c->fd, in, sizeof(in), MSG_DONTWAIT);
				if (got > 0) {
					c->got += (size_t)got;
					if (c->got >= bytes)
						tcp_end(c, true);
				} else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
					tcp_end(c, false);
				}
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in target;
	struct rlimit rl;
	struct rusage ru;
	double rate, secs;
	size_t bytes = 100;
	uint64_t t0;
	int i = 1, rc;

	if (argc > 2 && strcmp(argv[1], "--upstream-netns") == 0) {
		char path[300];

		snprintf(path, sizeof(path), "/run/netns/%s", argv[2]);
		ns_up = open(path, O_RDONLY | O_CLOEXEC);
		ns_home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (ns_up < 0 || ns_home < 0) {
			perror(path);
			return 1;
		}
		i = 3;
	}
	if (argc - i < 4 || (strcmp(argv[i], "udp") && strcmp(argv[i], "tcp")) ||
	    parse_addr(argv[i + 1], &target) != 0) {
		fprintf(stderr, "usage: latency_load [--upstream-netns NS] udp|tcp TARGET_IP:PORT "
			"RATE SECONDS [BYTES]\n");
		return 2;
	}
	rate = atof(argv[i + 2]);
	secs = atof(argv[i + 3]);
	if (argc - i > 4)
		bytes = (size_t)atol(argv[i + 4]);
	/* a descriptor per socket, two per TCP connection: as root past the hard limit
	 * (up to 1 Mi, within fs.nr_open), else up to it */
	rl.rlim_cur = rl.rlim_max = 1 << 20;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	t0 = now_ns();
	rc = strcmp(argv[i], "udp") == 0 ? run_udp(&target, rate, secs, bytes)
					 : run_tcp(&target, rate, secs, bytes);
	if (rc != 0)
		return rc;
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"mode\": \"%s\", \"rate\": %.0f, \"seconds\": %.2f, \"started\": %" PRIu64
	       ", \"completed\": %" PRIu64 ", \"failed\": %" PRIu64 ", \"lost\": %" PRIu64
	       ", \"achieved_per_s\": %.0f, \"rtt_p50_ms\": %.1f, \"rtt_p99_ms\": %.1f"
	       ", \"rtt_max_ms\": %.1f, \"wall\": %.2f, \"cpu\": %.2f}\n",
	       argv[i], rate, secs, started_n, done_n, failed_n, started_n - done_n,
	       (double)done_n / secs, rtt_quantile(0.5), rtt_quantile(0.99), (double)rtt_max / 1e6,
	       (double)(now_ns() - t0) / 1e9,
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	return 0;
}
