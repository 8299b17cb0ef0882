/*
 * The thinnest libfcgi responder, for the benchmark only: N threads accept on one unix socket and
 * answer every request with a fixed body, reading nothing. It is the ceiling the FastCGI hop sets.
 *
 * usage: fcgi_minimal SOCKET BODY_FILE THREADS
 */
#include "config.h"

#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_fd;
static char response[4096];
static int response_len;

static void *
serve(void *arg)
{
	FCGX_Request req;

	(void)arg;
	if (FCGX_InitRequest(&req, listen_fd, 0) != 0)
		return NULL;
	while (FCGX_Accept_r(&req) >= 0) {
		if (FCGX_PutStr(response, response_len, req.out) != response_len)
			fprintf(stderr, "fcgi_minimal: write failed\n");
		FCGX_Finish_r(&req);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char body[2048];
	size_t body_len;
	FILE *f;
	int threads;
	pthread_t tid;

	if (argc != 4 || strlen(argv[1]) >= sizeof addr.sun_path || (threads = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: fcgi_minimal SOCKET BODY_FILE THREADS\n");
		return 2;
	}
	f = fopen(argv[2], "rb");
	if (f == NULL || (body_len = fread(body, 1, sizeof body, f)) == 0) {
		perror(argv[2]);
		return 1;
	}
	fclose(f);
	response_len = snprintf(response, sizeof response,
	    "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %zu\r\n\r\n", body_len);
	if (response_len < 0 || (size_t)response_len + body_len > sizeof response)
		return 1;
	memcpy(response + response_len, body, body_len);
	response_len += (int)body_len;

	strcpy(addr.sun_path, argv[1]);
	unlink(argv[1]);
	listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    chmod(argv[1], 0666) != 0 || listen(listen_fd, 1024) != 0) {
		perror(argv[1]);
		return 1;
	}
	if (FCGX_Init() != 0)
		return 1;
	for (int i = 1; i < threads; i++) {
		if (pthread_create(&tid, NULL, serve, NULL) != 0)
			return 1;
	}
	serve(NULL);
	return 0;
}
