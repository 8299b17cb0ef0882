/* Adapts one libfcgi request to the plain request view and writes the response back. */
#ifndef WEBHOOKD_FCGI_IO_H
#define WEBHOOKD_FCGI_IO_H

#include <fcgiapp.h>

#include "app.h"

/* body is scratch space of max_body + 1 bytes owned by the worker. */
void fcgi_io_serve(FCGX_Request *fr, struct app_worker *w, char *body, long max_body, struct response *resp);

#endif
