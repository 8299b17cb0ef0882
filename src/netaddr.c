#include "config.h"

#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

/*
 * The ranges come from the IANA special-purpose address registries (RFC 6890 and updates).
 * The first matching entry wins, so narrower ranges come before the wider ones they sit in.
 */
struct netaddr_v4_range {
	uint32_t net;
	unsigned bits;
	enum netaddr_class c;
};

static const struct netaddr_v4_range netaddr_v4_ranges[] = {
	{ 0x00000000u, 8, NETADDR_UNSPECIFIED },   /* 0/8 "this network" */
	{ 0x0a000000u, 8, NETADDR_PRIVATE },       /* 10/8 */
	{ 0x64400000u, 10, NETADDR_PRIVATE },      /* 100.64/10 carrier-grade NAT */
	{ 0x7f000000u, 8, NETADDR_LOOPBACK },      /* 127/8 */
	{ 0xa9fe0000u, 16, NETADDR_LINK_LOCAL },   /* 169.254/16 (cloud metadata lives here) */
	{ 0xac100000u, 12, NETADDR_PRIVATE },      /* 172.16/12 */
	{ 0xc0000000u, 24, NETADDR_RESERVED },     /* 192.0.0/24 IETF protocol assignments */
	{ 0xc0000200u, 24, NETADDR_RESERVED },     /* 192.0.2/24 TEST-NET-1 */
	{ 0xc0586300u, 24, NETADDR_RESERVED },     /* 192.88.99/24 6to4 relay anycast, deprecated */
	{ 0xc0a80000u, 16, NETADDR_PRIVATE },      /* 192.168/16 */
	{ 0xc6120000u, 15, NETADDR_RESERVED },     /* 198.18/15 benchmarking */
	{ 0xc6336400u, 24, NETADDR_RESERVED },     /* 198.51.100/24 TEST-NET-2 */
	{ 0xcb007100u, 24, NETADDR_RESERVED },     /* 203.0.113/24 TEST-NET-3 */
	{ 0xe0000000u, 4, NETADDR_MULTICAST },     /* 224/4 */
	{ 0xf0000000u, 4, NETADDR_RESERVED },      /* 240/4, including 255.255.255.255 broadcast */
};

/* Where an IPv6 range sends the classification: a class, or the IPv4 address it embeds. */
enum netaddr_v6_action {
	NETADDR_V6_CLASS,
	NETADDR_V6_EMBED_LOW32,  /* the IPv4 address is the last 4 bytes */
	NETADDR_V6_EMBED_6TO4,   /* 2002:AABB:CCDD::/48: the IPv4 address is bytes 2..5 */
};

struct netaddr_v6_range {
	uint8_t prefix[16];
	unsigned bits;
	enum netaddr_v6_action action;
	enum netaddr_class c;
};

static const struct netaddr_v6_range netaddr_v6_ranges[] = {
	/* ::/128 */
	{ { 0 }, 128, NETADDR_V6_CLASS, NETADDR_UNSPECIFIED },
	/* ::1/128 */
	{ { [15] = 1 }, 128, NETADDR_V6_CLASS, NETADDR_LOOPBACK },
	/* ::ffff:0:0/96 IPv4-mapped */
	{ { [10] = 0xff, [11] = 0xff }, 96, NETADDR_V6_EMBED_LOW32, NETADDR_PUBLIC },
	/* ::ffff:0:0:0/96 IPv4-translated (SIIT) */
	{ { [8] = 0xff, [9] = 0xff }, 96, NETADDR_V6_EMBED_LOW32, NETADDR_PUBLIC },
	/* ::/96 IPv4-compatible (deprecated, but stacks may still route it over IPv4) */
	{ { 0 }, 96, NETADDR_V6_EMBED_LOW32, NETADDR_PUBLIC },
	/* 64:ff9b::/96 NAT64 well-known prefix */
	{ { 0x00, 0x64, 0xff, 0x9b }, 96, NETADDR_V6_EMBED_LOW32, NETADDR_PUBLIC },
	/* 64:ff9b:1::/48 local-use NAT64: translated inside the operator's network */
	{ { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48, NETADDR_V6_CLASS, NETADDR_PRIVATE },
	/* 100::/64 discard-only */
	{ { 0x01, 0x00 }, 64, NETADDR_V6_CLASS, NETADDR_RESERVED },
	/* 2001::/23 IETF protocol assignments (Teredo, benchmarking, ORCHID, ...) */
	{ { 0x20, 0x01 }, 23, NETADDR_V6_CLASS, NETADDR_RESERVED },
	/* 2001:db8::/32 documentation */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, NETADDR_V6_CLASS, NETADDR_RESERVED },
	/* 2002::/16 6to4 */
	{ { 0x20, 0x02 }, 16, NETADDR_V6_EMBED_6TO4, NETADDR_PUBLIC },
	/* 3fff::/20 documentation (RFC 9637) */
	{ { 0x3f, 0xff }, 20, NETADDR_V6_CLASS, NETADDR_RESERVED },
	/* 2000::/3 global unicast; the special ranges inside it come above */
	{ { 0x20 }, 3, NETADDR_V6_CLASS, NETADDR_PUBLIC },
	/* fc00::/7 unique local */
	{ { 0xfc }, 7, NETADDR_V6_CLASS, NETADDR_PRIVATE },
	/* fe80::/10 link-local */
	{ { 0xfe, 0x80 }, 10, NETADDR_V6_CLASS, NETADDR_LINK_LOCAL },
	/* fec0::/10 site-local (deprecated) */
	{ { 0xfe, 0xc0 }, 10, NETADDR_V6_CLASS, NETADDR_RESERVED },
	/* ff00::/8 multicast */
	{ { 0xff }, 8, NETADDR_V6_CLASS, NETADDR_MULTICAST },
	/* Everything else is unallocated by IANA. */
	{ { 0 }, 0, NETADDR_V6_CLASS, NETADDR_RESERVED },
};

#define NETADDR_COUNT(a) (sizeof (a) / sizeof (a)[0])

static enum netaddr_class
netaddr_classify_v4(uint32_t addr)
{
	for (size_t i = 0; i < NETADDR_COUNT(netaddr_v4_ranges); i++) {
		const struct netaddr_v4_range *r = &netaddr_v4_ranges[i];
		uint32_t mask = r->bits == 0 ? 0 : UINT32_MAX << (32 - r->bits);

		if ((addr & mask) == r->net)
			return r->c;
	}
	return NETADDR_PUBLIC;
}

static bool
netaddr_prefix_match(const uint8_t a[16], const uint8_t prefix[16], unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, prefix, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ prefix[whole]) & (uint8_t)(0xffu << (8 - rest))) == 0;
}

static uint32_t
netaddr_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static enum netaddr_class
netaddr_classify_v6(const uint8_t a[16])
{
	for (size_t i = 0; i < NETADDR_COUNT(netaddr_v6_ranges); i++) {
		const struct netaddr_v6_range *r = &netaddr_v6_ranges[i];

		if (!netaddr_prefix_match(a, r->prefix, r->bits))
			continue;
		switch (r->action) {
		case NETADDR_V6_EMBED_LOW32:
			return netaddr_classify_v4(netaddr_be32(a + 12));
		case NETADDR_V6_EMBED_6TO4:
			return netaddr_classify_v4(netaddr_be32(a + 2));
		case NETADDR_V6_CLASS:
			return r->c;
		}
	}
	return NETADDR_RESERVED;  /* not reached: the last range matches everything */
}

enum netaddr_class
netaddr_classify(const struct sockaddr *sa, size_t salen)
{
	/* Copies, not casts: the caller's buffer need not be aligned for sockaddr_in6. */
	if (sa == NULL || salen < sizeof sa->sa_family)
		return NETADDR_NOT_IP;
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof sin);
		return netaddr_classify_v4(ntohl(sin.sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof sin6);
		return netaddr_classify_v6(sin6.sin6_addr.s6_addr);
	}
	return NETADDR_NOT_IP;
}

const char *
netaddr_class_name(enum netaddr_class c)
{
	switch (c) {
	case NETADDR_PUBLIC:
		return "a public address";
	case NETADDR_LOOPBACK:
		return "a loopback address";
	case NETADDR_PRIVATE:
		return "a private address";
	case NETADDR_LINK_LOCAL:
		return "a link-local address";
	case NETADDR_MULTICAST:
		return "a multicast address";
	case NETADDR_UNSPECIFIED:
		return "an unspecified address";
	case NETADDR_RESERVED:
		return "a reserved address";
	case NETADDR_NOT_IP:
		break;
	}
	return "not an IP address";
}

bool
netaddr_allowed(enum netaddr_class c, bool allow_private)
{
	switch (c) {
	case NETADDR_PUBLIC:
		return true;
	case NETADDR_LOOPBACK:
	case NETADDR_PRIVATE:
	case NETADDR_LINK_LOCAL:
		return allow_private;
	case NETADDR_MULTICAST:
	case NETADDR_UNSPECIFIED:
	case NETADDR_RESERVED:
	case NETADDR_NOT_IP:
		break;
	}
	return false;
}

bool
netaddr_format(const struct sockaddr *sa, size_t salen, char out[NETADDR_TEXT_SIZE])
{
	out[0] = '\0';
	if (sa == NULL || salen < sizeof sa->sa_family)
		return false;
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof sin);
		return inet_ntop(AF_INET, &sin.sin_addr, out, NETADDR_TEXT_SIZE) != NULL;
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof sin6);
		return inet_ntop(AF_INET6, &sin6.sin6_addr, out, NETADDR_TEXT_SIZE) != NULL;
	}
	return false;
}
