#!/bin/sh
# make demo's git repository: build/demo-app.git (bare, what the demo's
# `site` service follows) and build/demo-app (a clone to commit and push
# from). Made once; kept across runs.
set -e
cd "$(dirname "$0")/.."
[ -d build/demo-app.git ] && exit 0
rm -rf build/demo-app build/demo-app.tmp
mkdir -p build/demo-app.tmp
cd build/demo-app.tmp
git init -q -b main
git config user.email demo@mls.invalid
git config user.name "mls demo"
printf '# the entry point (AutoExec convention): mls runs it with sh\napp.sh\n' > autoexec.txt
cat > app.sh <<'APP'
# Edit me, commit and push (git push): mls deploys the new commit, and
# rolls back a commit that crashes (try: exit 1).
echo "site: revision ${GIT_REVISION} from ${GIT_REF} is up"
while :; do echo "site: serving revision $(echo "$GIT_REVISION" | cut -c1-7)"; sleep 10; done
APP
git add -A
git commit -q -m "first revision"
cd ..
git clone -q --bare demo-app.tmp demo-app.git
mv demo-app.tmp demo-app
git -C demo-app remote add origin "$PWD/demo-app.git"
git -C demo-app fetch -q origin
git -C demo-app branch -q -u origin/main main
