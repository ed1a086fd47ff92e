#!/bin/bash
# The files of each applet folder are layers: no file calls into a file
# that calls it back (applets/supervise/sv.h names the layers).
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || skip_all "python3 is needed"
OUT=$(python3 scripts/layers.py applets/supervise applets/ctl 2>&1)
ok $? "no call cycle between the files of applets/supervise and applets/ctl" || diag "$OUT"
echo "$OUT" | grep -q '^sv_step.c -> ' 
ok $? "the graph names sv_step.c (the check reads the sources)" || diag "$OUT"
echo "$OUT" | grep -q '^sv_step.c -> .*sv_child.c'
ok $? "... and sees that sv_step.c calls sv_child.c" || diag "$OUT"
# the check itself finds a cycle when there is one
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
printf 'int b(void);\nint a(void)\n{\n\treturn b();\n}\n' >"$T/a.c"
printf 'int a(void);\nint b(void)\n{\n\treturn a();\n}\n' >"$T/b.c"
python3 scripts/layers.py "$T" >/dev/null 2>&1
is $? 1 "a made-up cycle (a.c <-> b.c) is found"
done_testing
