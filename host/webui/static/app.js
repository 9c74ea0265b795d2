// Arbalest web UI: a single page over the scheduler's REST API (/api).
// Plain JavaScript, no dependencies. Every value that comes from the
// server is escaped (esc) before it reaches innerHTML: queries, plans and
// errors are user text.
'use strict';

const REFRESH_MS = 2000;
const TOKEN_KEY = 'arbalest.token';

const ui = {
  route: null,       // {view, job, stage}
  task: null,        // selected task partition on the job page
  cache: null,       // {job, jobInfo, stage, stageInfo} of the job page
  busy: false,       // a refresh is in flight
  again: false,      // another refresh was asked for meanwhile
  tokenRefused: false,
};

// ---- helpers ----

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
}

function fmtInt(n) { return Number(n || 0).toLocaleString('en-US'); }

function fmtBytes(n) {
  n = Number(n || 0);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)) + ' ' + units[i];
}

function fmtMs(ms) {
  ms = Number(ms || 0);
  if (ms < 1000) return ms + ' ms';
  const s = ms / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + String(Math.floor(s % 60)).padStart(2, '0') + 's';
  return Math.floor(m / 60) + 'h ' + String(m % 60).padStart(2, '0') + 'm';
}

function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const p = (x) => String(x).padStart(2, '0');
  const today = new Date().toDateString() === d.toDateString();
  const hms = p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  return today ? hms : d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + hms;
}

function truncate(s, n) {
  s = String(s ?? '');
  return s.length <= n ? s : s.slice(0, Math.max(0, n - 1)) + '…';
}

function terminal(state) { return state === 'succeeded' || state === 'failed' || state === 'cancelled'; }

function badge(state) { return '<span class="badge ' + esc(state) + '">' + esc(state) + '</span>'; }

// bar is a progress bar: done and running fractions of a total, drawn as
// SVG (the page's Content-Security-Policy forbids inline styles).
function bar(done, running, total, cls) {
  const w = (x) => (total > 0 ? Math.max(0, Math.min(100, (100 * x) / total)) : 0).toFixed(2);
  const d = w(done), r = w(running);
  return '<svg class="bar ' + (cls || '') + '" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label="' +
    esc(done + ' of ' + total) + '"><rect class="bar-bg" width="100" height="8" rx="2"/>' +
    '<rect class="bar-done" width="' + d + '" height="8"/>' +
    '<rect class="bar-run" x="' + d + '" width="' + r + '" height="8"/></svg>';
}

// setHTML replaces an element's content only when it changed, so that a
// refresh keeps text selections and scroll positions.
const shown = new WeakMap();

function setHTML(el, html) {
  if (el && shown.get(el) !== html) {
    el.innerHTML = html;
    shown.set(el, html);
  }
}

function $(id) { return document.getElementById(id); }

// ---- API ----

class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

async function api(path, method) {
  const headers = {Accept: 'application/json'};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(path, {method: method || 'GET', headers, cache: 'no-store'});
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  if (res.status === 401) {
    if (token) sessionStorage.removeItem(TOKEN_KEY);
    askToken(token ? 'The access token was refused; enter it again.' : 'This scheduler needs an access token.');
  }
  if (!res.ok) throw new ApiError((body && body.error) || res.status + ' ' + res.statusText, res.status);
  return body;
}

// askToken asks for the API token in a dialog (once: after the user
// dismisses it, the footer offers a link instead). The token is kept in
// sessionStorage, for this tab only.
function askToken(why) {
  const dlg = $('token-dialog');
  $('token-btn').hidden = false;
  if (dlg.open || ui.tokenRefused) return;
  $('token-why').textContent = why;
  $('token-input').value = '';
  dlg.showModal();
}

function setupToken() {
  const dlg = $('token-dialog');
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('token-input').value.trim();
    if (!t) return;
    sessionStorage.setItem(TOKEN_KEY, t);
    ui.tokenRefused = false;
    $('token-btn').hidden = true;
    dlg.close();
    if (ui.route) refresh();
  });
  $('token-cancel').addEventListener('click', () => {
    ui.tokenRefused = true;
    dlg.close();
  });
  dlg.addEventListener('cancel', () => { ui.tokenRefused = true; }); // Escape
  $('token-btn').addEventListener('click', () => {
    ui.tokenRefused = false;
    askToken('Enter the scheduler\'s access token.');
  });
}

// ---- routing ----

function parseRoute() {
  const decode = (x) => { try { return decodeURIComponent(x); } catch (e) { return x; } };
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decode);
  if (parts[0] === 'executors') return {view: 'executors'};
  if (parts[0] === 'jobs' && parts[1]) {
    const stage = parts[2] === 'stages' && /^\d+$/.test(parts[3] || '') ? Number(parts[3]) : null;
    return {view: 'job', job: parts[1], stage};
  }
  return {view: 'jobs'};
}

function jobHref(id, stage) {
  return '#/jobs/' + encodeURIComponent(id) + (stage == null ? '' : '/stages/' + stage);
}

function navigate() {
  const r = parseRoute();
  const prev = ui.route;
  ui.route = r;
  if (!prev || prev.view !== r.view || prev.job !== r.job) {
    ui.task = null;
    ui.cache = null;
    const skeleton = {
      jobs: '<section class="card"><h2>Jobs</h2><div id="jobs"><p class="muted">Loading…</p></div></section>',
      job: '<nav class="crumbs"><a href="#/">Jobs</a> <span>/</span> <span class="mono">' + esc(r.job) + '</span></nav>' +
        '<section class="card" id="job-head"><p class="muted">Loading…</p></section>' +
        '<section class="card"><h2>Stage graph</h2><div id="job-graph" class="graph"></div></section>' +
        '<section class="card" id="job-stage"></section>',
      executors: '<section class="card"><h2>Executors</h2><div id="executors"><p class="muted">Loading…</p></div></section>',
    }[r.view];
    $('main').innerHTML = skeleton;
  } else if (prev.stage !== r.stage) {
    ui.task = null;
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === (r.view === 'job' ? 'jobs' : r.view));
  }
  refresh();
}

// ---- refresh ----

async function refresh() {
  if (ui.busy) {
    ui.again = true; // run once more when the current one ends
    return;
  }
  ui.busy = true;
  try {
    const r = ui.route;
    const work = [api('api/metrics').then(renderTiles)];
    if (r.view === 'jobs') work.push(api('api/jobs').then(renderJobs));
    if (r.view === 'executors') work.push(api('api/executors').then(renderExecutors));
    if (r.view === 'job') work.push(loadJob(r));
    await Promise.all(work);
    setStatus('Updated ' + fmtTime(new Date().toISOString()), false);
  } catch (e) {
    if (ui.route.view === 'job' && e.status === 404) {
      setHTML($('job-head'), '<p class="error">' + esc(e.message) + '</p>');
    }
    setStatus(e.message, true);
  } finally {
    ui.busy = false;
    if (ui.again) {
      ui.again = false;
      refresh();
    }
  }
}

function setStatus(msg, isError) {
  const el = $('status');
  el.textContent = msg;
  el.className = isError ? 'error' : 'muted';
}

async function loadJob(r) {
  let c = ui.cache;
  // A finished job does not change: fetch it once.
  const fresh = !c || c.job !== r.job || !terminal(c.jobInfo.state);
  if (fresh) {
    const info = await api('api/jobs/' + encodeURIComponent(r.job));
    c = ui.cache = {job: r.job, jobInfo: info, stage: c && c.job === r.job ? c.stage : null, stageInfo: c && c.job === r.job ? c.stageInfo : null};
  }
  if (ui.route !== r) return; // the user moved on while it loaded
  const stages = c.jobInfo.stage_list || [];
  let sel = r.stage;
  if (sel == null && stages.length) sel = defaultStage(c.jobInfo);
  if (sel != null && (fresh || c.stage !== sel || !c.stageInfo)) {
    if (stages.some((s) => s.id === sel)) {
      const info = await api('api/jobs/' + encodeURIComponent(r.job) + '/stages/' + sel);
      if (ui.route !== r) return;
      c.stageInfo = info;
      c.stage = sel;
    } else {
      c.stageInfo = null;
      c.stage = sel;
    }
  }
  renderJob(c, sel);
}

// defaultStage is the stage shown when the address names none: the last
// stage with running tasks while the job runs, else the final stage.
function defaultStage(j) {
  const stages = j.stage_list;
  if (!terminal(j.state)) {
    const running = stages.filter((s) => s.running > 0);
    if (running.length) return running[running.length - 1].id;
  }
  return stages[stages.length - 1].id;
}

// ---- views ----

function renderTiles(m) {
  const g = m.gauges, c = m.counters;
  const tile = (label, value, sub) => '<div class="tile"><div class="tile-v">' + value + '</div><div class="tile-l">' + esc(label) +
    (sub ? ' <span class="muted">' + sub + '</span>' : '') + '</div></div>';
  setHTML($('tiles'),
    tile('running', fmtInt(g.jobs_running), g.jobs_queued ? esc(fmtInt(g.jobs_queued) + ' queued') : '') +
    tile('executors', fmtInt(g.executors)) +
    tile('slots used', fmtInt(g.slots_used) + '<span class="muted">/' + fmtInt(g.slots_total) + '</span>') +
    tile('jobs done', fmtInt(c.jobs_succeeded), c.jobs_failed ? '<span class="err-text">' + esc(fmtInt(c.jobs_failed) + ' failed') + '</span>' : ''));
}

function renderJobs(data) {
  const jobs = data.jobs || [];
  if (!jobs.length) {
    setHTML($('jobs'), '<p class="muted empty">No jobs yet. Submit a query with the client or <span class="mono">arbalest sql</span>.</p>');
    return;
  }
  let h = '<table class="grid jobs"><thead><tr><th>Job</th><th>Query</th><th>State</th><th>Started</th>' +
    '<th class="num">Duration</th><th>Progress</th><th></th></tr></thead><tbody>';
  for (const j of jobs) {
    const running = !terminal(j.state);
    h += '<tr class="job-row" data-job="' + esc(j.id) + '">' +
      '<td class="mono nowrap"><a href="' + esc(jobHref(j.id)) + '">' + esc(j.id) + '</a></td>' +
      '<td class="query-cell"><div class="query-line mono" title="' + esc(j.query) + '">' + esc(truncate(j.query, 160)) + '</div>' +
      (j.error && j.state !== 'cancelled' ? '<div class="err-text small">' + esc(truncate(j.error, 240)) + '</div>' : '') + '</td>' +
      '<td>' + badge(j.state) + '</td>' +
      '<td class="nowrap muted">' + esc(fmtTime(j.created)) + '</td>' +
      '<td class="num nowrap">' + esc(fmtMs(j.duration_ms)) + '</td>' +
      '<td class="progress-cell">' + (j.tasks_total ? bar(j.tasks_done, 0, j.tasks_total, j.state) +
        '<span class="small muted">' + esc(fmtInt(j.tasks_done) + ' / ' + fmtInt(j.tasks_total) + ' tasks · ' + j.stages + ' stages') + '</span>' :
        '<span class="small muted">statement</span>') + '</td>' +
      '<td class="nowrap">' + (running ? '<button class="danger" type="button" data-cancel="' + esc(j.id) + '">Cancel</button>' : '') + '</td>' +
      '</tr>';
  }
  setHTML($('jobs'), h + '</tbody></table>');
}

function renderJob(c, sel) {
  const j = c.jobInfo;
  const stages = j.stage_list || [];
  const running = !terminal(j.state);
  let head = '<div class="job-title"><h2 class="mono">' + esc(j.id) + '</h2>' + badge(j.state) +
    (running ? '<button class="danger" type="button" data-cancel="' + esc(j.id) + '">Cancel job</button>' : '') + '</div>' +
    '<dl class="facts">' +
    '<div><dt>Started</dt><dd>' + esc(fmtTime(j.created)) + '</dd></div>' +
    '<div><dt>Duration</dt><dd>' + esc(fmtMs(j.duration_ms)) + '</dd></div>' +
    '<div><dt>Stages</dt><dd>' + esc(fmtInt(j.stages)) + '</dd></div>' +
    '<div><dt>Tasks</dt><dd>' + esc(fmtInt(j.tasks_done) + ' / ' + fmtInt(j.tasks_total)) + '</dd></div>' +
    '<div><dt>Session</dt><dd class="mono small">' + esc(truncate(j.session, 40)) + '</dd></div>' +
    '</dl>' +
    '<pre class="query">' + esc(j.query) + '</pre>' +
    (j.error && j.state !== 'cancelled' ? '<p class="error">' + esc(j.error) + '</p>' : '');
  setHTML($('job-head'), head);
  setHTML($('job-graph'), stages.length ? stageGraph(j, sel) : '<p class="muted">This statement ran on the scheduler; it has no stages.</p>');
  setHTML($('job-stage'), stages.length ? stageDetail(j, c.stageInfo, sel) : '');
}

function stageState(s) {
  if (s.tasks > 0 && s.done === s.tasks) return 'done';
  if (s.running > 0 || s.done > 0) return 'running';
  return 'pending';
}

// shortOutput describes a stage's output briefly: "hash(k) ×4",
// "broadcast", "single".
function shortOutput(o) {
  return String(o || '').replace(/\s*compression=\S+/, '').replace(/\s*partitions=(\d+)/, ' ×$1');
}

// operatorChain summarises a stage plan bottom-up by its operators, e.g.
// "Scan orders → Filter → Aggregate" (projections and shuffle reads left
// out: the graph's edges show the reads).
function operatorChain(plan) {
  const ops = [];
  for (const line of String(plan || '').split('\n').reverse()) {
    const m = /^\s*([A-Za-z]+):\s*(\S*)/.exec(line);
    if (!m || m[1] === 'Project' || m[1] === 'ShuffleRead') continue;
    let op = m[1];
    if (op === 'Scan') op += ' ' + m[2];
    if (op === 'Join') op = (/type=(\w+)/.exec(line) || [])[1] + ' join';
    if (ops[ops.length - 1] !== op) ops.push(op);
  }
  return ops.join(' → ') || 'read';
}

// layoutDag places a DAG's nodes in layers, left to right: a node sits one
// layer right of its deepest input, and a node without inputs sits just
// left of its first consumer. Edges that skip layers pass through
// placeholder slots in the layers between, so they never cross a box.
// Nodes are ordered within their layer by the mean position of their
// neighbours (a few sweeps each way), then placed vertically at the mean
// height of their inputs, pushed apart where they would overlap.
// ids are topologically ordered; preds maps an id to its inputs. It
// returns the boxes {x, y} by id, the edge routes and the size.
function layoutDag(ids, preds, W, H) {
  const GX = 44, GY = 20, PAD = 12, DH = 8;
  const succs = new Map(ids.map((id) => [id, []]));
  for (const id of ids) for (const p of preds.get(id)) succs.get(p).push(id);
  const layer = new Map();
  for (const id of ids) {
    // ids are topological: inputs come first (a bad input is ignored).
    let d = 0;
    for (const p of preds.get(id)) if (layer.has(p)) d = Math.max(d, layer.get(p) + 1);
    layer.set(id, d);
  }
  for (const id of [...ids].reverse()) {
    if (preds.get(id).length === 0 && succs.get(id).length > 0) {
      layer.set(id, Math.max(0, Math.min(...succs.get(id).map((c) => layer.get(c))) - 1));
    }
  }
  // Nodes: the stages and one placeholder per skipped layer of an edge.
  const node = new Map(); // key -> {key, layer, h, in: [], out: []}
  const add = (key, l, h) => { const n = {key, layer: l, h, in: [], out: []}; node.set(key, n); return n; };
  for (const id of ids) add('s' + id, layer.get(id), H);
  const routes = [];
  let dummies = 0;
  for (const id of ids) {
    for (const p of preds.get(id)) {
      if (!layer.has(p) || layer.get(p) >= layer.get(id)) continue;
      const chain = [node.get('s' + p)];
      for (let l = layer.get(p) + 1; l < layer.get(id); l++) chain.push(add('d' + dummies++, l, DH));
      chain.push(node.get('s' + id));
      for (let k = 1; k < chain.length; k++) {
        chain[k - 1].out.push(chain[k]);
        chain[k].in.push(chain[k - 1]);
      }
      routes.push({from: p, to: id, chain});
    }
  }
  const layers = [];
  for (const n of node.values()) (layers[n.layer] = layers[n.layer] || []).push(n);
  const order = (ls) => ls.forEach((l) => l.forEach((n, i) => { n.pos = i; }));
  order(layers);
  const sweep = (l, side) => {
    const key = (n) => (n[side].length ? n[side].reduce((a, m) => a + m.pos, 0) / n[side].length : n.pos);
    l.sort((a, b) => key(a) - key(b) || a.pos - b.pos);
    l.forEach((n, i) => { n.pos = i; });
  };
  for (let it = 0; it < 4; it++) {
    for (let d = 1; d < layers.length; d++) sweep(layers[d], 'in');
    for (let d = layers.length - 2; d >= 0; d--) sweep(layers[d], 'out');
  }
  // Vertical placement, layer by layer.
  const center = (n) => n.y + n.h / 2;
  for (const l of layers) {
    let bottom = -Infinity, shift = 0, counted = 0;
    for (const n of l) {
      const want = n.in.length ? n.in.reduce((a, m) => a + center(m), 0) / n.in.length - n.h / 2 : null;
      n.y = want === null ? (bottom === -Infinity ? 0 : bottom + GY) : Math.max(want, bottom + GY);
      if (want !== null) { shift += n.y - want; counted++; }
      bottom = n.y + n.h;
    }
    // Pushed-apart nodes move back up as a group, around where they want to be.
    if (counted && shift > 0) for (const n of l) n.y -= shift / counted;
  }
  const top = Math.min(...[...node.values()].map((n) => n.y));
  let height = 0;
  for (const n of node.values()) {
    n.y += PAD - top;
    n.x = PAD + n.layer * (W + GX);
    height = Math.max(height, n.y + n.h + PAD);
  }
  // Edge ends are spread over the sides of the boxes they join.
  const port = (n, k, count) => (n.key[0] === 'd' ? center(n) : n.y + (n.h * (k + 1)) / (count + 1));
  for (const n of node.values()) {
    n.out.sort((a, b) => center(a) - center(b));
    n.in.sort((a, b) => center(a) - center(b));
  }
  for (const r of routes) {
    const pts = [];
    r.chain.forEach((n, k) => {
      if (k > 0) pts.push([n.x - (k === r.chain.length - 1 ? 2 : 0), port(n, n.in.indexOf(r.chain[k - 1]), n.in.length)]);
      if (k < r.chain.length - 1) pts.push([n.x + W, port(n, n.out.indexOf(r.chain[k + 1]), n.out.length)]);
    });
    // pts alternate: out of a node, into the next; placeholders run straight across.
    let d = 'M' + pts[0][0] + ' ' + pts[0][1].toFixed(1);
    for (let k = 1; k < pts.length; k++) {
      const [x0, y0] = pts[k - 1], [x1, y1] = pts[k];
      if (k % 2 === 1) {
        const dx = Math.max(24, (x1 - x0) / 2);
        d += ' C' + (x0 + dx) + ' ' + y0.toFixed(1) + ' ' + (x1 - dx) + ' ' + y1.toFixed(1) + ' ' + x1 + ' ' + y1.toFixed(1);
      } else {
        d += ' L' + x1 + ' ' + y1.toFixed(1);
      }
    }
    r.path = d;
  }
  const boxes = new Map(ids.map((id) => [id, node.get('s' + id)]));
  const width = PAD * 2 + layers.length * W + (layers.length - 1) * GX;
  return {boxes, routes, width, height};
}

// stageGraph draws a job's stages as an SVG DAG (see layoutDag): a box
// per stage with its operators, output partitioning, task progress and
// output size; an arrow from each input stage.
function stageGraph(j, sel) {
  const stages = j.stage_list;
  const byId = new Map(stages.map((s) => [s.id, s]));
  const ids = stages.map((s) => s.id);
  const preds = new Map(stages.map((s) => [s.id, (s.inputs || []).filter((i) => byId.has(i) && i !== s.id)]));
  const W = 208, H = 122;
  const {boxes: box, routes, width, height} = layoutDag(ids, preds, W, H);
  let edges = '';
  for (const r of routes) {
    const src = byId.get(r.from);
    const kind = /^broadcast/.test(src.output) ? ' broadcast' : '';
    edges += '<path class="edge' + kind + (stageState(src) === 'done' ? ' ready' : '') + '" data-from="' + r.from + '" data-to="' + r.to +
      '" d="' + r.path + '" marker-end="url(#arrow)"><title>' + esc('stage ' + r.from + ' → stage ' + r.to + ': ' + shortOutput(src.output)) + '</title></path>';
  }
  const last = stages[stages.length - 1].id;
  let nodes = '';
  for (const s of stages) {
    const b = box.get(s.id);
    const st = stageState(s);
    const out = shortOutput(s.output);
    const iw = W - 28;
    const frac = (x) => (s.tasks > 0 ? (iw * x) / s.tasks : 0);
    nodes += '<g class="stage ' + st + (s.id === sel ? ' selected' : '') + '" data-stage="' + s.id + '" transform="translate(' + b.x + ',' + b.y + ')" tabindex="0" role="link">' +
      '<title>' + esc('Stage ' + s.id + '\n' + s.plan + '\noutput: ' + s.output + '\ntasks: ' + s.done + ' done, ' + s.running + ' running, ' +
        s.tasks + ' total\nrows: ' + fmtInt(s.output_rows) + ', ' + fmtBytes(s.output_bytes)) + '</title>' +
      '<rect class="box" width="' + W + '" height="' + H + '" rx="8"/>' +
      '<rect class="stripe" width="5" height="' + H + '" rx="2"/>' +
      '<text class="title" x="16" y="23">Stage ' + s.id + '</text>' +
      (s.id === last ? '<text class="kind" x="' + (W - 12) + '" y="22" text-anchor="end">result</text>' : '') +
      '<text class="ops" x="16" y="43">' + esc(truncate(operatorChain(s.plan), 26)) + '</text>' +
      '<text class="out" x="16" y="60">' + esc(truncate("out: " + out, 28)) + '</text>' +
      '<rect class="bar-bg" x="16" y="70" width="' + iw + '" height="6" rx="2"/>' +
      '<rect class="bar-done" x="16" y="70" width="' + frac(s.done).toFixed(1) + '" height="6"/>' +
      '<rect class="bar-run" x="' + (16 + frac(s.done)).toFixed(1) + '" y="70" width="' + frac(s.running).toFixed(1) + '" height="6"/>' +
      '<text class="meta" x="16" y="94">' + esc(s.done + '/' + s.tasks + ' tasks' + (s.running ? ' · ' + s.running + ' running' : '')) + '</text>' +
      '<text class="meta" x="16" y="111">' + esc(fmtInt(s.output_rows) + ' rows · ' + fmtBytes(s.output_bytes)) + '</text>' +
      '</g>';
  }
  return '<svg class="dag" xmlns="http://www.w3.org/2000/svg" width="' + width + '" height="' + height + '" viewBox="0 0 ' + width + ' ' + height +
    '" role="img" aria-label="' + esc('stage graph of ' + j.id) + '">' +
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">' +
    '<path d="M0 0 L10 5 L0 10 z" class="arrow"/></marker></defs>' +
    '<g class="edges">' + edges + '</g><g class="stages">' + nodes + '</g></svg>';
}

function stageDetail(j, s, sel) {
  if (!s || s.id !== sel) {
    return '<h2>Stage ' + esc(sel) + '</h2><p class="muted">' + (s === null && sel != null ? 'No such stage in this job.' : 'Loading…') + '</p>';
  }
  const tasks = s.task_list || [];
  let task = tasks.find((t) => t.partition === ui.task);
  if (!task) task = tasks.find((t) => t.operators) || null;
  let h = '<div class="stage-head"><h2>Stage ' + esc(s.id) + '</h2>' + badge(stageState(s)) +
    '<span class="muted">output <span class="mono">' + esc(s.output) + '</span></span>' +
    '<span class="muted">reads ' + ((s.inputs || []).length ? (s.inputs || []).map((i) => '<a href="' + esc(jobHref(j.id, i)) + '">stage ' + esc(i) + '</a>').join(', ') : 'tables') + '</span></div>' +
    '<dl class="facts">' +
    '<div><dt>Tasks</dt><dd>' + esc(s.done + ' / ' + s.tasks) + (s.running ? ' <span class="muted">(' + esc(s.running) + ' running)</span>' : '') + '</dd></div>' +
    '<div><dt>Output rows</dt><dd>' + esc(fmtInt(s.output_rows)) + '</dd></div>' +
    '<div><dt>Output size</dt><dd>' + esc(fmtBytes(s.output_bytes)) + '</dd></div>' +
    '</dl><div class="two">' +
    '<div><h3>Tasks</h3><table class="grid tasks"><thead><tr><th class="num">#</th><th>State</th><th>Executor</th><th class="num">Rows</th>' +
    '<th class="num">Bytes</th><th class="num">Elapsed</th><th class="num">Peak mem</th><th class="num">Attempt</th></tr></thead><tbody>';
  for (const t of tasks) {
    h += '<tr class="task-row' + (task && t.partition === task.partition ? ' selected' : '') + '" data-task="' + esc(t.partition) + '" tabindex="0">' +
      '<td class="num">' + esc(t.partition) + '</td><td>' + badge(t.state) + '</td>' +
      '<td class="mono small">' + esc(t.executor || '—') + '</td>' +
      '<td class="num">' + esc(fmtInt(t.output_rows)) + '</td><td class="num">' + esc(fmtBytes(t.output_bytes)) + '</td>' +
      '<td class="num">' + esc(t.elapsed_ms ? fmtMs(t.elapsed_ms) : '—') + '</td>' +
      '<td class="num">' + esc(t.peak_memory_bytes ? fmtBytes(t.peak_memory_bytes) : '—') + '</td>' +
      '<td class="num">' + esc(t.attempt) + (t.failures ? ' <span class="err-text" title="' + esc(t.last_error) + '">(' + esc(t.failures) + ' failed)</span>' : '') + '</td></tr>';
  }
  h += '</tbody></table></div><div><h3>Plan</h3><pre class="plan">' + esc(s.plan) + '</pre></div></div>';
  h += '<h3>Operator metrics' + (task ? ' <span class="muted">· task ' + esc(task.partition) + (task.executor ? ' on ' + esc(task.executor) : '') + '</span>' : '') + '</h3>';
  if (task && task.operators) h += '<pre class="operators">' + esc(task.operators) + '</pre>';
  else h += '<p class="muted">' + (task ? 'Task ' + esc(task.partition) + ' has not reported metrics yet.' : 'No task has reported metrics yet; they arrive when a task ends.') + '</p>';
  if (task && task.last_error) h += '<p class="error">Last error: ' + esc(task.last_error) + '</p>';
  return h;
}

function renderExecutors(data) {
  const exs = data.executors || [];
  if (!exs.length) {
    setHTML($('executors'), '<p class="muted empty">No executor is registered.</p>');
    return;
  }
  let h = '<table class="grid executors"><thead><tr><th>Executor</th><th>Engine</th><th>gRPC</th><th>Flight</th>' +
    '<th>Load</th><th class="num">Last heartbeat</th></tr></thead><tbody>';
  for (const e of exs) {
    const age = e.heartbeat_age_ms;
    const cls = age > 10000 ? 'err-text' : age > 4000 ? 'warn-text' : '';
    h += '<tr class="executor-row" data-executor="' + esc(e.id) + '">' +
      '<td class="mono">' + esc(e.id) + '</td><td>' + esc(e.engine || '—') + '</td>' +
      '<td class="mono small">' + esc(e.grpc_address) + '</td><td class="mono small">' + esc(e.flight_address) + '</td>' +
      '<td class="load-cell">' + bar(0, e.used_slots, e.slots, 'load') +
      '<span class="small">' + esc(e.used_slots + ' / ' + e.slots + ' slots') + '</span></td>' +
      '<td class="num ' + cls + '">' + esc(fmtMs(age) + ' ago') + '</td></tr>';
  }
  setHTML($('executors'), h + '</tbody></table>');
}

// ---- events ----

async function cancelJob(id) {
  if (!window.confirm('Cancel job ' + id + '?')) return;
  try {
    await api('api/jobs/' + encodeURIComponent(id) + '/cancel', 'POST');
    if (ui.cache && ui.cache.job === id) ui.cache = null;
  } catch (e) {
    setStatus('Cancelling ' + id + ': ' + e.message, true);
  }
  refresh();
}

function onActivate(ev) {
  const t = ev.target;
  const cancel = t.closest('[data-cancel]');
  if (cancel) { cancelJob(cancel.dataset.cancel); return; }
  const stage = t.closest('g.stage');
  if (stage && ui.route.view === 'job') { location.hash = jobHref(ui.route.job, Number(stage.dataset.stage)); return; }
  const row = t.closest('tr.task-row');
  if (row && ui.cache) {
    ui.task = Number(row.dataset.task);
    renderJob(ui.cache, ui.cache.stage);
    return;
  }
  const job = t.closest('tr.job-row');
  if (job && ev.type === 'click' && !t.closest('a, button') && !window.getSelection().toString()) location.hash = jobHref(job.dataset.job);
}

document.addEventListener('click', onActivate);
document.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') onActivate(ev); });
window.addEventListener('hashchange', navigate);
document.addEventListener('DOMContentLoaded', () => {
  setupToken();
  navigate();
  // A hidden tab does not poll; it catches up when shown again.
  setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
});
