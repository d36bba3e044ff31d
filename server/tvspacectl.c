/* tvspacectl: the operator's tool.  Sends one command line to tvspaced's
 * control socket and prints the answer: text for a person, JSON with
 * --json.  Exit status 0 when done, 1 when tvspaced refused (the reason on
 * stderr), 2 when it could not be reached or the usage was wrong. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/tvspace/control.sock"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tvspacectl [-s SOCKET] [--json] COMMAND [ARG]...\n"
		"Ask a running tvspaced.\n\n"
		"Commands:\n"
		"  spaces              the live spaces\n"
		"  show SPACE          one space and its members\n"
		"  members [SPACE]     the members of every space, or of one\n"
		"  services [SERVICE]  the service status (patent table 2) of "
		"one service,\n"
		"                      or of every service hosting a live "
		"space\n"
		"  channels            the lineup in force\n"
		"  end SPACE           end a space: every member gets BYE\n"
		"  kick SPACE USER     remove a member, as the host's /kick\n"
		"  auth-failures       users with failed digest logins, and "
		"lockouts\n"
		"  auth-clear USER     forget USER's failures: it may log in "
		"again at once\n"
		"  reload              read the lineup, guide and services "
		"again (SIGHUP)\n"
		"  stats               counters since the start\n"
		"  version             the server's version\n\n"
		"Options:\n"
		"  -s, --socket PATH   the control socket (default "
		"$TVSPACE_CONTROL or " DEFAULT_SOCKET ")\n"
		"  -j, --json          answer in JSON\n"
		"  -h, --help          this text\n"
		"  -V, --version       tvspacectl's version\n\n"
		"SPACE is a number or space-N.  The socket is tvspaced's "
		"control_socket option.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = getenv("TVSPACE_CONTROL");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char line[1024], buf[4096];
	size_t len = 0;
	int json = 0, opt, fd, status = -1;
	bool lost = false;
	ssize_t n;

	while ((opt = getopt_long(argc, argv, "+s:jhV", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tvspacectl %s\n", TVSPACE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (!path || !*path)
		path = DEFAULT_SOCKET;
	for (int i = optind; i < argc; i++) {
		int w = snprintf(line + len, sizeof(line) - len, "%s%s",
				 i > optind ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= sizeof(line) - len ||
		    strpbrk(argv[i], "\r\n")) {
			fprintf(stderr, "tvspacectl: the command is too long "
					"or has a line break\n");
			return 2;
		}
		len += (size_t)w;
	}
	snprintf(line + len, sizeof(line) - len, "%s\n", json ? " --json" : "");
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "tvspacectl: %s: path too long\n", path);
		return 2;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr,
			"tvspacectl: cannot reach tvspaced at %s: %s\n"
			"(is it running, with control_socket = %s?)\n",
			path, strerror(errno), path);
		return 2;
	}
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		fprintf(stderr, "tvspacectl: %s: %s\n", path, strerror(errno));
		return 2;
	}
	shutdown(fd, SHUT_WR);
	/* The first line says ok or why not; the rest is the answer. */
	len = 0;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		char *nl;

		len += (size_t)n;
		buf[len] = '\0';
		if (status < 0 && (nl = strchr(buf, '\n'))) {
			*nl = '\0';
			if (strncmp(buf, "error: ", 7) == 0) {
				fprintf(stderr, "tvspacectl: %s\n", buf + 7);
				status = 1;
			}
			else {
				status = 0;
			}
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
		if (status >= 0) {
			if (fwrite(buf, 1, len, status ? stderr : stdout) !=
			    len)
				lost = true;
			len = 0;
		}
		else if (len == sizeof(buf) - 1) {
			break;
		}
	}
	close(fd);
	if (status < 0) {
		fprintf(stderr, "tvspacectl: no answer from %s\n", path);
		return 2;
	}
	/* An answer that did not reach stdout (a full disk, a closed pipe)
	 * must not pass for one that did. */
	if (lost || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tvspacectl: cannot write the answer: %s\n",
			strerror(errno));
		return 2;
	}
	return status;
}
