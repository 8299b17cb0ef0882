/* Netaddr: every class, the edges of each range, embedded IPv4, names and the allow policy. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <cmocka.h>

#include "netaddr.h"

struct netaddr_case {
	const char *text;
	enum netaddr_class c;
};

static const struct netaddr_case v4_cases[] = {
	/* 0/8 */
	{ "0.0.0.0", NETADDR_UNSPECIFIED },
	{ "0.255.255.255", NETADDR_UNSPECIFIED },
	{ "1.0.0.0", NETADDR_PUBLIC },
	/* 10/8 */
	{ "9.255.255.255", NETADDR_PUBLIC },
	{ "10.0.0.0", NETADDR_PRIVATE },
	{ "10.255.255.255", NETADDR_PRIVATE },
	{ "11.0.0.0", NETADDR_PUBLIC },
	/* 100.64/10 */
	{ "100.63.255.255", NETADDR_PUBLIC },
	{ "100.64.0.0", NETADDR_PRIVATE },
	{ "100.127.255.255", NETADDR_PRIVATE },
	{ "100.128.0.0", NETADDR_PUBLIC },
	/* 127/8 */
	{ "126.255.255.255", NETADDR_PUBLIC },
	{ "127.0.0.0", NETADDR_LOOPBACK },
	{ "127.0.0.1", NETADDR_LOOPBACK },
	{ "127.255.255.255", NETADDR_LOOPBACK },
	{ "128.0.0.0", NETADDR_PUBLIC },
	/* 169.254/16 */
	{ "169.253.255.255", NETADDR_PUBLIC },
	{ "169.254.0.0", NETADDR_LINK_LOCAL },
	{ "169.254.169.254", NETADDR_LINK_LOCAL },
	{ "169.254.255.255", NETADDR_LINK_LOCAL },
	{ "169.255.0.0", NETADDR_PUBLIC },
	/* 172.16/12 */
	{ "172.15.255.255", NETADDR_PUBLIC },
	{ "172.16.0.0", NETADDR_PRIVATE },
	{ "172.31.255.255", NETADDR_PRIVATE },
	{ "172.32.0.0", NETADDR_PUBLIC },
	/* 192.0.0/24, 192.0.2/24 */
	{ "191.255.255.255", NETADDR_PUBLIC },
	{ "192.0.0.0", NETADDR_RESERVED },
	{ "192.0.0.255", NETADDR_RESERVED },
	{ "192.0.1.0", NETADDR_PUBLIC },
	{ "192.0.1.255", NETADDR_PUBLIC },
	{ "192.0.2.0", NETADDR_RESERVED },
	{ "192.0.2.255", NETADDR_RESERVED },
	{ "192.0.3.0", NETADDR_PUBLIC },
	/* 192.88.99/24 */
	{ "192.88.98.255", NETADDR_PUBLIC },
	{ "192.88.99.0", NETADDR_RESERVED },
	{ "192.88.99.255", NETADDR_RESERVED },
	{ "192.88.100.0", NETADDR_PUBLIC },
	/* 192.168/16 */
	{ "192.167.255.255", NETADDR_PUBLIC },
	{ "192.168.0.0", NETADDR_PRIVATE },
	{ "192.168.255.255", NETADDR_PRIVATE },
	{ "192.169.0.0", NETADDR_PUBLIC },
	/* 198.18/15 */
	{ "198.17.255.255", NETADDR_PUBLIC },
	{ "198.18.0.0", NETADDR_RESERVED },
	{ "198.19.255.255", NETADDR_RESERVED },
	{ "198.20.0.0", NETADDR_PUBLIC },
	/* 198.51.100/24 */
	{ "198.51.99.255", NETADDR_PUBLIC },
	{ "198.51.100.0", NETADDR_RESERVED },
	{ "198.51.100.255", NETADDR_RESERVED },
	{ "198.51.101.0", NETADDR_PUBLIC },
	/* 203.0.113/24 */
	{ "203.0.112.255", NETADDR_PUBLIC },
	{ "203.0.113.0", NETADDR_RESERVED },
	{ "203.0.113.255", NETADDR_RESERVED },
	{ "203.0.114.0", NETADDR_PUBLIC },
	/* 224/4, 240/4, broadcast */
	{ "223.255.255.255", NETADDR_PUBLIC },
	{ "224.0.0.0", NETADDR_MULTICAST },
	{ "239.255.255.255", NETADDR_MULTICAST },
	{ "240.0.0.0", NETADDR_RESERVED },
	{ "255.255.255.254", NETADDR_RESERVED },
	{ "255.255.255.255", NETADDR_RESERVED },
	/* Ordinary public addresses. */
	{ "8.8.8.8", NETADDR_PUBLIC },
	{ "93.184.216.34", NETADDR_PUBLIC },
};

static const struct netaddr_case v6_cases[] = {
	{ "::", NETADDR_UNSPECIFIED },
	{ "::1", NETADDR_LOOPBACK },
	/* IPv4-compatible ::/96 (:: and ::1 are taken first) */
	{ "::2", NETADDR_UNSPECIFIED },  /* 0.0.0.2 */
	{ "::127.0.0.1", NETADDR_LOOPBACK },
	{ "::10.1.2.3", NETADDR_PRIVATE },
	{ "::8.8.8.8", NETADDR_PUBLIC },
	{ "::1:0:0:0", NETADDR_RESERVED },  /* just past ::/96, not ::ffff: */
	/* IPv4-mapped */
	{ "::ffff:127.0.0.1", NETADDR_LOOPBACK },
	{ "::ffff:0.0.0.0", NETADDR_UNSPECIFIED },
	{ "::ffff:10.0.0.1", NETADDR_PRIVATE },
	{ "::ffff:169.254.169.254", NETADDR_LINK_LOCAL },
	{ "::ffff:224.0.0.1", NETADDR_MULTICAST },
	{ "::ffff:255.255.255.255", NETADDR_RESERVED },
	{ "::ffff:8.8.8.8", NETADDR_PUBLIC },
	{ "::fffe:8.8.8.8", NETADDR_RESERVED },
	/* IPv4-translated (SIIT) */
	{ "::ffff:0:127.0.0.1", NETADDR_LOOPBACK },
	{ "::ffff:0:8.8.8.8", NETADDR_PUBLIC },
	/* NAT64 */
	{ "64:ff9b::127.0.0.1", NETADDR_LOOPBACK },
	{ "64:ff9b::192.168.1.1", NETADDR_PRIVATE },
	{ "64:ff9b::8.8.8.8", NETADDR_PUBLIC },
	{ "64:ff9b::1:0:0:0", NETADDR_RESERVED },  /* outside the /96 */
	{ "64:ff9b:1::", NETADDR_PRIVATE },
	{ "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", NETADDR_PRIVATE },
	{ "64:ff9b:2::", NETADDR_RESERVED },
	/* 100::/64 discard */
	{ "100::", NETADDR_RESERVED },
	{ "100::ffff:ffff:ffff:ffff", NETADDR_RESERVED },
	{ "100:0:0:1::", NETADDR_RESERVED },  /* unallocated, not discard */
	/* 2001::/23 and 2001:db8::/32 */
	{ "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_RESERVED },
	{ "2000::", NETADDR_PUBLIC },
	{ "2001::", NETADDR_RESERVED },
	{ "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_RESERVED },
	{ "2001:200::", NETADDR_PUBLIC },
	{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_PUBLIC },
	{ "2001:db8::", NETADDR_RESERVED },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_RESERVED },
	{ "2001:db9::", NETADDR_PUBLIC },
	/* 6to4 */
	{ "2002:7f00:1::", NETADDR_LOOPBACK },
	{ "2002:a00:1::1", NETADDR_PRIVATE },
	{ "2002:808:808::1", NETADDR_PUBLIC },
	/* 3fff::/20 */
	{ "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_PUBLIC },
	{ "3fff::", NETADDR_RESERVED },
	{ "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_RESERVED },
	{ "3fff:1000::", NETADDR_PUBLIC },
	{ "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_PUBLIC },
	{ "4000::", NETADDR_RESERVED },
	/* Ordinary public addresses. */
	{ "2606:4700:4700::1111", NETADDR_PUBLIC },
	{ "2a00:1450:4001:80b::200e", NETADDR_PUBLIC },
	/* fc00::/7 */
	{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_RESERVED },
	{ "fc00::", NETADDR_PRIVATE },
	{ "fd12:3456:789a::1", NETADDR_PRIVATE },
	{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_PRIVATE },
	{ "fe00::", NETADDR_RESERVED },
	/* fe80::/10, fec0::/10 */
	{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_RESERVED },
	{ "fe80::", NETADDR_LINK_LOCAL },
	{ "fe80::1", NETADDR_LINK_LOCAL },
	{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_LINK_LOCAL },
	{ "fec0::", NETADDR_RESERVED },
	{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_RESERVED },
	/* ff00::/8 */
	{ "ff00::", NETADDR_MULTICAST },
	{ "ff02::1", NETADDR_MULTICAST },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NETADDR_MULTICAST },
};

static socklen_t
make_v4(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(443);
	assert_int_equal(inet_pton(AF_INET, text, &sin.sin_addr), 1);
	memset(ss, 0, sizeof *ss);
	memcpy(ss, &sin, sizeof sin);
	return sizeof sin;
}

static socklen_t
make_v6(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(443);
	assert_int_equal(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
	memset(ss, 0, sizeof *ss);
	memcpy(ss, &sin6, sizeof sin6);
	return sizeof sin6;
}

static void
check_cases(const struct netaddr_case *cases, size_t n, socklen_t (*make)(const char *, struct sockaddr_storage *))
{
	size_t failures = 0;

	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		socklen_t len = make(cases[i].text, &ss);
		enum netaddr_class got = netaddr_classify((const struct sockaddr *)&ss, len);

		if (got != cases[i].c) {
			print_error("%s: got %s, want %s\n", cases[i].text, netaddr_class_name(got),
			    netaddr_class_name(cases[i].c));
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void
test_ipv4(void **state)
{
	(void)state;
	check_cases(v4_cases, sizeof v4_cases / sizeof v4_cases[0], make_v4);
}

static void
test_ipv6(void **state)
{
	(void)state;
	check_cases(v6_cases, sizeof v6_cases / sizeof v6_cases[0], make_v6);
}

static void
test_not_ip(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	socklen_t len;

	(void)state;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	assert_int_equal(netaddr_classify((const struct sockaddr *)&sun, sizeof sun), NETADDR_NOT_IP);
	assert_int_equal(netaddr_classify(NULL, 0), NETADDR_NOT_IP);
	/* A length too short for the family is not trusted. */
	len = make_v4("8.8.8.8", &ss);
	assert_int_equal(netaddr_classify((const struct sockaddr *)&ss, len - 1), NETADDR_NOT_IP);
	len = make_v6("2606:4700:4700::1111", &ss);
	assert_int_equal(netaddr_classify((const struct sockaddr *)&ss, len - 1), NETADDR_NOT_IP);
	assert_int_equal(netaddr_classify((const struct sockaddr *)&ss, len), NETADDR_PUBLIC);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(netaddr_class_name(NETADDR_PUBLIC), "a public address");
	assert_string_equal(netaddr_class_name(NETADDR_LOOPBACK), "a loopback address");
	assert_string_equal(netaddr_class_name(NETADDR_PRIVATE), "a private address");
	assert_string_equal(netaddr_class_name(NETADDR_LINK_LOCAL), "a link-local address");
	assert_string_equal(netaddr_class_name(NETADDR_MULTICAST), "a multicast address");
	assert_string_equal(netaddr_class_name(NETADDR_UNSPECIFIED), "an unspecified address");
	assert_string_equal(netaddr_class_name(NETADDR_RESERVED), "a reserved address");
	assert_string_equal(netaddr_class_name(NETADDR_NOT_IP), "not an IP address");
}

static void
test_allowed(void **state)
{
	static const struct {
		enum netaddr_class c;
		bool strict, relaxed;
	} table[] = {
		{ NETADDR_PUBLIC, true, true },
		{ NETADDR_LOOPBACK, false, true },
		{ NETADDR_PRIVATE, false, true },
		{ NETADDR_LINK_LOCAL, false, true },
		{ NETADDR_MULTICAST, false, false },
		{ NETADDR_UNSPECIFIED, false, false },
		{ NETADDR_RESERVED, false, false },
		{ NETADDR_NOT_IP, false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		assert_int_equal(netaddr_allowed(table[i].c, false), table[i].strict);
		assert_int_equal(netaddr_allowed(table[i].c, true), table[i].relaxed);
	}
}

static void
test_format(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	char text[NETADDR_TEXT_SIZE];
	socklen_t len;

	(void)state;
	len = make_v4("127.0.0.1", &ss);
	assert_true(netaddr_format((const struct sockaddr *)&ss, len, text));
	assert_string_equal(text, "127.0.0.1");
	len = make_v6("::ffff:10.0.0.1", &ss);
	assert_true(netaddr_format((const struct sockaddr *)&ss, len, text));
	assert_string_equal(text, "::ffff:10.0.0.1");
	len = make_v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &ss);
	assert_true(netaddr_format((const struct sockaddr *)&ss, len, text));
	assert_string_equal(text, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	assert_false(netaddr_format((const struct sockaddr *)&sun, sizeof sun, text));
	assert_string_equal(text, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
