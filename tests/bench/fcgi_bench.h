/*
 * What the benchmark's baseline responders (fcgi_minimal, fcgi_insert) share: a fixed answer
 * read from a file, a unix socket to accept on, and N threads each running serve(). Nothing else
 * happens per request than what each responder's serve() does.
 */
#ifndef WEBHOOKD_FCGI_BENCH_H
#define WEBHOOKD_FCGI_BENCH_H

/* The answer: a 200 with the body of the file, headers included; built by fcgi_bench_run. */
extern char fcgi_bench_response[4096];
extern int fcgi_bench_response_len;
/* The socket every thread accepts on. */
extern int fcgi_bench_listen_fd;

/* Builds the answer from body_file, listens on socket_path (mode 0666, for nginx) and runs
 * serve on `threads` threads (the calling one among them). Returns only on failure: 1. */
int fcgi_bench_run(const char *socket_path, const char *body_file, int threads, void *(*serve)(void *));

#endif
