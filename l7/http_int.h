/* SPDX-License-Identifier: MIT */
/*
 * Private to the HTTP responder: what the request parser (http_parse.c)
 * and the responses (http.c) share. Same thread rules as pc_http.h.
 */
#ifndef PC_HTTP_INT_H
#define PC_HTTP_INT_H

#include "pc_http.h"

#define PC_HTTP_LINE_MAX 8192   /* request line, CRLF included: 414 above */
#define PC_HTTP_FIELDS_MAX 16384 /* header section, CRLFs included: 431 above */
#define PC_HTTP_NB_FIELDS_MAX 64 /* header lines: 431 above */

/* pc_http_conn.state: the parser's states, then the two output states. */
enum pc_http_state {
	PC_HTTP_S_METHOD,       /* also skips empty lines before a request */
	PC_HTTP_S_LEAD_LF,      /* CR of an empty line before the request seen */
	PC_HTTP_S_TARGET,
	PC_HTTP_S_VERSION,      /* "HTTP/x.y" */
	PC_HTTP_S_LINE_LF,      /* CR after the version seen */
	PC_HTTP_S_FIELD_START,  /* start of a header (or trailer) line */
	PC_HTTP_S_NAME,
	PC_HTTP_S_OWS,          /* after the colon */
	PC_HTTP_S_VALUE,
	PC_HTTP_S_FIELD_LF,     /* CR ending a header line seen */
	PC_HTTP_S_HEAD_LF,      /* CR of the empty line ending the section seen */
	PC_HTTP_S_BODY,         /* Content-Length body */
	PC_HTTP_S_CHUNK_SIZE,
	PC_HTTP_S_CHUNK_EXT,
	PC_HTTP_S_CHUNK_SIZE_LF,
	PC_HTTP_S_CHUNK_DATA,
	PC_HTTP_S_CHUNK_CR,     /* CRLF after chunk data */
	PC_HTTP_S_CHUNK_LF,
	PC_HTTP_S_RESPOND,      /* a response is being handed out */
	PC_HTTP_S_CLOSED,       /* nothing more in or out */
};

/* pc_http_conn.req.method */
enum { PC_HTTP_M_OTHER, PC_HTTP_M_GET, PC_HTTP_M_HEAD, PC_HTTP_M_POST, PC_HTTP_M_PUT };

/* pc_http_conn.req.flags */
enum {
	PC_HTTP_F_HTTP11 = 1 << 0,
	PC_HTTP_F_TRAILER = 1 << 1,     /* reading the trailer section */
	PC_HTTP_F_VALUE_END = 1 << 2,   /* OWS after a special header's value */
	PC_HTTP_F_HOST = 1 << 3,
	PC_HTTP_F_HOST_DIFF = 1 << 4,   /* Host differs from the SNI */
	PC_HTTP_F_HOST_PORT = 1 << 5,   /* in the Host's port */
	PC_HTTP_F_HOST_BRACKET = 1 << 6, /* in an IP-literal "[...]" */
	PC_HTTP_F_HOST_LITERAL = 1 << 7, /* after the IP-literal's "]" */
	PC_HTTP_F_CL = 1 << 8,
	PC_HTTP_F_TE = 1 << 9,
	PC_HTTP_F_TE_OTHER = 1 << 10,   /* Transfer-Encoding is not "chunked" */
	PC_HTTP_F_CONN_CLOSE = 1 << 11,
	PC_HTTP_F_CONN_KEEP = 1 << 12,
	PC_HTTP_F_CLOSE = 1 << 13,      /* close after this response */
	PC_HTTP_F_PATH_CUT = 1 << 14,   /* the target did not fit log.path */
};

/* The head has been read (http.c): the status the request gets, by the
 * policy and the routes; the body is read before it is answered. */
uint16_t pc_http_decide(struct pc_http_conn *h);

/* Start the response to the request just read, or to one the parser
 * refused (status >= 400 from the parser closes the connection). */
void pc_http_respond(struct pc_http_conn *h, uint16_t status, bool refused);

#endif
