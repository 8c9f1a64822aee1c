// The dashboard: login, the status strip (fail-safe, each connector's last poll), held emails with
// filters and their detail, the chart, and the admin's lists with their actions. All data comes
// from the admin API (api.js) and goes on the page as text (dom.js).
'use strict';

const state = {
  access: null,     // "full" | "read"
  cursor: null,     // the held list's next page
  connectors: new Set(),
};

// ---- messages and access -----------------------------------------------------------------------

function showMessage(text, kind = 'error') {
  $('message-text').textContent = text;
  $('message').className = 'message ' + kind;
  $('message').hidden = false;
}

function hideMessage() { $('message').hidden = true; }

// Runs an API call for an action; its error (a 403 for the read-only token included) is shown.
async function attempt(what, fn) {
  try {
    return await fn();
  } catch (e) {
    if (e.status !== 401) showMessage(`${what}: ${e.message}` + (e.status ? ` (HTTP ${e.status})` : ''));
    return undefined;
  }
}

const readOnly = () => state.access !== 'full';

// A button for a write action: disabled (and hidden by the stylesheet) for the read-only token.
function writeButton(label, onclick, attrs = {}) {
  return el('button', {type: 'button', class: 'write', disabled: readOnly(), onclick, ...attrs}, label);
}

function applyAccess() {
  document.body.classList.toggle('read-only', readOnly());
  $('access').textContent = readOnly() ? 'read-only token' : 'full access';
  for (const form of document.querySelectorAll('form.write'))
    for (const control of form.elements) control.disabled = readOnly();
}

// ---- login ---------------------------------------------------------------------------------------

function showLogin(message) {
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-message').hidden = !message;
  $('login-message').textContent = message || '';
  $('token').value = '';
  $('token').focus();
}

async function start() {
  const who = await attempt('sign in', () => Api.get('/api/v1/access'));
  if (!who) return;
  state.access = who.access;
  $('login').hidden = true;
  $('app').hidden = false;
  applyAccess();
  await refreshAll();
}

Api.onUnauthorized = (why) => showLogin(`The token was refused (${why}): sign in again.`);

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = $('token').value.trim();
  $('token').value = '';  // not left in the form
  if (!token) return;
  Api.setToken(token);
  start();
});

$('sign-out').addEventListener('click', () => {
  Api.forget();
  state.access = null;
  showLogin('Signed out.');
});

// ---- the status strip ----------------------------------------------------------------------------

async function loadStatus() {
  // GET /readyz: 503 with the same body when not ready, which is what the strip is for.
  const r = await attempt('status', () => Api.get('/readyz', {}, [503]));
  if (!r) return;
  const items = [];
  const fs = r.failsafe;
  if (fs && fs.active) {
    items.push(el('span', {class: 'chip bad', id: 'failsafe', title: fs.why || ''},
                  `FAIL-SAFE ON since ${localTime(fs.since)}: risky emails are let go (${fs.why})`));
    items.push(writeButton('Resume', () => attempt('resume the fail-safe', async () => {
      await Api.post('/api/v1/failsafe/resume');
      showMessage('The fail-safe is off: risky emails are held again.', 'info');
      loadStatus();
    })));
  } else {
    items.push(el('span', {class: 'chip good', id: 'failsafe'}, 'Fail-safe off'));
  }
  if (fs && fs.dns_distrusted) items.push(el('span', {class: 'chip warn', title: fs.dns_evidence || ''}, 'DNS not trusted'));
  for (const [name, c] of Object.entries(r.connectors || {})) {
    state.connectors.add(name);
    const when = c.last_success ? `polled ${ago(c.last_success)}` : 'never polled';
    items.push(el('span', {class: 'chip ' + (c.ok ? 'good' : 'bad'), 'data-connector': name,
                           title: (c.last_success || '') + (c.last_error ? `; last error: ${c.last_error}` : '')},
                  `${name}: ${when}`));
  }
  if (!r.ready) items.push(el('span', {class: 'chip bad', title: (r.reasons || []).join('\n')}, 'not ready'));
  fill($('status'), items);
  fill($('connectors'), [...state.connectors].sort().map((c) => el('option', {value: c})));
}

// ---- held emails ---------------------------------------------------------------------------------

function filters() {
  return {verdict: 'revert', since: $('f-since').value, reason: $('f-reason').value.trim(),
          rep: $('f-rep').value.trim(), connector: $('f-connector').value.trim(),
          address: $('f-address').value.trim(), limit: 50};
}

function heldRow(d) {
  const rep = d.rep && d.rep.name ? d.rep.name : d.sender;
  return el('tr', {tabindex: 0, class: 'clickable', 'data-key': d.key,
                   onclick: () => openDetail(d.key), onkeydown: (e) => { if (e.key === 'Enter') openDetail(d.key); }},
            timeCell(d.scheduled_at),
            el('td', {title: d.sender}, rep),
            el('td', {}, d.connector),
            el('td', {class: 'addresses'}, (d.addresses || []).join(', ')),
            el('td', {}, d.subject),
            el('td', {}, el('span', {class: 'reason'}, d.reason || '')),
            el('td', {class: 'evidence'}, d.evidence),
            el('td', {}, d.state));
}

async function loadHeld(more = false) {
  const query = filters();
  if (more) query.cursor = state.cursor;
  const page = await attempt('held emails', () => Api.get('/api/v1/decisions', query));
  if (!page) return;
  const body = $('held').tBodies[0];
  if (!more) body.replaceChildren();
  append(body, page.decisions.map(heldRow));
  for (const d of page.decisions) state.connectors.add(d.connector);
  state.cursor = page.next_cursor;
  $('more').hidden = !state.cursor;
  $('held-empty').hidden = body.rows.length > 0;
}

async function loadChart() {
  const stats = await attempt('holds per day', () => Api.get('/api/v1/stats/holds', {days: $('chart-days').value}));
  if (!stats) return;
  drawHoldsChart($('chart'), $('legend'), stats);
  fill($('reasons'), Object.keys(stats.reasons).sort().map((r) => el('option', {value: r})));
}

$('filters').addEventListener('submit', (ev) => { ev.preventDefault(); hideMessage(); loadHeld(); });
$('clear').addEventListener('click', () => {
  for (const id of ['f-reason', 'f-rep', 'f-connector', 'f-address']) $(id).value = '';
  $('f-since').value = '7d';
  loadHeld();
});
$('more').addEventListener('click', () => loadHeld(true));
$('chart-days').addEventListener('change', loadChart);

// ---- a decision in full ----------------------------------------------------------------------------

function table(head, rows, cls = 'grid') {
  return el('table', {class: cls}, el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))), el('tbody', {}, rows));
}

function field(name, value) {
  return [el('dt', {}, name), el('dd', {}, value === null || value === undefined ? '' : String(value))];
}

function addressActions(address) {
  return [
    writeButton('Release (send anyway, 30 days)', () => attempt('release ' + address, async () => {
      await Api.post('/api/v1/overrides', {address, for: '30d', reason: 'released from the dashboard'});
      showMessage(`${address} is released for 30 days: its next checks allow it.`, 'info');
      loadOverrides();
    }), {'data-action': 'release'}),
    writeButton('Suppress', () => attempt('suppress ' + address, async () => {
      await Api.post('/api/v1/suppressions', {address, reason: 'suppressed from the dashboard'});
      showMessage(`${address} is suppressed.`, 'info');
      loadSuppressions();
    }), {'data-action': 'suppress'}),
  ];
}

async function openDetail(key) {
  const d = await attempt('decision', () => Api.get('/api/v1/decisions/' + encodeURIComponent(key)));
  if (!d) return;
  $('detail-title').textContent = d.subject || '(no subject)';
  const recipients = (d.signals || []).map((r) => el('div', {class: 'recipient'},
    el('h4', {}, r.address, ' ', el('span', {class: 'reason'}, r.reason || r.verdict || '')), addressActions(r.address),
    table(['signal', 'weight', 'evidence'],
          r.signals.map((s) => el('tr', {}, el('td', {}, s.name), el('td', {class: 'num'}, s.weight ?? ''),
                                  el('td', {}, s.evidence))))));
  fill($('detail-body'),
       el('dl', {class: 'fields'},
          field('key', d.key), field('connector', d.connector), field('email id', d.email_id),
          field('rep', d.rep && d.rep.name ? `${d.rep.name} (${d.sender})` : d.sender), field('send time', localTime(d.scheduled_at)),
          field('state', d.state), field('reason', d.reason), field('evidence', d.evidence), field('next step', d.next_step),
          field('decided', localTime(d.decided_at)), field('attempts', d.attempts), field('detail', d.detail)),
       el('h3', {}, 'Signals'), recipients,
       el('h3', {}, 'Actions'),
       table(['at', 'event', 'detail'], (d.actions || []).map((a) =>
         el('tr', {}, timeCell(a.at), el('td', {}, a.event), el('td', {class: 'json'}, JSON.stringify(a.detail)))), 'grid actions'),
       el('h3', {}, 'Notifications'),
       (d.notifications || []).length === 0 ? el('p', {class: 'empty'}, 'None.') :
         table(['kind', 'audience', 'state', 'attempts', 'last error', 'sent'], d.notifications.map((n) =>
           el('tr', {}, el('td', {}, n.kind), el('td', {}, n.audience || ''), el('td', {}, n.state),
              el('td', {class: 'num'}, n.attempts), el('td', {}, n.last_error), el('td', {}, n.sent_ref))), 'grid notifications'));
  if (!$('detail').open) $('detail').showModal();
}

$('detail-close').addEventListener('click', () => $('detail').close());

// ---- suppressions, overrides, senders ------------------------------------------------------------

async function loadSuppressions() {
  const r = await attempt('suppressions', () => Api.get('/api/v1/suppressions'));
  if (!r) return;
  fill($('suppressions').tBodies[0], r.suppressions.map((s) => el('tr', {'data-subject': s.subject},
    el('td', {}, s.subject), el('td', {}, s.state), timeCell(s.since), timeCell(s.until), el('td', {}, s.reason),
    el('td', {}, s.evidence),
    el('td', {}, writeButton('Clear', () => attempt('clear ' + s.subject, async () => {
      await Api.del('/api/v1/suppressions', {address: s.subject});
      showMessage(`${s.subject} is no longer suppressed.`, 'info');
      loadSuppressions();
    }))))));
}

async function loadOverrides() {
  const r = await attempt('overrides', () => Api.get('/api/v1/overrides'));
  if (!r) return;
  fill($('overrides').tBodies[0], r.overrides.map((o) => el('tr', {'data-address': o.address},
    el('td', {}, o.address), timeCell(o.until), el('td', {}, o.who), el('td', {}, o.reason), timeCell(o.created),
    el('td', {}, writeButton('Remove', () => attempt('remove the override of ' + o.address, async () => {
      await Api.del('/api/v1/overrides', {address: o.address});
      showMessage(`The override of ${o.address} is removed.`, 'info');
      loadOverrides();
    }))))));
}

async function loadSenders() {
  const r = await attempt('senders', () => Api.get('/api/v1/senders'));
  if (!r) return;
  fill($('senders').tBodies[0], r.senders.map((s) => el('tr', {'data-mailbox': s.mailbox},
    el('td', {}, s.mailbox), el('td', {}, el('span', {class: s.state === 'paused' ? 'chip bad' : ''}, s.state)),
    el('td', {class: 'num'}, s.sends), el('td', {class: 'num'}, s.bounces),
    el('td', {class: 'num'}, (100 * s.bounce_rate).toFixed(1) + ' %'), timeCell(s.until), el('td', {}, s.evidence),
    el('td', {}, s.state !== 'paused' ? '' : writeButton('Release', () => attempt('release ' + s.mailbox, async () => {
      await Api.post(`/api/v1/senders/${encodeURIComponent(s.mailbox)}/release`);
      showMessage(`${s.mailbox} sends again.`, 'info');
      loadSenders();
    }))))));
}

// Both add forms: post what was typed, say what it did, list again.
function onAdd(formId, what, path, body, done, reload) {
  $(formId).addEventListener('submit', (ev) => {
    ev.preventDefault();
    attempt(what, async () => {
      const b = Object.fromEntries(Object.entries(body()).filter(([, v]) => v !== ''));  // left empty: the default
      await Api.post(path, b);
      showMessage(done(b), 'info');
      $(formId).reset();
      reload();
    });
  });
}
onAdd('add-suppression', 'suppress', '/api/v1/suppressions',
      () => ({address: $('s-address').value.trim(), reason: $('s-reason').value.trim()}),
      (b) => `${b.address} is suppressed.`, loadSuppressions);
onAdd('add-override', 'release', '/api/v1/overrides',
      () => ({address: $('o-address').value.trim(), for: $('o-for').value.trim(), reason: $('o-reason').value.trim()}),
      (b) => `${b.address} is released for ${b.for || '30d'}.`, loadOverrides);

// ---- tabs and refresh ------------------------------------------------------------------------------

for (const tab of document.querySelectorAll('[data-tab]')) {
  tab.addEventListener('click', () => {
    for (const t of document.querySelectorAll('[data-tab]')) t.setAttribute('aria-selected', String(t === tab));
    for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== 'tab-' + tab.dataset.tab;
  });
}

async function refreshAll() {
  await Promise.all([loadStatus(), loadChart(), loadHeld(), loadSuppressions(), loadOverrides(), loadSenders()]);
}

$('refresh').addEventListener('click', () => { hideMessage(); refreshAll(); });
$('message-close').addEventListener('click', hideMessage);
// The status strip is what tells an admin at once that the safety net stopped: kept fresh.
setInterval(() => { if (!$('app').hidden) loadStatus(); }, 15000);

if (Api.token()) start(); else showLogin();
