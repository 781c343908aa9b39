#!/bin/sh
# PING health monitor for HAProxy's external-check (Octavia's
# ping-wrapper.sh): one echo request to the server, one second to answer.
case "$HAPROXY_SERVER_ADDR" in
*:*) exec /bin/ping -6 -q -n -w 1 -c 1 "$HAPROXY_SERVER_ADDR" >/dev/null 2>&1 ;;
*) exec /bin/ping -q -n -w 1 -c 1 "$HAPROXY_SERVER_ADDR" >/dev/null 2>&1 ;;
esac
