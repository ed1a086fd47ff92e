#!/bin/sh
# Runs for a few seconds, then crashes: mls restarts it with backoff.
up=$(( $(date +%s) % 5 + 1 ))
echo "flaky: up for ${up}s, then I crash"
sleep "$up"
echo "flaky: crash!" >&2
exit 1
