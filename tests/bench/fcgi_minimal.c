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

#include "fcgi_bench.h"

static void *
serve(void *arg)
{
	FCGX_Request req;

	(void)arg;
	if (FCGX_InitRequest(&req, fcgi_bench_listen_fd, 0) != 0)
		return NULL;
	while (FCGX_Accept_r(&req) >= 0) {
		if (FCGX_PutStr(fcgi_bench_response, fcgi_bench_response_len, req.out) != fcgi_bench_response_len)
			fprintf(stderr, "fcgi_minimal: write failed\n");
		FCGX_Finish_r(&req);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: fcgi_minimal SOCKET BODY_FILE THREADS\n");
		return 2;
	}
	return fcgi_bench_run(argv[1], argv[2], atoi(argv[3]), serve);
}
