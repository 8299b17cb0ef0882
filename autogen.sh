#!/bin/sh
# Regenerates the autotools files (configure, Makefile.in, ...); none of them is committed.
set -e
cd "$(dirname "$0")"
autoreconf --install --force --warnings=all
