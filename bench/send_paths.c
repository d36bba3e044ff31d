/* What one packet of a relay's fan-out costs the sender, three ways: each
 * of N legs its own socket naming its peer on every sendmsg (tvspace
 * before), each its own socket connected to its peer (tvspace now), and
 * one socket sending all N with one sendmmsg (what a relay could do only if
 * every member were sent to from the same port).  N = 1,000 legs, 2,000
 * rounds, 2 ms apart, a 12-byte header and 160 bytes of payload a packet,
 * to one receiving socket on loopback that a second thread drains (so the
 * kernel's delivery is in the sender's figure, as it is in the relay's).
 * Prints the sender thread's CPU per packet.  bench/relay.sh's notes in
 * docs/performance.md quote it.
 *   cc -O2 -o /tmp/send_paths bench/send_paths.c -lpthread
 *   /tmp/send_paths MODE      # 0 named, 1 connected, 2 sendmmsg
 * It binds 127.0.0.1 ports 45000 and 46000-46999: run it in a network
 * namespace of its own on a shared machine. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define N      1000
#define ROUNDS 2000

static int rx;
static volatile int stop;
static long got;

static void *drain(void *arg __attribute__((unused)))
{
	static char buf[64][256];
	struct mmsghdr mm[64];
	struct iovec iov[64];

	for (int i = 0; i < 64; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	while (!stop) {
		int n = recvmmsg(rx, mm, 64, MSG_DONTWAIT, NULL);

		if (n > 0)
			got += n;
	}
	return NULL;
}

static double thread_cpu(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static struct mmsghdr mm[N];
	static struct iovec iov[N][2];
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(45000)};
	char hdr[12] = {(char)0x80}, payload[160] = {0};
	int mode = argc > 1 ? atoi(argv[1]) : -1, fds[N], big = 64 << 20;
	long sent = 0;
	pthread_t th;
	double c0, c1;

	if (mode < 0 || mode > 2) {
		fprintf(stderr, "usage: %s 0|1|2\n", argv[0]);
		return 2;
	}
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	if (setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(rx, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("bind 45000");
		return 1;
	}
	for (int i = 0; i < N; i++) {
		struct sockaddr_in me = {.sin_family = AF_INET,
					 .sin_port = htons((uint16_t)(46000 + i))};

		inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
		fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (bind(fds[i], (struct sockaddr *)&me, sizeof(me)) < 0 ||
		    (mode == 1 &&
		     connect(fds[i], (struct sockaddr *)&to, sizeof(to)) < 0)) {
			perror("leg socket");
			return 1;
		}
		iov[i][0].iov_base = hdr;
		iov[i][0].iov_len = sizeof(hdr);
		iov[i][1].iov_base = payload;
		iov[i][1].iov_len = sizeof(payload);
		mm[i].msg_hdr.msg_name = &to;
		mm[i].msg_hdr.msg_namelen = sizeof(to);
		mm[i].msg_hdr.msg_iov = iov[i];
		mm[i].msg_hdr.msg_iovlen = 2;
	}
	pthread_create(&th, NULL, drain, NULL);
	c0 = thread_cpu();
	for (int r = 0; r < ROUNDS; r++) {
		if (mode == 2) {
			for (int off = 0, n; off < N; off += n) {
				n = sendmmsg(fds[0], mm + off, N - off,
					     MSG_DONTWAIT);
				if (n <= 0)
					break;
				sent += n;
			}
		}
		else {
			for (int i = 0; i < N; i++) {
				struct msghdr m = {.msg_iov = iov[i],
						   .msg_iovlen = 2};

				if (mode == 0) {
					m.msg_name = &to;
					m.msg_namelen = sizeof(to);
				}
				if (sendmsg(fds[i], &m, MSG_DONTWAIT) >= 0)
					sent++;
			}
		}
		usleep(2000);
	}
	c1 = thread_cpu();
	usleep(100000);
	stop = 1;
	pthread_join(th, NULL);
	printf("%s: %.0f ns of sender CPU a packet (%ld sent, %ld received)\n",
	       mode == 0	 ? "named"
	       : mode == 1 ? "connected"
			   : "sendmmsg",
	       (c1 - c0) * 1e9 / (double)(sent ? sent : 1), sent, got);
	return 0;
}
