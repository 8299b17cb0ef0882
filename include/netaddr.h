/*
 * Classifies an IP address (struct sockaddr, AF_INET or AF_INET6) for the webhook SSRF guard:
 * outbound requests check the address they are about to connect to, so a name that resolves
 * (or re-resolves) to an internal address is caught. IPv6 addresses that embed an IPv4 address
 * (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, SIIT ::ffff:0:a.b.c.d, NAT64
 * 64:ff9b::/96 and 6to4 2002::/16) are classified by the IPv4 address, since that is where the
 * packets end up. Pure: no I/O, no allocation, thread-safe.
 */
#ifndef WEBHOOKD_NETADDR_H
#define WEBHOOKD_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum netaddr_class {
	NETADDR_PUBLIC,
	NETADDR_LOOPBACK,     /* 127/8, ::1 */
	NETADDR_PRIVATE,      /* 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fc00::/7, 64:ff9b:1::/48 */
	NETADDR_LINK_LOCAL,   /* 169.254/16, fe80::/10 */
	NETADDR_MULTICAST,    /* 224/4, ff00::/8 */
	NETADDR_UNSPECIFIED,  /* 0/8, :: */
	NETADDR_RESERVED,     /* documentation, benchmarking, broadcast, 240/4, IETF and unallocated space */
	NETADDR_NOT_IP,       /* not AF_INET/AF_INET6, or too short for its family */
};

/* The class of the address in sa, whose length is salen bytes. */
enum netaddr_class netaddr_classify(const struct sockaddr *sa, size_t salen);

/* For messages: "a loopback address", "an unspecified address", ... */
const char *netaddr_class_name(enum netaddr_class c);

/*
 * Whether a webhook may connect to an address of class c. allow_private (a development or
 * on-site setting) lets loopback, private and link-local addresses through; multicast,
 * unspecified, reserved and non-IP addresses are always refused.
 */
bool netaddr_allowed(enum netaddr_class c, bool allow_private);

/* The numeric text of the address ("127.0.0.1", "::ffff:10.0.0.1"), without the port. */
#define NETADDR_TEXT_SIZE 64
bool netaddr_format(const struct sockaddr *sa, size_t salen, char out[NETADDR_TEXT_SIZE])
	__attribute__((warn_unused_result));

#endif
