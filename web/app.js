/* mls dashboard: vanilla JS, no dependencies. States come live from the
 * SSE event stream (/api/v1/events); CPU and RSS from /api/v1/status every
 * POLL_MS (events do not carry them). docs/dashboard.md */
'use strict';

const POLL_MS = 5000;          /* status read for the metrics */
const SPARK_N = 120;           /* samples kept: 10 minutes at POLL_MS */
const FEED_MAX = 200;          /* event feed entries */
const LOG_MAX = 5000;          /* log lines kept in the page */
const SELF = 'mls-httpd';      /* the API itself: no buttons on it */

const $ = (id) => document.getElementById(id);
const S = {
  login: false, role: null, allow: [],
  inst: new Map(),             /* "svc.N" -> instance (status fields) */
  order: [],                   /* keys in config order */
  rows: new Map(),             /* key -> {tr, cells}; "svc" -> group row */
  spark: new Map(),            /* key -> {cpu: [], rss: []} */
  collapsed: new Set(load('mls.collapsed', [])),
  es: null, lastSeq: 0, retry: 0, timers: [],
  refreshTimer: 0, refreshing: null,
  detail: null, logES: null, log: [], paused: false,
};

function load(k, d) { try { return JSON.parse(localStorage.getItem(k)) || d; } catch (e) { return d; } }
function save(k, v) { try { localStorage.setItem(k, JSON.stringify(v)); } catch (e) { /* private mode */ } }

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
}

/* ------------------------------------------------------------ format */

function dur(s) {
  if (s == null || s < 0) return '';
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), x = s % 60;
  const p = (n) => String(n).padStart(2, '0');
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${p(m)}m`;
  if (m) return `${m}m ${p(x)}s`;
  return `${x}s`;
}
function bytes(n) {
  if (n == null) return '';
  if (n < 1024) return n + ' B';
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return (n < 10 ? n.toFixed(1) : Math.round(n)) + ' ' + u[i];
}
function clock(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour12: false });
}
function when(ms) { return new Date(ms).toLocaleString([], { hour12: false }); }
const key = (svc, n) => svc + '.' + n;
/* a service of one instance goes by the service's name */
function label(svc, n) {
  let count = 0;
  for (const i of S.inst.values()) if (i.service === svc) count++;
  return count > 1 ? svc + '.' + n : svc;
}
const hasProc = (st) => st === 'starting' || st === 'running' || st === 'stopping';

/* --------------------------------------------------------------- API */

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  let r;
  try { r = await fetch(path, opt); } catch (e) {
    return { status: 0, json: { ok: false, error: 'the server is not reachable' } };
  }
  let json = null;
  try { json = await r.json(); } catch (e) { json = { ok: false, error: `HTTP ${r.status}` }; }
  if (r.status === 401 && path !== '/api/v1/login') expired();
  return { status: r.status, json };
}

function expired() {
  if (!S.login) return;
  S.role = null;
  stop();
  showLogin('Your session has ended: log in again.');
}

/* ------------------------------------------------------------ session */

async function boot() {
  const r = await api('GET', '/api/v1/session');
  if (r.status !== 200) {
    setConn('lost', 'the server is not reachable, retrying…');
    setTimeout(boot, 3000);
    return;
  }
  S.login = r.json.login;
  S.role = r.json.role;
  S.allow = r.json.allow || [];
  if (S.login && !S.role) showLogin('');
  else start();
}

function showLogin(msg) {
  $('main').hidden = true;
  $('globals').hidden = true;
  $('login').hidden = false;
  $('login-err').textContent = msg || '';
  setConn('', 'not logged in');
  $('token').focus();
}

async function login(ev) {
  ev.preventDefault();
  const btn = ev.submitter || ev.target.querySelector('button');
  btn.disabled = true;
  const r = await api('POST', '/api/v1/login', { token: $('token').value });
  btn.disabled = false;
  if (r.status === 200) {
    $('token').value = '';
    $('login').hidden = true;
    boot();
    return;
  }
  $('login-err').textContent = r.status === 401 ? 'Wrong token.' :
    r.status === 429 ? 'Too many failed attempts: wait a minute.' : (r.json.error || `HTTP ${r.status}`);
  $('token').select();
}

async function logout() {
  await api('POST', '/api/v1/logout');
  S.role = null;
  stop();
  showLogin('Logged out.');
}

function can(what) { return S.role === 'admin' && S.allow.includes(what); }

function start() {
  $('login').hidden = true;
  $('main').hidden = false;
  $('globals').hidden = false;
  $('role').textContent = S.role === 'admin' ? 'admin' : S.login ? 'read-only' : 'read-only (no token configured)';
  $('logout').hidden = !S.login;
  for (const b of document.querySelectorAll('[data-admin]')) b.hidden = !can(b.dataset.admin);
  S.rows.clear();
  S.order = [];
  connect();
  refresh(true);
  S.timers.push(setInterval(() => { if (!document.hidden) refresh(true); }, POLL_MS));
  S.timers.push(setInterval(tick, 1000));
  route();
}

function stop() {
  if (S.es) S.es.close();
  S.es = null;
  closeLog();
  S.timers.forEach(clearInterval);
  S.timers = [];
}

/* -------------------------------------------------------- the stream */

function setConn(cls, text) {
  const c = $('conn');
  c.className = 'conn ' + cls;
  c.textContent = text;
}

const EVENTS = ['state', 'exit', 'reload', 'healthy', 'unhealthy', 'health_restart', 'shutdown',
  'deploy_request', 'rollback_request', 'pre_deploy', 'deployed', 'up_to_date', 'rolled_back', 'deploy_failed', 'config_rejected'];

function connect() {
  if (S.es) S.es.close();
  const es = new EventSource('/api/v1/events' + (S.lastSeq ? '?last_event_id=' + S.lastSeq : ''));
  S.es = es;
  es.addEventListener('hello', () => {
    S.retry = 0;
    setConn('live', 'live');
    refresh(false);
  });
  es.addEventListener('gap', () => {
    feedAdd(Date.now(), 'warn', 'events were lost while disconnected: status reloaded');
    refresh(false);
  });
  for (const t of EVENTS)
    es.addEventListener(t, (e) => {
      if (e.lastEventId) S.lastSeq = Number(e.lastEventId);
      let ev;
      try { ev = JSON.parse(e.data); } catch (x) { return; }
      onEvent(t, ev);
    });
  es.onerror = () => {
    if (S.es !== es) return;
    setConn('lost', 'connection lost, reconnecting…');
    if (es.readyState === EventSource.CLOSED) {
      /* refused (401 after an httpd restart, 503): ask who we are, then retry */
      const wait = Math.min(10000, 1000 * 2 ** S.retry++);
      setTimeout(async () => {
        if (S.es !== es) return;
        const r = await api('GET', '/api/v1/session');
        if (r.status === 200 && r.json.login && !r.json.role) expired();
        else if (S.es === es) connect();
      }, wait);
    }
  };
}

function onEvent(t, ev) {
  const i = ev.service != null ? S.inst.get(key(ev.service, ev.instance)) : null;
  const who = ev.service == null ? '' : label(ev.service, ev.instance);
  if (ev.service != null && !i) scheduleRefresh(); /* a new service (reload) */
  switch (t) {
  case 'state': {
    const prev = i ? i.state : null;
    if (i) {
      i.state = ev.state;
      i.reason = ev.reason;
      if (ev.pid !== i.pid) {
        i.pid = ev.pid;
        i.startedAt = ev.pid ? Date.now() : null;
      }
      if (!hasProc(ev.state)) { i.pid = null; i.startedAt = null; i.cpu_percent = null; i.rss_bytes = null; }
      if (prev === 'backoff' && hasProc(ev.state)) i.restarts = (i.restarts || 0) + 1;
      if (ev.state !== 'running') i.note = null;
      updateInst(i);
    }
    if (ev.state === 'running')
      feedAdd(ev.time, 'ok', `${who} ${prev === 'backoff' ? 'restarted' : 'running'}${ev.pid ? ' (pid ' + ev.pid + ')' : ''}`);
    else if (ev.state === 'backoff')
      feedAdd(ev.time, 'warn', `${who} backoff${ev.reason ? ': ' + ev.reason : ''}`);
    else if (ev.state === 'failed')
      feedAdd(ev.time, 'bad', `${who} failed${ev.reason ? ': ' + ev.reason : ''}`);
    else if (ev.state === 'stopped' || ev.state === 'exited')
      feedAdd(ev.time, '', `${who} ${ev.state}`);
    if (!hasProc(ev.state) || ev.state === 'running') scheduleRefresh();
    break;
  }
  case 'exit': {
    if (i) { i.exit_code = ev.exit_code; i.signal = ev.signal; }
    const how = ev.signal ? 'killed by ' + ev.signal : 'exited with status ' + ev.exit_code;
    const crash = (ev.signal || ev.exit_code) && !(i && i.state === 'stopping');
    feedAdd(ev.time, crash ? 'bad' : '', `${who} ${crash ? 'crashed: ' : ''}${how} after ${dur(ev.uptime_ms / 1000) || '0s'}`);
    break;
  }
  case 'healthy':
  case 'unhealthy':
    if (i) { i.health = t; i.health_message = ev.message; updateInst(i); }
    feedAdd(ev.time, t === 'healthy' ? 'ok' : 'bad', `${who} ${t}${ev.message ? ': ' + ev.message : ''}`);
    break;
  case 'health_restart':
    feedAdd(ev.time, 'warn', `${who} restarted for its health${ev.message ? ': ' + ev.message : ''}`);
    break;
  case 'reload':
    if (ev.ok) {
      const parts = ['added', 'changed', 'removed'].filter((k) => ev[k] && ev[k].length).map((k) => `${k} ${ev[k].join(', ')}`);
      feedAdd(ev.time, 'ok', 'config reloaded' + (parts.length ? ': ' + parts.join('; ') : ': nothing changed'));
      scheduleRefresh();
    } else
      feedAdd(ev.time, 'bad', `reload refused: ${(ev.errors || []).length} error(s) in the config`);
    break;
  case 'shutdown':
    feedAdd(ev.time, 'bad', 'the supervisor is shutting down');
    break;
  default: { /* deploys from git (docs/git-deploy.md): service-level */
    const sha = (x) => (x ? x.slice(0, 7) : '?'), m = ev.message ? ': ' + ev.message : '';
    const d = {
      deploy_request: ['', `deploy of ${ev.ref || 'the configured ref'} requested`],
      rollback_request: ['', 'rollback requested'],
      pre_deploy: [ev.ok ? '' : 'bad', `pre_deploy of ${sha(ev.revision)} ${ev.ok ? 'ok' : 'failed' + m}`],
      deployed: ['ok', `deployed ${sha(ev.revision)}${ev.ref ? ' (' + ev.ref + ')' : ''}`],
      up_to_date: ['', `up to date (${sha(ev.revision)})${m}`],
      rolled_back: ['bad', `rolled back from ${sha(ev.from)} to ${sha(ev.revision)}${m}`],
      deploy_failed: ['bad', `deploy failed${m}`],
      config_rejected: ['bad', `config from git ${sha(ev.revision)} rejected: ${(ev.errors || []).length} error(s), nothing changed`],
    }[t];
    if (d) feedAdd(ev.time, d[0], (ev.service ? ev.service + ' ' : '') + d[1]);
    scheduleRefresh();
  }
  }
}

/* ------------------------------------------------------------ status */

function scheduleRefresh() {
  if (S.refreshTimer) return;
  S.refreshTimer = setTimeout(() => { S.refreshTimer = 0; refresh(false); }, 300);
}

async function refresh(sample) {
  const r = await api('GET', '/api/v1/status');
  if (r.status !== 200 || !r.json.services) return;
  const now = Date.now();
  const order = [];
  const seen = new Set();
  for (const s of r.json.services) {
    const k = key(s.name, s.instance);
    let i = S.inst.get(k);
    if (!i) { i = { key: k }; S.inst.set(k, i); }
    const started = s.uptime_s != null ? now - s.uptime_s * 1000 : null;
    const keep = i.startedAt && s.pid === i.pid && started && Math.abs(started - i.startedAt) < 2000;
    Object.assign(i, s, { service: s.name, startedAt: keep ? i.startedAt : started });
    order.push(k);
    seen.add(k);
    if (sample) {
      let sp = S.spark.get(k);
      if (!sp) S.spark.set(k, sp = { cpu: [], rss: [] });
      sp.cpu.push(s.cpu_percent);
      sp.rss.push(s.rss_bytes);
      if (sp.cpu.length > SPARK_N) { sp.cpu.shift(); sp.rss.shift(); }
    }
  }
  for (const k of [...S.inst.keys()]) if (!seen.has(k)) { S.inst.delete(k); S.spark.delete(k); }
  $('host').textContent = location.host;
  if (order.join('\n') !== S.order.join('\n')) {
    S.order = order;
    build();
  } else
    for (const k of order) updateInst(S.inst.get(k), true);
  if (S.detail) fillInstSelect();
}

/* ------------------------------------------------------------- table */

function services() {
  const m = new Map();
  for (const k of S.order) {
    const i = S.inst.get(k);
    if (!m.has(i.service)) m.set(i.service, []);
    m.get(i.service).push(i);
  }
  return m;
}

const COLS = ['Name', 'State', 'PID', 'Port', 'Uptime', 'Restarts', 'Health', 'CPU', 'RSS', 'Next run', 'Actions'];

function actButtons(target, label, git) {
  if (S.role !== 'admin' || target.split('.')[0] === SELF) return null;
  const box = el('div', { class: 'acts' });
  for (const a of ['start', 'stop', 'restart', 'deploy', 'rollback'])
    if (can(a) && (git || (a !== 'deploy' && a !== 'rollback')))
      box.append(el('button', {
        type: 'button', 'data-act': a, 'aria-label': `${a} ${label}`, text: a[0].toUpperCase() + a.slice(1),
        onclick: (e) => act(e.currentTarget, `/api/v1/services/${target}/${a}`, `${a} ${label}`),
      }));
  return box;
}

function detailLink(svc, text) {
  return el('button', { type: 'button', class: 'link', text, title: `details of ${svc}`,
    onclick: () => { location.hash = '#/s/' + encodeURIComponent(svc); } });
}

function build() {
  const tb = $('rows');
  tb.textContent = '';
  S.rows.clear();
  for (const [svc, list] of services()) {
    const multi = list.length > 1;
    if (multi) {
      const open = !S.collapsed.has(svc);
      const tg = el('button', { type: 'button', class: 'toggle', 'aria-expanded': String(open),
        'aria-label': `${open ? 'collapse' : 'expand'} ${svc}`, text: open ? '▾' : '▸',
        onclick: () => {
          open ? S.collapsed.add(svc) : S.collapsed.delete(svc);
          save('mls.collapsed', [...S.collapsed]);
          build();
          S.rows.get(svc).tr.querySelector('.toggle').focus();
        } });
      const cells = COLS.map((c) => el('td', { 'data-label': c }));
      cells[0].append(tg, detailLink(svc, svc), el('span', { class: 'muted', text: ` ×${list.length}` }));
      const a = actButtons(svc, svc, !!list[0].git);
      if (a) cells[10].append(a);
      const tr = el('tr', { class: 'group', 'data-service': svc }, ...cells);
      tb.append(tr);
      S.rows.set(svc, { tr, cells, group: true });
      if (!open) { updateGroup(svc); continue; }
    }
    for (const i of list) {
      const cells = COLS.map((c) => el('td', { 'data-label': c }));
      const name = multi ? `${svc}.${i.instance}` : svc;
      cells[0].append(multi ? el('span', { text: name }) : detailLink(svc, svc));
      const a = actButtons(multi ? name : svc, name, !multi && !!i.git);
      if (a) cells[10].append(a);
      for (const n of [2, 4, 5]) cells[n].classList.add('num');
      const tr = el('tr', { class: multi ? 'child' : 'single', 'data-instance': name, 'data-service': svc }, ...cells);
      tb.append(tr);
      S.rows.set(i.key, { tr, cells });
      updateInst(i, true);
    }
    if (multi) updateGroup(svc);
  }
}

function setCell(td, content, empty) {
  td.textContent = '';
  if (content != null) td.append(content);
  td.classList.toggle('empty', !!empty);
}

function badge(cls, text, title) { return el('span', { class: cls, text, title }); }

function spark(values, cls, fmt) {
  const v = values || [];
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 64 18');
  svg.setAttribute('aria-hidden', 'true');
  const nums = v.filter((x) => x != null);
  if (nums.length > 1) {
    const max = Math.max(...nums, cls === 'cpu' ? 1 : 1024), min = cls === 'cpu' ? 0 : Math.min(...nums) * 0.9;
    const pts = [];
    v.forEach((x, k) => {
      if (x == null) return;
      const px = 64 - (v.length - 1 - k) * (64 / (Math.max(v.length, 8) - 1));
      const py = 17 - ((x - min) / (max - min || 1)) * 16;
      pts.push(px.toFixed(1) + ',' + py.toFixed(1));
    });
    const pl = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    pl.setAttribute('points', pts.join(' '));
    pl.setAttribute('class', cls);
    svg.append(pl);
  }
  const last = nums.length ? nums[nums.length - 1] : null;
  const title = nums.length > 1 ? `last 10 min: min ${fmt(Math.min(...nums))}, max ${fmt(Math.max(...nums))}` : null;
  return el('span', { class: 'spark', title }, el('span', { text: last == null ? '' : fmt(last) }), svg);
}

const pct = (x) => (x == null ? '' : x.toFixed(1) + ' %');

function updateInst(i, noGroup) {
  const row = S.rows.get(i.key);
  if (row) {
    const c = row.cells;
    const st = el('span', {}, badge('st st-' + i.state, i.state));
    const why = i.reason || i.note;
    if (why) st.append(el('span', { class: 'why', text: why }));
    if (i.deploy) { /* a service deployed from git: its phase and revision */
      const g = i.git || {}, bad = g.phase === 'rolled_back' || g.phase === 'failed';
      st.append(el('span', { class: 'dep' + (bad ? ' bad' : ''), text: i.deploy,
        title: [i.revision, g.ref && 'ref ' + g.ref, g.url].filter(Boolean).join('\n') || null }));
    }
    setCell(c[1], st);
    setCell(c[2], i.pid != null ? String(i.pid) : '', i.pid == null);
    setCell(c[3], i.port ? el('a', { href: `http://${location.hostname}:${i.port}/`, rel: 'noopener', target: '_blank', text: String(i.port) }) : '', !i.port);
    setCell(c[5], String(i.restarts || 0));
    setCell(c[6], i.health ? badge('h-' + i.health, i.health, i.health_message || null) : '', !i.health);
    const sp = S.spark.get(i.key) || {};
    setCell(c[7], hasProc(i.state) ? spark(sp.cpu, 'cpu', pct) : '', !hasProc(i.state));
    setCell(c[8], hasProc(i.state) ? spark(sp.rss, 'rss', bytes) : '', !hasProc(i.state));
    c[4].classList.toggle('empty', !i.startedAt);
    c[9].classList.toggle('empty', !i.next_run);
    if (!c[10].firstChild) c[10].classList.add('empty');
    tickRow(i, c);
    row.tr.dataset.state = i.state;
    row.tr.dataset.pid = i.pid || '';
    if (i.git) row.tr.dataset.revision = i.revision || '';
  }
  if (!noGroup) updateGroup(i.service);
}

function tickRow(i, c) {
  c[4].textContent = i.startedAt ? dur((Date.now() - i.startedAt) / 1000) : '';
  if (i.next_run) {
    const s = i.next_run - Date.now() / 1000;
    c[9].textContent = s > 0 ? 'in ' + dur(s) : 'now';
    c[9].title = when(i.next_run * 1000);
  } else c[9].textContent = '';
}

function updateGroup(svc) {
  const row = S.rows.get(svc);
  if (!row || !row.group) return;
  const list = S.order.map((k) => S.inst.get(k)).filter((i) => i.service === svc);
  const by = {};
  for (const i of list) by[i.state] = (by[i.state] || 0) + 1;
  const st = el('span', {});
  for (const [s, n] of Object.entries(by)) st.append(badge('st st-' + s, `${n} ${s}`), ' ');
  setCell(row.cells[1], st);
  setCell(row.cells[5], String(list.reduce((a, i) => a + (i.restarts || 0), 0)));
  const hs = list.map((i) => i.health).filter(Boolean);
  const h = hs.includes('unhealthy') ? 'unhealthy' : hs.includes('starting') ? 'starting' : hs.length ? 'healthy' : null;
  setCell(row.cells[6], h ? badge('h-' + h, h) : '', !h);
  const cpu = list.reduce((a, i) => a + (i.cpu_percent || 0), 0), rss = list.reduce((a, i) => a + (i.rss_bytes || 0), 0);
  setCell(row.cells[7], rss ? pct(cpu) : '', !rss);
  setCell(row.cells[8], rss ? bytes(rss) : '', !rss);
  for (const n of [2, 3, 4, 9]) row.cells[n].classList.add('empty');
  if (!row.cells[10].firstChild) row.cells[10].classList.add('empty');
}

function tick() {
  for (const k of S.order) {
    const row = S.rows.get(k);
    if (row) tickRow(S.inst.get(k), row.cells);
  }
}

/* ----------------------------------------------------------- actions */

let toastTimer = 0;
function toast(text, bad) {
  const t = $('toast');
  t.hidden = false;
  t.textContent = text;
  t.className = 'toast' + (bad ? ' bad' : '');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, bad ? 15000 : 6000);
}

function summary(r) {
  const list = (r.json.instances || []).map((i) => `${i.name} ${i.state}${i.pid ? ' (pid ' + i.pid + ')' : ''}${i.reason && i.state !== 'running' ? ': ' + i.reason : ''}`);
  return list.join(', ');
}

async function act(btn, path, label) {
  const old = btn.textContent;
  btn.disabled = true;
  btn.textContent = old + '…';
  toast(label + '…');
  const r = await api('POST', path);
  btn.disabled = false;
  btn.textContent = old;
  if (r.json.result) /* deploy, rollback: the outcome (docs/api.md) */
    toast(`${label}: ${r.json.error || r.json.message || r.json.result.replace('_', ' ') + ' ' + (r.json.revision || '').slice(0, 7)}`, r.status !== 200);
  else if (r.status === 200) toast(`${label}: done${summary(r) ? ' — ' + summary(r) : ''}`);
  else toast(`${label}: ${r.json.error || 'HTTP ' + r.status}${summary(r) ? ' — ' + summary(r) : ''}`, true);
  return r;
}

async function reload(e) {
  $('errors').hidden = true;
  const r = await act(e.currentTarget, '/api/v1/reload', 'reload config');
  if (r.status === 422) {
    $('errors-list').textContent = (r.json.errors || []).join('\n');
    $('errors').hidden = false;
    $('errors-close').focus();
  } else if (r.status === 200) {
    const j = r.json;
    const parts = ['added', 'changed', 'removed'].filter((k) => j[k] && j[k].length).map((k) => `${k}: ${j[k].join(', ')}`);
    toast('config reloaded' + (parts.length ? ' — ' + parts.join('; ') : ': nothing changed'));
  }
}

async function stopAll(e) {
  const svcs = [...services().keys()].filter((s) => s !== SELF);
  if (!confirm(`Stop every service (${svcs.join(', ')})? The API (${SELF}) stays up.`)) return;
  const btn = e.currentTarget;
  btn.disabled = true;
  toast('stopping every service…');
  const rs = await Promise.all(svcs.map((s) => api('POST', `/api/v1/services/${s}/stop`)));
  btn.disabled = false;
  const bad = rs.map((r, k) => (r.status === 200 ? null : `${svcs[k]}: ${r.json.error}`)).filter(Boolean);
  toast(bad.length ? 'stop all: ' + bad.join('; ') : 'every service stopped', bad.length > 0);
}

async function shutdown(e) {
  if (!confirm('Shut the supervisor down? Every service stops, and this page with it.')) return;
  await act(e.currentTarget, '/api/v1/shutdown', 'shutdown');
}

/* ------------------------------------------------------------ detail */

function route() {
  const m = /^#\/s\/(.+)$/.exec(location.hash);
  if (m && S.role) openDetail(decodeURIComponent(m[1]));
  else closeDetail();
}

function closeDetail() {
  closeLog();
  S.detail = null;
  $('detail').hidden = true;
}

function closeLog() {
  if (S.logES) S.logES.close();
  S.logES = null;
}

function table(heads, rows) {
  return el('table', {}, el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { text: h })))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((x) => el('td', { text: x == null ? '' : String(x) }))))));
}

/* the config as a YAML-ish text, keys in the order given */
function yaml(v, ind) {
  ind = ind || '';
  if (Array.isArray(v)) {
    if (!v.length) return ' []';
    if (v.every((x) => typeof x !== 'object' || x === null)) return ' [' + v.map((x) => JSON.stringify(x)).join(', ') + ']';
    return v.map((x) => '\n' + ind + '-' + yaml(x, ind + '  ').replace(/^\n\s*/, ' ')).join('');
  }
  if (v && typeof v === 'object')
    return Object.entries(v).filter(([, x]) => x != null).map(([k, x]) => '\n' + ind + k + ':' + yaml(x, ind + '  ')).join('');
  return ' ' + (typeof v === 'string' ? JSON.stringify(v) : String(v));
}

async function openDetail(svc) {
  if (S.detail !== svc) {
    closeLog();
    S.detail = svc;
    S.log = [];
    $('log').textContent = '';
    $('log-filter').value = '';
    $('log-inst').value = '';
  }
  const d = $('detail');
  d.hidden = false;
  $('detail-h').textContent = svc;
  const acts = $('detail-acts');
  acts.textContent = '';
  const a = actButtons(svc, svc);
  if (a) acts.append(a);
  fillInstSelect();
  d.scrollIntoView({ block: 'start' });
  $('detail-close').focus();
  openLog(svc);
  const [r, c] = await Promise.all([api('GET', '/api/v1/services/' + encodeURIComponent(svc)),
    api('GET', '/api/v1/services/' + encodeURIComponent(svc) + '/config')]);
  if (S.detail !== svc) return;
  $('d-config').textContent = c.status === 200 && c.json.config ? yaml(c.json.config).trim() :
    `not available (${c.json.error || 'HTTP ' + c.status})`;
  const h = $('d-health');
  h.textContent = '';
  const hs = (r.json.health || []).filter((x) => x.health);
  if (!hs.length) h.append(el('p', { class: 'muted', text: 'no health check' }));
  for (const x of hs) {
    h.append(el('p', {}, el('strong', { text: x.name + ' ' }), badge('h-' + x.health, x.health),
      ` ${x.failures} failure(s) in a row`));
    h.append(table(['time', 'ms', 'ok', 'message'], (x.results || []).slice().reverse()
      .map((t) => [clock(t.time), t.duration_ms, t.ok ? 'yes' : 'no', t.message])));
  }
  const hi = $('d-history');
  hi.textContent = '';
  const ex = (r.json.history || []).slice().reverse();
  if (!ex.length) hi.append(el('p', { class: 'muted', text: 'no exit yet' }));
  else hi.append(table(['time', 'instance', 'pid', 'exit', 'uptime', 'restarts'], ex.map((x) =>
    [when(x.time), x.instance, x.pid, x.signal || (x.exit_code == null ? '' : 'status ' + x.exit_code), dur(x.uptime_ms / 1000), x.restarts])));
}

function fillInstSelect() {
  const sel = $('log-inst');
  const cur = sel.value;
  const names = S.order.map((k) => S.inst.get(k)).filter((i) => i.service === S.detail).map((i) => `${i.service}.${i.instance}`);
  const have = [...sel.options].slice(1).map((o) => o.value);
  if (have.join() === names.join()) return;
  sel.length = 1;
  for (const n of names) sel.append(el('option', { value: n, text: n }));
  sel.value = names.includes(cur) ? cur : '';
}

function openLog(svc) {
  if (S.logES) return;
  const es = new EventSource(`/api/v1/services/${encodeURIComponent(svc)}/logs?follow=1&n=200`);
  S.logES = es;
  es.onopen = () => {
    /* a new stream starts with the last lines again */
    S.log = [];
    $('log').textContent = '';
    $('log-state').textContent = 'following';
  };
  es.addEventListener('log', (e) => {
    let l;
    try { l = JSON.parse(e.data); } catch (x) { return; }
    S.log.push(l);
    if (S.log.length > LOG_MAX) S.log.splice(0, S.log.length - LOG_MAX);
    if (!S.paused && match(l)) appendLog([l]);
  });
  es.onerror = () => {
    if (S.logES === es) $('log-state').textContent = 'log stream lost, reconnecting…';
  };
}

function match(l) {
  const f = $('log-filter').value.toLowerCase(), n = $('log-inst').value;
  return (!n || l.instance === n) && (!f || l.line.toLowerCase().includes(f));
}

function appendLog(lines) {
  const pre = $('log');
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
  const frag = document.createDocumentFragment();
  for (const l of lines)
    frag.append(el('div', {}, el('span', { class: 't', text: (l.time || '').slice(11, 23) + ' ' }),
      el('span', { class: 'i', text: l.instance + ' ' }), l.line));
  pre.append(frag);
  while (pre.childNodes.length > LOG_MAX) pre.firstChild.remove();
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

function relog() {
  $('log').textContent = '';
  appendLog(S.log.filter(match));
}

async function downloadLog() {
  const n = Math.max(1, Math.min(100000, Number($('log-n').value) || 1000));
  const r = await api('GET', `/api/v1/services/${encodeURIComponent(S.detail)}/logs?n=${n}`);
  if (r.status !== 200) { toast('download: ' + (r.json.error || 'HTTP ' + r.status), true); return; }
  const text = r.json.lines.map((l) => `${l.time} ${l.instance} ${l.line}\n`).join('');
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = el('a', { href: url, download: `${S.detail}.log` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/* -------------------------------------------------------------- feed */

function feedAdd(ms, cls, text) {
  const f = $('feed');
  f.prepend(el('li', { class: cls }, el('time', { datetime: new Date(ms).toISOString(), text: clock(ms) }), el('span', { text })));
  while (f.children.length > FEED_MAX) f.lastChild.remove();
}

/* -------------------------------------------------------------- wire */

document.addEventListener('DOMContentLoaded', () => {
  $('host').textContent = location.host;
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('restart-all').addEventListener('click', (e) => act(e.currentTarget, '/api/v1/services/all/restart', 'restart all'));
  $('reload').addEventListener('click', reload);
  $('stop-all').addEventListener('click', stopAll);
  $('shutdown').addEventListener('click', shutdown);
  $('errors-close').addEventListener('click', () => { $('errors').hidden = true; });
  $('detail-close').addEventListener('click', () => { location.hash = ''; });
  $('log-pause').addEventListener('click', (e) => {
    S.paused = !S.paused;
    e.currentTarget.textContent = S.paused ? 'Resume' : 'Pause';
    e.currentTarget.setAttribute('aria-pressed', String(S.paused));
    $('log-state').textContent = S.paused ? 'paused (lines are kept)' : 'following';
    if (!S.paused) relog();
  });
  $('log-filter').addEventListener('input', relog);
  $('log-inst').addEventListener('change', relog);
  $('log-dl').addEventListener('click', downloadLog);
  window.addEventListener('hashchange', route);
  boot();
});
