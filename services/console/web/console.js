// The console page: plain browser JavaScript, no build step. Everything it
// shows arrives over two server-sent-event streams of the console server
// (consoleServer.ts): /api/stream (status, members, moves, restores, flow,
// groups, replay) and, for a searched subscriber, /api/subscribers/{key}/stream;
// a group is fetched as one watcher sees it (/api/groups/{id}). Management
// (replay) logs in with a bearer token once, for an HttpOnly cookie the page
// never sees. Data from the wire is put on the page as text only
// (textContent), never as markup.
/* global document, window, EventSource, location */

const $ = (sel) => document.querySelector(sel);

/** Creates an element with attributes/properties and text or element children. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') el.className = v;
    else if (k === 'style') Object.assign(el.style, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof window.Node ? c : String(c));
  return el;
}

const fmt = (n, digits = 1) => (n >= 100 ? Math.round(n).toString() : n.toFixed(digits));
const time = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });

/** A stable colour per member id, so a partition keeps the colour of its owner across moves. */
function colourOf(id) {
  let x = 0;
  for (const ch of id) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  // Golden-ratio steps: em-1, em-2, em-3 (hashes one apart) get far-apart hues.
  return `hsl(${Math.round(((x * 0.618033988749895) % 1) * 360)} 60% 42%)`;
}

const state = {
  group: null,
  owners: [],
  lag: null,
  followed: null,
  followStream: null,
  watchersVersion: -1,
  history: new Map(),
  groups: [],
  selectedGroup: null,
  shownGroupVersion: null,
};

const pct = (done, of) => (of > 0 ? `${Math.min(100, Math.round((done / of) * 100))}%` : '…');
const restoreText = (r) =>
  r.phase === 'awaiting-committed'
    ? `p${r.partition}: waiting for the previous owner's transaction`
    : `p${r.partition}: ${r.restoredRecords.toLocaleString('en')} of ≤${r.toRead.toLocaleString('en')} records (${pct(r.restoredRecords, r.toRead)})${
        r.phase === 'awaiting-after-restore' ? ', finishing' : ''
      }`;

// ---- status --------------------------------------------------------------

function showStatus(st) {
  $('#cluster').textContent = `${st.brokers}${st.prefix ? ` · prefix ${st.prefix}` : ''}`;
  const pill = $('#kafka-state');
  pill.className = `pill pill-${st.kafka}`;
  pill.textContent = st.kafka === 'up' ? 'Kafka: reading' : st.kafka === 'down' ? 'Kafka: down' : 'Kafka: connecting…';
  const banner = $('#banner');
  if (st.kafka === 'down') {
    banner.textContent = `Kafka is not readable — ${st.error ?? 'no answer'}. The console keeps retrying; what you see may be stale.`;
    banner.hidden = false;
  } else banner.hidden = true;
}

function consoleUnreachable() {
  const banner = $('#banner');
  banner.textContent = 'The console server does not answer; reconnecting…';
  banner.hidden = false;
}

// ---- group ---------------------------------------------------------------

function showMembers(g) {
  state.group = g;
  state.owners = g.owners;
  const live = g.members.filter((m) => m.state === 'live');
  $('#group-summary').textContent = `${live.length} live member${live.length === 1 ? '' : 's'} · ${g.partitions} partitions · ${fmt(
    live.reduce((n, m) => n + m.eventsPerSecond, 0),
  )} events/s reported`;

  const strip = $('#partition-strip');
  if (strip.children.length !== g.partitions) strip.replaceChildren(...g.owners.map((_, p) => h('div', { class: 'cell', 'data-partition': p }, p)));
  const restores = new Map();
  for (const m of g.members) for (const r of m.restoring ?? []) if (g.owners[r.partition] === m.memberId) restores.set(r.partition, r);
  g.owners.forEach((owner, p) => {
    const cell = strip.children[p];
    const r = restores.get(p);
    cell.classList.toggle('transit', owner === null);
    cell.classList.toggle('restoring', !!r);
    cell.textContent = r ? `${p} ${pct(r.restoredRecords, r.toRead)}` : String(p);
    cell.style.backgroundColor = owner === null ? '' : colourOf(owner);
    cell.title =
      owner === null
        ? `partition ${p}: no owner (in transit or unassigned)`
        : r
          ? `partition ${p}: ${owner}, restoring ${restoreText(r)}`
          : `partition ${p}: ${owner}`;
  });

  const box = $('#members');
  if (g.members.length === 0) return;
  box.replaceChildren(
    ...g.members.map((m) =>
      h(
        'div',
        { class: `member ${m.state}`, 'data-member-id': m.memberId, style: { borderLeftColor: colourOf(m.memberId) } },
        h('div', { class: 'name' }, m.memberId),
        h('div', { class: 'meta' }, `${m.host} · pid ${m.pid} · ${m.state}${m.state === 'live' ? '' : ' (not counted as owner)'}`),
        h(
          'div',
          { class: 'chips' },
          m.partitions.length ? m.partitions.map((p) => h('span', { class: 'chip' }, `p${p}`)) : h('span', { class: 'meta' }, 'no partitions'),
        ),
        ...(m.restoring ?? []).map((r) =>
          h(
            'div',
            { class: 'meta restore', 'data-restoring': r.partition },
            `restoring ${restoreText(r)}`,
            h('div', { class: 'bar' }, h('div', { style: { width: r.toRead > 0 ? pct(r.restoredRecords, r.toRead) : '0%' } })),
          ),
        ),
        h('div', { class: 'meta' }, `${m.subscribers} subscribers · ${fmt(m.eventsPerSecond)} events/s`),
        state.lag ? h('div', { class: 'meta member-lag' }, `lag ${m.partitions.reduce((n, p) => n + (state.lag.partitions[p] ?? 0), 0)} records`) : null,
        h(
          'div',
          { class: 'meta' },
          `utilization ${Math.round(m.utilization * 100)} %${m.capacityEventsPerSecond ? ` of ${m.capacityEventsPerSecond} events/s` : ''}`,
        ),
        h('div', { class: 'bar' }, h('div', { style: { width: `${Math.min(100, Math.round(m.utilization * 100))}%` } })),
        h('div', { class: 'meta' }, `report ${Math.round(m.ageMs / 1000)} s old${m.sipContact ? ` · ${m.sipContact}` : ''}`),
      ),
    ),
  );
  showOwner();
}

function showLag(l) {
  state.lag = l;
  $('#lag-summary').textContent = `lag ${l.total} records (group ${l.groupId}, ${time(l.at)})`;
  const strip = $('#lag-strip');
  if (strip.children.length !== l.partitions.length) strip.replaceChildren(...l.partitions.map((_, p) => h('div', { class: 'cell lag', 'data-partition': p })));
  l.partitions.forEach((n, p) => {
    const cell = strip.children[p];
    cell.textContent = n >= 10000 ? `${Math.round(n / 1000)}k` : String(n);
    cell.classList.toggle('behind', n > 0);
    cell.title = `partition ${p}: ${n} records not yet committed by the event managers`;
  });
  if (state.group) showMembers(state.group);
}

function showMoves({ moves }) {
  const log = $('#moves');
  for (const m of moves) {
    const text =
      m.from === null
        ? `p${m.partition} arrived at ${m.to}`
        : m.to === null
          ? `p${m.partition} left ${m.from} (in transit)`
          : `p${m.partition} moved ${m.from} → ${m.to}`;
    log.prepend(h('li', { class: 'new' }, `${time(m.at)}  ${text}`));
    const cell = $('#partition-strip').children[m.partition];
    if (cell) {
      cell.classList.add('flash');
      window.setTimeout(() => cell.classList.remove('flash'), 1500);
    }
  }
  while (log.children.length > 50) log.lastChild.remove();
}

function showRestored(done) {
  const log = $('#moves');
  for (const d of done)
    log.prepend(
      h(
        'li',
        { class: 'new' },
        // Records as far as the last report during the restore saw them (a quick restore may end between reports).
        `${time(d.at)}  p${d.partition} restored at ${d.memberId} after ${(d.ms / 1000).toFixed(1)} s${d.records ? ` (≥${d.records} records)` : ''}`,
      ),
    );
  while (log.children.length > 50) log.lastChild.remove();
}

// ---- flow ----------------------------------------------------------------

const RATES = [
  ['signalingEvents', 'signaling events'],
  ['presenceChanges', 'presence changes'],
  ['notifyRequests', 'NOTIFY requests'],
  ['deliveries', 'deliveries'],
  ['retried', 'NOTIFYs retried'],
  ['deadLetters', 'dead letters'],
];

function sparkline(values) {
  const max = Math.max(1, ...values);
  const pts = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * 100},${24 - (v / max) * 22}`).join(' ');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 100 24');
  svg.setAttribute('preserveAspectRatio', 'none');
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', pts);
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#2e90fa');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  return svg;
}

function rows(tbody, items, cells) {
  $(tbody).replaceChildren(...items.map((it) => h('tr', {}, ...cells(it).map((c) => (c instanceof window.Node ? c : h('td', {}, c))))));
}

function showFlow(f) {
  const warn = $('#undecodable');
  warn.hidden = !f.undecodable;
  warn.textContent = `${f.undecodable} record(s) could not be decoded and are not counted (does the schema registry answer?)`;
  $('#rates').replaceChildren(
    ...RATES.map(([k, label]) => {
      const hist = state.history.get(k) ?? [];
      hist.push(f.rates[k]);
      if (hist.length > 60) hist.shift();
      state.history.set(k, hist);
      return h(
        'div',
        { class: 'rate', 'data-flow': k },
        h('div', { class: 'value' }, fmt(f.rates[k])),
        h('div', { class: 'label' }, `${label} · ${f.totals[k]} seen${k === 'retried' ? ` · ${f.retransmissions} retransmissions` : ''}`),
        sparkline(hist),
      );
    }),
  );
  rows('#by-message tbody', f.signalingByMessage.slice(0, 12), (r) => [r.tap, r.protocol, r.message, fmt(r.perSecond), r.total]);
  rows('#by-outcome tbody', f.deliveriesByOutcome, (r) => [r.outcome, fmt(r.perSecond), r.total]);
  rows('#dead-letters tbody', f.deadLettersByReason.slice(0, 12), (r) => [
    `${r.component}/${r.layer}`,
    r.reason,
    r.total,
    h('td', { class: 'sample' }, `${r.sample.message}${r.sample.origin ? ` (${r.sample.origin})` : ''}`),
  ]);
  $('#recent-presence').replaceChildren(
    ...f.recentPresence.map((p) =>
      h(
        'li',
        { title: 'follow this subscriber', onclick: () => search(p.subscriber) },
        `${time(p.updatedAt)}  ${p.subscriber}  ${p.basic} · ${p.networkState} · ${p.callState} (v${p.version})`,
      ),
    ),
  );
}

// ---- subscriber ----------------------------------------------------------

function facts(dl, pairs) {
  const box = $(dl);
  const before = new Map([...box.querySelectorAll('dd')].map((dd) => [dd.dataset.field, dd.textContent]));
  box.replaceChildren(
    ...pairs.flatMap(([field, label, value]) => {
      const text = value === null || value === undefined || value === '' ? '—' : String(value);
      const dd = h('dd', { 'data-field': field }, text);
      if (before.has(field) && before.get(field) !== text) dd.classList.add('changed');
      return [h('dt', {}, label), dd];
    }),
  );
}

function showOwner() {
  const f = state.followed;
  if (!f) return;
  const owner = state.owners[f.partition] ?? null;
  facts('#subscriber-facts', [
    ['key', 'key', f.key],
    ['partition', 'partition', f.partition],
    ['owner', 'owning event manager', owner ?? 'none right now (in transit or no member)'],
  ]);
}

function showPresence(p) {
  if (!p) {
    facts('#subscriber-presence', [['basic', 'presence', 'none recorded yet']]);
    $('#subscriber-pidf').textContent = '';
    return;
  }
  facts('#subscriber-presence', [
    ['basic', 'basic status', p.basic],
    ['networkState', 'network', p.networkState],
    ['callState', 'call', p.callState],
    ['connectability', 'connectability', p.connectability],
    ['servingNode', 'serving node', p.servingNode],
    ['cellGlobalId', 'location (cell)', p.cellGlobalId],
    ['activities', 'activities', p.activities],
    ['note', 'note', p.note],
    ['version', 'version', p.version],
    ['updatedAt', 'updated', new Date(p.updatedAt).toLocaleString()],
  ]);
  $('#subscriber-pidf').textContent = p.pidf;
}

function showWatchers(w) {
  // The first answer (a read of the store) can arrive after a live change: keep the newest.
  if (w.version < state.watchersVersion) return;
  state.watchersVersion = w.version;
  if (w.watchers.length === 0) {
    $('#subscriber-watchers tbody').replaceChildren(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'no watchers')));
    return;
  }
  rows('#subscriber-watchers tbody', w.watchers, (x) => [
    x.watcherUri,
    x.state,
    x.decision,
    `${Math.max(0, Math.round((x.expiresAt - Date.now()) / 1000))} s`,
    x.notifyCseq,
    x.version,
  ]);
}

/** Presence and NOTIFY lines go to one list, signaling to another, so a chatty handset does not scroll the changes away. */
function logLine(text, list = '#subscriber-log') {
  const log = $(list);
  log.prepend(h('li', { class: 'new' }, `${time(Date.now())}  ${text}`));
  while (log.children.length > 100) log.lastChild.remove();
}

function followStream(key) {
  state.followStream?.close();
  const es = new EventSource(`/api/subscribers/${encodeURIComponent(key)}/stream`);
  state.followStream = es;
  es.addEventListener('presence', (e) => {
    const p = JSON.parse(e.data);
    showPresence(p);
    logLine(`presence v${p.version}: ${p.basic} · ${p.networkState} · ${p.callState}${p.activities ? ` · ${p.activities}` : ''}`);
  });
  es.addEventListener('watchers', (e) => showWatchers(JSON.parse(e.data)));
  es.addEventListener('notify', (e) => {
    const n = JSON.parse(e.data);
    logLine(`NOTIFY → ${n.toUri} (${n.subscriptionState}${n.reason ? `;reason=${n.reason}` : ''}, CSeq ${n.cseq}, version ${n.version})`);
  });
  es.addEventListener('delivery', (e) => {
    const d = JSON.parse(e.data);
    logLine(`delivery ${d.outcome}${d.statusCode ? ` ${d.statusCode}` : ''} after ${d.attempts} attempt(s)${d.reason ? `: ${d.reason}` : ''}`);
  });
  es.addEventListener('signaling', (e) => {
    const s = JSON.parse(e.data);
    logLine(`${s.protocol} ${s.message} ${s.kind} (${s.tap} tap, event time ${time(s.time)})`, '#subscriber-signaling');
  });
}

async function search(identity) {
  identity = identity.trim();
  if (!identity) return;
  $('#identity').value = identity;
  const err = $('#search-error');
  err.hidden = true;
  let body;
  try {
    const res = await fetch(`/api/locate/${encodeURIComponent(identity)}`);
    body = await res.json();
    if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
    return;
  }
  state.followed = { key: body.key, partition: body.partition };
  $('#subscriber').hidden = false;
  $('#subscriber-log').replaceChildren();
  $('#subscriber-signaling').replaceChildren();
  $('#subscriber-watchers tbody').replaceChildren();
  state.watchersVersion = -1;
  showOwner();
  showPresence(body.presence);
  followStream(body.key);
  history.replaceState(null, '', `#follow=${encodeURIComponent(identity)}`);
}

// ---- groups --------------------------------------------------------------

function showGroups(list) {
  state.groups = list;
  $('#groups-summary').textContent = `${list.length} group${list.length === 1 ? '' : 's'}`;
  if (list.length === 0) return;
  rows('#groups-list tbody', list, (g) => [
    g.groupId,
    g.name,
    g.memberCount,
    g.availableCount ?? '—',
    g.adminPolicy,
    `${g.infoVersion ?? '—'} / ${g.presenceVersion ?? '—'}`,
  ]);
  [...$('#groups-list tbody').children].forEach((tr, i) => {
    tr.dataset.groupId = list[i].groupId;
    tr.classList.toggle('selected', list[i].groupId === state.selectedGroup);
    tr.addEventListener('click', () => selectGroup(list[i].groupId));
  });
  // The shown group changed: show it again, as the same watcher.
  const sel = list.find((g) => g.groupId === state.selectedGroup);
  if (sel && `${sel.infoVersion}/${sel.presenceVersion}` !== state.shownGroupVersion) void showGroup();
}

function selectGroup(id) {
  state.selectedGroup = id;
  $('#group-viewer').replaceChildren();
  $('#group-watcher').value = '';
  for (const tr of $('#groups-list tbody').children) tr.classList.toggle('selected', tr.dataset.groupId === id);
  $('#group').hidden = false;
  void showGroup();
}

function viewerQuery() {
  const typed = $('#group-watcher').value.trim();
  if (typed) return `?watcher=${encodeURIComponent(typed)}`;
  const v = $('#group-viewer').value || 'group';
  if (v.startsWith('role:')) return `?role=${encodeURIComponent(v.slice(5))}`;
  if (v.startsWith('watcher:')) return `?watcher=${encodeURIComponent(v.slice(8))}`;
  return '';
}

async function showGroup() {
  const id = state.selectedGroup;
  if (!id) return;
  const err = $('#group-error');
  let g;
  try {
    const res = await fetch(`/api/groups/${encodeURIComponent(id)}${viewerQuery()}`);
    g = await res.json();
    if (!res.ok) throw new Error(g.error ?? `HTTP ${res.status}`);
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
    return;
  }
  err.hidden = true;
  state.shownGroupVersion = `${g.infoVersion}/${g.presenceVersion}`;
  const select = $('#group-viewer');
  const chosen = select.value;
  select.replaceChildren(
    h('option', { value: 'group' }, "the group (members' own policies only)"),
    ...g.roles.map((r) => h('option', { value: `role:${r}` }, `a watcher of role ${r}`)),
  );
  // Members as watchers: from the unfiltered list the group view gives, kept across views.
  state.memberUris = g.viewer.kind === 'group' ? g.members.map((m) => m.uri) : (state.memberUris ?? []);
  for (const uri of state.memberUris) select.append(h('option', { value: `watcher:${uri}` }, `member ${uri}`));
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
  facts('#group-facts', [
    ['groupId', 'group', `${g.groupId} · ${g.uri}`],
    ['name', 'name', g.name],
    ['adminPolicy', 'who may watch (administrator)', g.adminPolicy],
    [
      'attributes',
      'attributes',
      Object.entries(g.attributes)
        .map(([k, v]) => `${k}=${v}`)
        .join(', '),
    ],
    ['versions', 'versions (info / presence)', `${g.infoVersion ?? '—'} / ${g.presenceVersion ?? 'not written by group presence yet'}`],
    [
      'viewer',
      'seen as',
      g.viewer.kind === 'group'
        ? "the group: members' own authorization only"
        : `${g.viewer.uri}${g.viewer.role ? ` (role ${g.viewer.role})` : ''}${g.viewer.member ? '' : ' — not a member'}`,
    ],
    ['allowed', 'may watch', g.allowed ? `yes: ${g.members.length} member(s) received, ${g.hidden} left out by the receiving policy` : `no (${g.reason})`],
  ]);
  if (!g.allowed) {
    $('#group-members tbody').replaceChildren(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, `refused: ${g.reason}`)));
    return;
  }
  rows('#group-members tbody', g.members, (m) => [
    `${m.displayName ?? ''} ${m.uri}`.trim(),
    m.role ?? '—',
    h('td', { class: `state-${m.state}` }, m.state === 'terminated' ? `terminated (${m.reason})` : m.state),
    m.summary?.basic ?? '—',
    m.summary?.activities.join(', ') || '—',
    m.summary?.notes.join(' · ') || '—',
    m.share === false ? 'does not share' : m.sharedParts.length ? `shares ${m.sharedParts.join(', ')}` : 'shares all',
  ]);
  [...$('#group-members tbody').children].forEach((tr, i) => (tr.dataset.member = g.members[i].uri));
}

// ---- management ----------------------------------------------------------

async function api(method, path, body, headers = {}) {
  const res = await fetch(path, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
    credentials: 'same-origin',
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error ?? `HTTP ${res.status}`);
  return data;
}

function showError(sel, e) {
  const el = $(sel);
  el.hidden = !e;
  el.textContent = e ? e.message : '';
}

async function showSession() {
  const s = await api('GET', '/api/session');
  $('#manage-view').hidden = !s.management;
  if (!s.management) return;
  $('#login').hidden = s.loggedIn;
  $('#replay').hidden = !s.loggedIn;
  $('#login-state').textContent = s.loggedIn ? `logged in as ${s.client} until ${time(s.expiresAt)}` : 'read-only until you log in';
  const scale = await api('GET', '/api/scale');
  $('#scale').hidden = !s.loggedIn || !scale.enabled;
  if (scale.current) showScale(scale.current);
  if (s.loggedIn) {
    const r = await api('GET', '/api/replays');
    const select = $('#replay-capture');
    select.replaceChildren(...r.captures.map((c) => h('option', { value: c.name }, `${c.name} (${c.bytes.toLocaleString('en')} bytes)`)));
    if (r.current) showReplay(r.current);
  }
}

function showReplay(r) {
  facts('#replay-status', [
    ['replay', 'replay', `#${r.id} ${r.capture} at ${r.speed === null ? 'max' : `${r.speed}×`} by ${r.by}`],
    ['state', 'state', r.error ? `${r.state}: ${r.error}` : r.state],
    ['frames', 'frames read', r.frames],
    ['events', 'signaling events published', r.events],
    ['notSubscriber', 'parties not our subscribers', r.notSubscriber],
    ['deadLetters', 'dead letters', r.deadLetters],
    ['elapsed', 'time', `${(((r.endedAt ?? Date.now()) - r.startedAt) / 1000).toFixed(1)} s`],
  ]);
  const byMessage = Object.entries(r.byMessage).sort((a, b) => b[1] - a[1]);
  rows('#replay-by-message tbody', byMessage, ([k, n]) => [k, n]);
}

function showScale(j) {
  $('#scale-status').textContent = `to ${j.target} by ${j.by}: ${j.state}${j.lines.length ? ` — ${j.lines.at(-1)}` : ''}`;
}

$('#scale').addEventListener('submit', (e) => {
  e.preventDefault();
  api('POST', '/api/scale', { eventManagers: Number($('#scale-count').value) }).then(
    (j) => {
      showError('#replay-error', null);
      showScale(j);
    },
    (err) => showError('#replay-error', err),
  );
});

$('#login').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $('#token').value.trim();
  // The token goes out once, in a header; only the HttpOnly cookie it buys is kept (by the browser, not the page).
  $('#token').value = '';
  api('POST', '/api/session', undefined, { authorization: `Bearer ${token}` })
    .then(() => {
      showError('#replay-error', null);
      return showSession();
    })
    .catch((err) => showError('#replay-error', err));
});
$('#logout').addEventListener('click', () => void api('DELETE', '/api/session').then(showSession, (err) => showError('#replay-error', err)));
$('#replay').addEventListener('submit', (e) => {
  e.preventDefault();
  const raw = $('#replay-speed').value.trim();
  const body = { capture: $('#replay-capture').value, speed: raw === 'max' ? 'max' : Number(raw.replace(/x$/i, '')) };
  if ($('#replay-unknown').value) body.unknown = $('#replay-unknown').value;
  api('POST', '/api/replays', body).then(
    (r) => {
      showError('#replay-error', null);
      showReplay(r);
    },
    (err) => showError('#replay-error', err),
  );
});
$('#replay-stop').addEventListener('click', () => void api('DELETE', '/api/replays/current').then(showReplay, (err) => showError('#replay-error', err)));
$('#group-as').addEventListener('submit', (e) => {
  e.preventDefault();
  void showGroup();
});
$('#group-viewer').addEventListener('change', () => {
  $('#group-watcher').value = '';
  void showGroup();
});

// ---- wiring --------------------------------------------------------------

const { history } = window;
const main = new EventSource('/api/stream');
main.addEventListener('status', (e) => showStatus(JSON.parse(e.data)));
main.addEventListener('members', (e) => showMembers(JSON.parse(e.data)));
main.addEventListener('moves', (e) => showMoves(JSON.parse(e.data)));
main.addEventListener('lag', (e) => showLag(JSON.parse(e.data)));
main.addEventListener('flow', (e) => showFlow(JSON.parse(e.data)));
main.addEventListener('restored', (e) => showRestored(JSON.parse(e.data)));
main.addEventListener('groups', (e) => showGroups(JSON.parse(e.data)));
main.addEventListener('replay', (e) => showReplay(JSON.parse(e.data)));
main.addEventListener('scale', (e) => showScale(JSON.parse(e.data)));
main.addEventListener('error', () => main.readyState !== EventSource.OPEN && consoleUnreachable());

$('#search').addEventListener('submit', (e) => {
  e.preventDefault();
  void search($('#identity').value);
});
showSession().catch(() => {});
const wanted = /^#follow=(.+)$/.exec(location.hash);
if (wanted) void search(decodeURIComponent(wanted[1]));
