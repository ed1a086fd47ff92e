#!/bin/sh
# A pretend database: takes a moment to start, says it is ready on fd 3,
# then works until it is told to stop.
echo "db: starting up"
sleep 1
echo "db: ready" 
echo ready >&3
trap 'echo "db: SIGTERM, shutting down"; exit 0' TERM
while :; do sleep 5 & wait $!; echo "db: $(date +%T) 0 slow queries"; done
