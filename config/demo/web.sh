#!/bin/sh
# A pretend web server on $PORT (given by mls: port: auto).
echo "$GREETING: listening on port $PORT"
trap 'echo "web $MLS_INSTANCE: bye"; exit 0' TERM
n=0
while :; do sleep 3 & wait $!; n=$((n + 1)); echo "web $MLS_INSTANCE: $n requests served"; done
