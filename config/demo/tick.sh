#!/bin/sh
# A cron job: runs once a minute, takes a moment, exits 0.
echo "tick: $(date +%T) cleaning up"
sleep 1
echo "tick: done"
