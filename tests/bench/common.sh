# Shared by the benchmarks (tests/bench/run, tests/bench/api): sourced from the top of the tree.
# shellcheck shell=bash

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

field() { # LINE KEY: the value of KEY=value in a RESULT line
    printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# bench_site LISTEN SOCKET ACCESS_LOG NAME: the production site file for a baseline responder on
# SOCKET, so that nginx does the same work for it as for the daemon (regex location, FastCGI
# parameters, access log); only the listener, socket, log and the names of upstream and log
# format (NAME, which must be unique in the nginx) differ.
bench_site() {
    sed -e "s|@LISTEN@|$1|g" -e "s|@SOCKET@|$2|g" -e "s|@ACCESS_LOG@|$3|g" \
        -e "s/\bwebhookd\b\([;{ ]\)/$4\1/g" deploy/nginx/webhookd.conf
}

# run_wrk SCRIPT URL SECONDS [CONNECTIONS]: the RESULT fields of one wrk run on loopback, 2 threads
# (WRK_* variables of the environment reach the script).
run_wrk() {
    wrk -t2 -c"${4:-64}" -d"${3}s" --timeout 5s -s "tests/load/$1" "$2" | sed -n 's/^RESULT //p'
}

# median_result RUNS: of newline-separated RESULT lines, the median one by requests/s, followed by
# all_non2xx and all_socket_errors, counted over every run (not just the median one).
median_result() {
    local median bad socket_errors
    median=$(printf '%s' "$1" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^rps=/) print substr($i, 5), $0 }' |
        sort -n | awk '{ lines[NR] = $0 } END { m = lines[int((NR + 1) / 2)]; sub(/^[^ ]* /, "", m); print m }')
    bad=$(printf '%s' "$1" | tr ' ' '\n' | awk -F= '$1 == "non2xx" { n += $2 } END { print n + 0 }')
    socket_errors=$(printf '%s' "$1" | tr ' ' '\n' |
        awk -F= '$1 ~ /^(connect|read|write|timeout)$/ { n += $2 } END { print n + 0 }')
    printf '%s all_non2xx=%s all_socket_errors=%s\n' "$median" "$bad" "$socket_errors"
}
