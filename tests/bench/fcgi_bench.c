#include "config.h"

#include "fcgi_bench.h"

#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

char fcgi_bench_response[4096];
int fcgi_bench_response_len;
int fcgi_bench_listen_fd;

int
fcgi_bench_run(const char *socket_path, const char *body_file, int threads, void *(*serve)(void *))
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char body[2048];
	size_t body_len;
	pthread_t tid;
	FILE *f;
	int n;

	if (strlen(socket_path) >= sizeof addr.sun_path || threads < 1)
		return 1;
	f = fopen(body_file, "rb");
	if (f == NULL || (body_len = fread(body, 1, sizeof body, f)) == 0) {
		perror(body_file);
		return 1;
	}
	fclose(f);
	n = snprintf(fcgi_bench_response, sizeof fcgi_bench_response,
	    "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %zu\r\n\r\n", body_len);
	if (n < 0 || (size_t)n + body_len > sizeof fcgi_bench_response)
		return 1;
	memcpy(fcgi_bench_response + n, body, body_len);
	fcgi_bench_response_len = n + (int)body_len;

	strcpy(addr.sun_path, socket_path);
	unlink(socket_path);
	fcgi_bench_listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fcgi_bench_listen_fd < 0 || bind(fcgi_bench_listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    chmod(socket_path, 0666) != 0 || listen(fcgi_bench_listen_fd, 1024) != 0) {
		perror(socket_path);
		return 1;
	}
	if (FCGX_Init() != 0)
		return 1;
	for (int i = 1; i < threads; i++) {
		if (pthread_create(&tid, NULL, serve, NULL) != 0)
			return 1;
	}
	serve(NULL);
	return 1;
}
