/*
 * The write baseline, for the benchmark only (tests/bench/api): the thinnest libfcgi responder
 * that writes, N threads each with its own PostgreSQL connection, each request one prepared
 * INSERT of one row (autocommit) into a table of its own, then a fixed body. It is the ceiling
 * for a request that must commit one row: the FastCGI hop plus one round trip and one commit.
 *
 * usage: fcgi_insert SOCKET BODY_FILE THREADS CONNINFO
 * The table: CREATE TABLE bench_insert (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
 *            at timestamptz NOT NULL DEFAULT now(), note text NOT NULL)
 */
#include "config.h"

#include <fcgiapp.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_fd;
static const char *conninfo;
static char response[4096];
static int response_len;

static void *
serve(void *arg)
{
	FCGX_Request req;
	PGconn *conn = PQconnectdb(conninfo);
	PGresult *res;
	unsigned long n = 0;

	(void)arg;
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "fcgi_insert: %s", PQerrorMessage(conn));
		exit(1);
	}
	res = PQprepare(conn, "insert", "INSERT INTO bench_insert (note) VALUES ($1)", 1, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "fcgi_insert: %s", PQerrorMessage(conn));
		exit(1);
	}
	PQclear(res);
	if (FCGX_InitRequest(&req, listen_fd, 0) != 0)
		return NULL;
	while (FCGX_Accept_r(&req) >= 0) {
		char note[32];
		const char *params[1] = { note };

		snprintf(note, sizeof note, "%p/%lu", (void *)&req, n++);
		res = PQexecPrepared(conn, "insert", 1, params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			if (FCGX_PutStr(response, response_len, req.out) != response_len)
				fprintf(stderr, "fcgi_insert: write failed\n");
		} else {
			FCGX_PutS("Status: 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", req.out);
		}
		PQclear(res);
		FCGX_Finish_r(&req);
	}
	PQfinish(conn);
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

	if (argc != 5 || strlen(argv[1]) >= sizeof addr.sun_path || (threads = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: fcgi_insert SOCKET BODY_FILE THREADS CONNINFO\n");
		return 2;
	}
	conninfo = argv[4];
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
