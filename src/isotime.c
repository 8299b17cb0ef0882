#include "config.h"

#include "isotime.h"

#include <stddef.h>

/* n decimal digits at *p into *out, advancing *p; false when they are not all digits. */
static bool
isotime_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool
isotime_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
static int64_t
isotime_days(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The offset after a time of day: Z, or +HH[:MM], +HHMM, -...; seconds east of UTC. */
static bool
isotime_offset(const char **p, int *seconds)
{
	int sign, h, m = 0;

	*seconds = 0;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return true;
	}
	if (**p != '+' && **p != '-')
		return **p == '\0';
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (!isotime_digits(p, 2, &h))
		return false;
	if (**p == ':') {
		(*p)++;
		if (!isotime_digits(p, 2, &m))
			return false;
	} else if (**p != '\0' && !isotime_digits(p, 2, &m)) {
		return false;
	}
	if (h > 23 || m > 59)
		return false;
	*seconds = sign * (h * 3600 + m * 60);
	return true;
}

bool
isotime_parse(const char *text, int64_t *us)
{
	static const int month_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = text;
	int y, mo, d, h = 0, mi = 0, s = 0, offset = 0;
	int64_t frac = 0;

	if (!isotime_digits(&p, 4, &y) || *p++ != '-' || !isotime_digits(&p, 2, &mo) || *p++ != '-' ||
	    !isotime_digits(&p, 2, &d))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] + (mo == 2 && isotime_leap(y)))
		return false;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!isotime_digits(&p, 2, &h) || *p++ != ':' || !isotime_digits(&p, 2, &mi))
			return false;
		if (*p == ':') {
			p++;
			if (!isotime_digits(&p, 2, &s))
				return false;
			if (*p == '.' || *p == ',') {
				int scale = 100000, n = 0;

				for (p++; *p >= '0' && *p <= '9'; p++, n++) {
					frac += (*p - '0') * scale;
					scale /= 10;
				}
				if (n == 0)
					return false;
			}
		}
		if (h > 23 || mi > 59 || s > 59 || !isotime_offset(&p, &offset))
			return false;
	}
	if (*p != '\0')
		return false;
	*us = ((isotime_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset) * 1000000) + frac;
	return true;
}
