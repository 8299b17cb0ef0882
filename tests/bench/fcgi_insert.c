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

#include "fcgi_bench.h"

static const char *conninfo;

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
	if (FCGX_InitRequest(&req, fcgi_bench_listen_fd, 0) != 0)
		return NULL;
	while (FCGX_Accept_r(&req) >= 0) {
		char note[32];
		const char *params[1] = { note };

		snprintf(note, sizeof note, "%p/%lu", (void *)&req, n++);
		res = PQexecPrepared(conn, "insert", 1, params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			if (FCGX_PutStr(fcgi_bench_response, fcgi_bench_response_len, req.out) != fcgi_bench_response_len)
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
	if (argc != 5) {
		fprintf(stderr, "usage: fcgi_insert SOCKET BODY_FILE THREADS CONNINFO\n");
		return 2;
	}
	conninfo = argv[4];
	return fcgi_bench_run(argv[1], argv[2], atoi(argv[3]), serve);
}
