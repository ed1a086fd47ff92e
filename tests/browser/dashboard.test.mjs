// The dashboard of mls httpd in a real browser: Debian's chromium, headless,
// driven by playwright-core. Starts `mls supervise` on a config of its own
// (an admin and a read-only token, a free port) and checks what docs/dashboard.md
// promises. Every wait is on a condition, with a timeout; no fixed sleep.
//
//   MLS=build/mls SCREENSHOT_DIR=docs node --test dashboard.test.mjs
//   (make test-browser does this)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const MLS = path.resolve(process.env.MLS || '../../build/mls');
const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || '../../docs');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ADMIN = 'admin-token-' + Math.random().toString(36).slice(2) + '-0123456789';
const READ = 'read-token-' + Math.random().toString(36).slice(2) + '-0123456789';
const T = 20000; // the longest any single condition may take

let dir, port, base, sv, browser, admin; // admin: a logged-in page kept across tests

// git in the test's directory: a bare repository (the upstream of the service
// `app`, deployed from git) and a work tree that pushes to it
const GIT_ENV = () => ({ ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir, GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org' });
const git = (...args) => execFileSync('git', args, { cwd: dir, env: GIT_ENV(), encoding: 'utf8' }).trim();
function commit(version) { // app.sh says its version; pushed to main; returns the commit
  fs.writeFileSync(path.join(dir, 'work', 'version.txt'), version + '\n');
  git('-C', 'work', 'add', '-A');
  git('-C', 'work', 'commit', '-qm', 'v' + version);
  git('-C', 'work', 'push', '-q', path.join(dir, 'app.git'), 'HEAD:main');
  return git('-C', 'work', 'rev-parse', 'HEAD');
}
let C1; // the first commit of app

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function until(what, fn, timeout = T) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try { if ((last = await fn())) return last; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100)); // a poll interval, not a fixed wait
  }
}

before(async () => {
  assert.ok(fs.existsSync(MLS), `no ${MLS}: build it first (make)`);
  assert.ok(fs.existsSync(CHROMIUM), `no ${CHROMIUM}: scripts/install-tools.sh browser`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mls-browser-'));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  fs.writeFileSync(path.join(dir, 'admin.token'), ADMIN + '\n', { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'read.token'), READ + '\n', { mode: 0o600 });
  // gitwatch reads the repository as nobody when the test runs as root
  fs.chmodSync(dir, 0o755);
  git('init', '-q', '--bare', '-b', 'main', 'app.git');
  git('init', '-q', '-b', 'main', 'work');
  fs.writeFileSync(path.join(dir, 'work', 'autoexec.txt'), 'app.sh\n');
  fs.writeFileSync(path.join(dir, 'work', 'app.sh'), 'echo "version $(cat version.txt)"; exec sleep 1000\n');
  C1 = commit(1);
  // say: prints each line the test drops into its inbox (the live log check)
  fs.writeFileSync(path.join(dir, 'mls.yaml'), `
state_dir: ./run
http:
  listen: 127.0.0.1:${port}
  token_file: admin.token
  read_token_file: read.token
services:
  say:
    command: ["sh", "-c", "echo say started; while :; do if [ -f inbox ]; then cat inbox; rm -f inbox; fi; sleep 0.2; done"]
    restart_backoff: {initial: 1500ms, max: 3s}
    environment:
      API_TOKEN: hunter2-secret
      DB_PASSWORD: also-secret
      GREETING: hello
  web:
    command: ["python3", "-m", "http.server", "--bind", "127.0.0.1", "\${PORT}"]
    replicas: 2
    port: auto
    healthcheck:
      http: "http://127.0.0.1:\${PORT}/"
      interval: 2s
  nightly:
    command: ["sh", "-c", "echo nightly run"]
    schedule: "0 3 * * *"
  app:
    git: {url: ${JSON.stringify(path.join(dir, 'app.git'))}, ref: main, interval: 0, verify_window: 2s}
`);
  const out = fs.openSync(path.join(dir, 'supervise.log'), 'a');
  sv = spawn(MLS, ['supervise', '-c', path.join(dir, 'mls.yaml')], { cwd: dir, stdio: ['ignore', out, out] });
  await until('mls httpd /healthz', async () => (await fetch(base + '/healthz')).status === 200);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  if (browser) await browser.close();
  if (sv && sv.exitCode === null) {
    sv.kill('SIGTERM');
    await until('mls supervise to exit', () => sv.exitCode !== null, 15000).catch(() => sv.kill('SIGKILL'));
  }
  if (process.env.KEEP_TMP !== '1' && dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function newPage(width, height) {
  const ctx = await browser.newContext({ viewport: { width, height }, colorScheme: 'light' });
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/responded with a status of 4(01|03|22)/.test(m.text())) problems.push(m.text()); });
  page.problems = problems;
  return page;
}

async function login(page, token) {
  await page.goto(base + '/');
  await page.locator('#token').waitFor({ state: 'visible', timeout: T });
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
}

const row = (page, name) => page.locator(`tr[data-instance="${name}"]`);

async function rowInfo(page, name) {
  return row(page, name).evaluate((tr) => ({
    state: tr.dataset.state, pid: tr.dataset.pid,
    restarts: Number(tr.children[5].textContent), text: tr.textContent,
  }));
}

async function waitRow(page, name, pred, what) {
  const end = Date.now() + T;
  let info;
  while (Date.now() < end) {
    if (await row(page, name).count()) {
      info = await rowInfo(page, name);
      if (pred(info)) return info;
    }
    await page.waitForTimeout(50);
  }
  throw new Error(`row ${name}: timed out waiting for ${what}; last ${JSON.stringify(info)}`);
}

test('the page: gzip, ETag and 304, CSP, no inline script', async () => {
  const r = await fetch(base + '/', { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-encoding'), 'gzip');
  assert.match(r.headers.get('content-security-policy'), /default-src 'self'/);
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  const html = await r.text();
  assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, 'no inline script');
  const r2 = await fetch(base + '/', { headers: { 'If-None-Match': etag } });
  assert.equal(r2.status, 304);
  for (const f of ['/app.js', '/style.css'])
    assert.equal((await fetch(base + f)).status, 200, f);
});

test('a wrong token is refused', async () => {
  const page = await newPage(1280, 800);
  await login(page, 'wrong-token-0123456789abcdef');
  await page.locator('#login-err', { hasText: 'Wrong token' }).waitFor({ timeout: T });
  assert.equal(await page.locator('#main').isVisible(), false);
  await page.context().close();
});

test('log in with the admin token: every instance with its state', async () => {
  admin = await newPage(1280, 800);
  await login(admin, ADMIN);
  for (const name of ['say', 'web.1', 'web.2', 'nightly', 'mls-httpd'])
    await row(admin, name).waitFor({ timeout: T });
  await waitRow(admin, 'say', (i) => i.state === 'running' && i.pid, 'say running');
  await waitRow(admin, 'web.1', (i) => i.state === 'running', 'web.1 running');
  await waitRow(admin, 'web.2', (i) => i.state === 'running', 'web.2 running');
  await waitRow(admin, 'nightly', (i) => /in \d/.test(i.text), 'the next run of nightly');
  assert.equal(await admin.locator('#conn').textContent(), 'live');
  assert.ok(await admin.locator('#restart-all').isVisible());
  // a port links to the service
  const href = await row(admin, 'web.1').locator('a').getAttribute('href');
  assert.match(href, /^http:\/\/127\.0\.0\.1:\d+\/$/);
});

test('a killed process: its row goes through backoff to running, new PID, restarts + 1, no reload', async () => {
  const page = admin;
  await page.evaluate(() => { window.__same_page = 1; });
  const before = await waitRow(page, 'say', (i) => i.state === 'running' && i.pid, 'say running');
  process.kill(Number(before.pid), 'SIGKILL');
  await waitRow(page, 'say', (i) => i.state === 'backoff', 'backoff');
  const after = await waitRow(page, 'say', (i) => i.state === 'running' && i.pid && i.pid !== before.pid &&
    i.restarts === before.restarts + 1, 'running again with a new pid and restarts + 1');
  assert.notEqual(after.pid, before.pid);
  assert.equal(await page.evaluate(() => window.__same_page), 1, 'the page was not reloaded');
  await page.locator('#feed li', { hasText: 'say crashed: killed by SIGKILL' }).waitFor({ timeout: T });
});

test('restart from its button', async () => {
  const page = admin;
  const before = await waitRow(page, 'say', (i) => i.state === 'running' && i.pid, 'say running');
  await row(page, 'say').locator('button[data-act=restart]').click();
  await page.locator('#toast', { hasText: 'restart say: done' }).waitFor({ timeout: T });
  await waitRow(page, 'say', (i) => i.state === 'running' && i.pid && i.pid !== before.pid, 'a new pid');
});

test('a git service: its revision; Deploy after a push shows the new one', async () => {
  const page = admin;
  const rev = () => row(page, 'app').evaluate((tr) => tr.dataset.revision);
  await until('app runs its first revision, deployed', async () =>
    (await rev()) === C1 && /deployed [0-9a-f]{7}/.test(await row(page, 'app').locator('.dep').textContent()));
  assert.equal(await row(page, 'app').locator('.dep').textContent(), 'deployed ' + C1.slice(0, 7));
  assert.equal(await row(page, 'app').locator('.dep').getAttribute('title'), `${C1}\nref main\n${path.join(dir, 'app.git')}`);
  // only git services have Deploy and Rollback
  assert.equal(await row(page, 'say').locator('button[data-act=deploy]').count(), 0);
  assert.equal(await row(page, 'app').locator('button[data-act=rollback]').count(), 1);
  const C2 = commit(2);
  await row(page, 'app').locator('button[data-act=deploy]').click();
  await page.locator('#toast', { hasText: 'deploy app: deployed ' + C2.slice(0, 7) }).waitFor({ timeout: T });
  await until('the row shows the new revision', async () => (await rev()) === C2 &&
    (await row(page, 'app').locator('.dep').textContent()) === 'deployed ' + C2.slice(0, 7));
  await page.locator('#feed li', { hasText: `app deployed ${C2.slice(0, 7)} (main)` }).waitFor({ timeout: T });
  await page.locator('#feed li', { hasText: 'app deploy of the configured ref requested' }).waitFor({ timeout: T });
  // Rollback: back to the first one, highlighted
  await row(page, 'app').locator('button[data-act=rollback]').click();
  await page.locator('#toast', { hasText: 'rollback app: rolled back from ' + C2.slice(0, 7) }).waitFor({ timeout: T });
  await until('the row shows the rollback', async () => (await rev()) === C1 &&
    (await row(page, 'app').locator('.dep.bad').textContent()) === `rolled back from ${C2.slice(0, 7)}: rolled back by hand`);
});

test('reload with an invalid config: its errors with file:line:col, nothing changed', async () => {
  const page = admin;
  const cfg = path.join(dir, 'mls.yaml');
  const good = fs.readFileSync(cfg, 'utf8');
  fs.writeFileSync(cfg, good.replace('replicas: 2', 'replicas: -3'));
  try {
    await page.click('#reload');
    await page.locator('#errors-list', { hasText: /mls\.yaml:\d+:\d+: error: .*replicas/ }).waitFor({ timeout: T });
  } finally {
    fs.writeFileSync(cfg, good);
  }
  await page.click('#errors-close');
  await page.click('#reload');
  await page.locator('#toast', { hasText: 'config reloaded' }).waitFor({ timeout: T });
  assert.equal(await row(page, 'web.2').count(), 1);
});

test('detail view: config with secrets masked, live log tail', async () => {
  const page = admin;
  await row(page, 'say').locator('button.link').click();
  await page.locator('#detail').waitFor({ state: 'visible', timeout: T });
  await page.locator('#log-state', { hasText: 'following' }).waitFor({ timeout: T });
  const marker = 'marker-' + Math.random().toString(36).slice(2);
  fs.writeFileSync(path.join(dir, 'inbox.tmp'), marker + '\n');
  fs.renameSync(path.join(dir, 'inbox.tmp'), path.join(dir, 'inbox'));
  await page.locator('#log', { hasText: marker }).waitFor({ timeout: T });
  // filter by text
  await page.fill('#log-filter', marker);
  await until('only the marker line', async () => (await page.locator('#log > div').count()) === 1);
  await page.fill('#log-filter', '');
  const cfg = await page.locator('#d-config').textContent();
  assert.match(cfg, /GREETING.*hello/);
  assert.doesNotMatch(cfg, /hunter2|also-secret/, 'secrets are masked');
  assert.match(cfg, /API_TOKEN/);
});

test('desktop screenshot', async () => {
  const page = admin;
  await page.evaluate(() => { location.hash = ''; });
  await page.locator('#detail').waitFor({ state: 'hidden', timeout: T });
  // a few metric samples for the sparklines
  await until('two CPU samples', () => page.evaluate(() => document.querySelectorAll('.spark polyline').length > 0), 15000);
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
  assert.deepEqual(page.problems, []);
});

test('a read-only token: no buttons, and a forged POST with its cookie gets 403', async () => {
  const page = await newPage(1280, 800);
  await login(page, READ);
  await waitRow(page, 'say', (i) => i.state === 'running', 'say running');
  assert.equal(await page.locator('button[data-act]').count(), 0);
  for (const id of ['#restart-all', '#reload', '#stop-all', '#shutdown'])
    assert.equal(await page.locator(id).isVisible(), false, id);
  assert.match(await page.locator('#role').textContent(), /read-only/);
  // the cookie, with a same-origin Origin: still 403 (the role), from the page itself too
  const r = await page.context().request.post(base + '/api/v1/services/say/restart', { headers: { Origin: base } });
  assert.equal(r.status(), 403);
  const st = await page.evaluate(async () => (await fetch('/api/v1/reload', { method: 'POST' })).status);
  assert.equal(st, 403);
  await page.context().close();
  // the admin cookie from another origin: 403 (CSRF)
  const x = await admin.context().request.post(base + '/api/v1/services/say/restart', { headers: { Origin: 'http://evil.example' } });
  assert.equal(x.status(), 403);
});

test('360 px wide: no horizontal scroll; phone screenshot; logout', async () => {
  const page = await newPage(360, 780);
  await login(page, ADMIN);
  await waitRow(page, 'say', (i) => i.state === 'running', 'say running');
  await waitRow(page, 'web.2', (i) => i.state === 'running', 'web.2 running');
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(w[0] <= w[1], `scrollWidth ${w[0]} > clientWidth ${w[1]}`);
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-phone.png'), fullPage: true });
  await page.click('#logout');
  await page.locator('#token').waitFor({ state: 'visible', timeout: T });
  await page.context().close();
});
