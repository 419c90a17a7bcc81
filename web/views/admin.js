// #/admin (admins only): the mail accounts with their sync state, connection test, resync,
// enable/disable, and the Add account form.
//
// Stable test selectors (data-testid):
//   admin-account-row     one account in the admin table (data-name = account name); its
//                         cells: account (name, address, owner), state, last success, last
//                         error (class, time, text), synced / initial sync, actions
//   account-state         the state pill of an account (data-state = state)
//   account-progress      the initial-sync progress bar of an account
//   account-backfill      older mail the backfill still has to fetch (when any)
//   account-oauth         "Grant access" (OAuth2 accounts); the device flow's code in
//   account-oauth-code    account-oauth-code, the redirect flow's provider link in
//   account-oauth-link
//   account-test          Test connection button
//   account-test-result   outcome of the connection test, in a row under the account's
//                         ("✓ name — step: message"; data-ok = true/false, data-step = step)
//   account-check         "Check mail" button: the completeness of the account's folders against
//                         its server, shown in the result row as account-check-result (data-complete
//                         = true/false) with one account-check-folder per folder (data-folder,
//                         data-missing = its missing count)
//   account-resync        Resync button
//   account-toggle        Enable/Disable button
//   add-account-toggle    button that opens the Add account form
//   add-account-form      the Add account form (inputs have name = API field, e.g. imap.host)
//   field-error           an error message next to a form field (data-field = API field)
//   add-account-submit    its submit button
//   quarantine-row        one quarantined message (data-id = its id, data-state = retrying |
//                         given_up); its buttons quarantine-retry and quarantine-drop
//   quarantine-empty      "Nothing is quarantined"

import {
  h, append, clear, timeEl, fmtCount, api, state, currentView, every, toast, showError, loadDeals,
  isAdmin, pageHeader,
} from '../core.js';

const ADMIN_REFRESH_MS = 5000;

const STATE_CLASS = {
  idle: 'ok', syncing: 'ok', backoff: 'bad', error: 'bad', needs_reauth: 'warn', disabled: 'off',
};
const STATE_LABEL = {
  idle: 'Idle', syncing: 'Syncing', backoff: 'Backoff', error: 'Error', needs_reauth: 'Needs re-auth',
  disabled: 'Disabled',
};

export async function viewAdmin(main) {
  const v = currentView(); // this page; v.alive turns false when the user leaves it
  if (!isAdmin()) {
    append(main, pageHeader('Admin'), h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, 'Admins only'),
      h('p', null, 'You need the admin role to manage mail accounts.')));
    return;
  }
  const updated = h('span', { class: 'muted small' });
  const addToggle = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'add-account-toggle' }, 'Add account');
  append(main, pageHeader('Mail accounts', updated, h('span', { class: 'spacer' }), addToggle));
  const formWrap = h('div', { class: 'page-body', hidden: true });
  const body = h('div', { class: 'page-body' }, h('p', { class: 'loading' }, 'Loading accounts…'));
  append(main, formWrap, body);

  // Owner names, where a deal names its owner (the API has no user list).
  const owners = new Map();
  try {
    for (const d of await loadDeals()) if (d.owner) owners.set(d.owner.id, d.owner.name);
  } catch (e) { if (e.handled) return; }
  if (state.me && state.me.user) owners.set(state.me.user.id, state.me.user.name);

  const tbody = h('tbody');
  const table = h('table', { class: 'table admin-table' },
    h('thead', null, h('tr', null,
      h('th', null, 'Account'), h('th', null, 'State'), h('th', null, 'Last success'),
      h('th', null, 'Last error'), h('th', null, 'Synced / initial sync'),
      h('th', { class: 'col-actions' }, 'Actions'))),
    tbody);
  const empty = h('div', { class: 'empty', hidden: true }, h('p', { class: 'empty-title' }, 'No mail accounts'),
    h('p', null, 'Add the first one with “Add account”.'));
  const rows = new Map(); // name -> {trs, update(account)}

  const refresh = async () => {
    const r = await api('GET', '/accounts');
    if (!v.alive) return;
    const seen = new Set();
    const order = [];
    for (const a of r.accounts) {
      seen.add(a.name);
      let row = rows.get(a.name);
      if (!row) { row = accountRow(a, owners); rows.set(a.name, row); }
      row.update(a);
      order.push(...row.trs);
    }
    for (const [name, row] of rows) if (!seen.has(name)) { for (const tr of row.trs) tr.remove(); rows.delete(name); }
    // Move rows only when the order changed, so that focus stays where it is on a refresh.
    if (order.some((tr, i) => tbody.children[i] !== tr)) append(tbody, order);
    empty.hidden = r.accounts.length > 0;
    table.hidden = r.accounts.length === 0;
    updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
  };
  // The quarantine: messages the sync could not store, each with Retry and Drop.
  const qBody = h('tbody');
  const qTable = h('table', { class: 'table admin-table' },
    h('thead', null, h('tr', null,
      h('th', null, 'Account / mailbox'), h('th', { class: 'num' }, 'UID'), h('th', null, 'State'),
      h('th', null, 'Last failure'), h('th', { class: 'col-actions' }, 'Actions'))),
    qBody);
  const qEmpty = h('p', { class: 'muted', testid: 'quarantine-empty', hidden: true },
    'Nothing is quarantined: every message seen on the servers is stored.');
  const refreshQuarantine = async () => {
    const r = await api('GET', '/quarantine');
    if (!v.alive) return;
    clear(qBody);
    for (const e of r.quarantine) qBody.appendChild(quarantineRow(e, refreshQuarantine));
    qEmpty.hidden = r.quarantine.length > 0;
    qTable.hidden = r.quarantine.length === 0;
  };

  await refresh();
  await refreshQuarantine();
  if (!v.alive) return;
  clear(body);
  append(body, h('div', { class: 'table-scroll' }, table), empty,
    h('h2', { class: 'section-title' }, 'Quarantine'),
    h('p', { class: 'muted small' }, 'Messages that could not be stored. After 3 failures a message is given up on and no longer fetched. ',
      'Retry fetches it again at the next pass (say after an upgrade); Drop accepts the loss.'),
    h('div', { class: 'table-scroll' }, qTable), qEmpty);
  let failing = false;
  every(ADMIN_REFRESH_MS, async () => {
    try { await refresh(); await refreshQuarantine(); failing = false; } catch (e) { if (!failing) showError(e); failing = true; }
  });

  addToggle.addEventListener('click', () => {
    if (formWrap.hidden) {
      clear(formWrap);
      formWrap.appendChild(addAccountForm(async (acc) => {
        formWrap.hidden = true;
        addToggle.hidden = false;
        toast(`Account ${acc.name} added`, 'success');
        try { await refresh(); } catch (e) { showError(e); }
      }, () => { formWrap.hidden = true; addToggle.hidden = false; }));
      formWrap.hidden = false;
      addToggle.hidden = true;
      formWrap.querySelector('input').focus();
    }
  });
}

function quarantineRow(e, changed) {
  const act = (what) => async (ev) => {
    ev.currentTarget.disabled = true;
    try {
      await api('POST', `/quarantine/${encodeURIComponent(e.id)}/${what}`);
      toast(what === 'retry' ? `UID ${e.uid} will be fetched again` : `UID ${e.uid} dropped`, 'success');
    } catch (err) {
      showError(err);
    }
    try { await changed(); } catch (err) { showError(err); }
  };
  return h('tr', { class: 'row', testid: 'quarantine-row', dataset: { id: e.id, state: e.state } },
    h('td', { class: 'cell-title' }, e.account, h('div', { class: 'sub' }, e.mailbox)),
    h('td', { class: 'num' }, String(e.uid)),
    h('td', null, h('span', { class: `pill pill-${e.state === 'given_up' ? 'bad' : 'warn'}` },
      e.state === 'given_up' ? 'Given up' : `Retrying (${e.attempts})`)),
    h('td', { class: 'cell-error' }, h('div', null, e.reason), h('div', { class: 'sub' }, timeEl(e.last_failed_at))),
    h('td', { class: 'col-actions' }, h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-small', testid: 'quarantine-retry', onclick: act('retry') }, 'Retry'),
      h('button', { type: 'button', class: 'btn btn-small', testid: 'quarantine-drop', onclick: act('drop') }, 'Drop'))));
}

function accountRow(a, owners) {
  const name = a.name;
  const nameCell = h('td', { class: 'cell-title' });
  const stateCell = h('td');
  const successCell = h('td', { class: 'col-date' });
  const errorCell = h('td', { class: 'cell-error' });
  const syncCell = h('td', { class: 'cell-sync' });
  const testOut = h('span', { testid: 'account-test-result' });
  const testBox = h('div', { class: 'test-result' }, testOut,
    h('button', { type: 'button', class: 'btn btn-quiet btn-small', 'aria-label': 'Dismiss',
      onclick: () => { testTr.hidden = true; } }, '×'));
  const testTr = h('tr', { class: 'test-row', hidden: true }, h('td', { colspan: 6 }, testBox));
  const testBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'account-test' }, 'Test connection');
  const resyncBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'account-resync' }, 'Resync');
  const checkBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'account-check',
    title: 'Compare every synced folder with the server: is all of the mail here?' }, 'Check mail');
  const toggleBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'account-toggle' });
  // OAuth2 accounts: the admin grants access by entering a code at the provider's page (the
  // device flow, Microsoft 365), or at the provider's consent page, which redirects back to
  // /oauth/callback (Google).
  const grantBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'account-oauth', hidden: true }, 'Grant access');
  const tr = h('tr', { class: 'row', testid: 'admin-account-row', dataset: { name } },
    nameCell, stateCell, successCell, errorCell, syncCell,
    h('td', { class: 'col-actions' }, h('div', { class: 'actions' }, testBtn, grantBtn, h('div', { class: 'actions-line' }, checkBtn, resyncBtn, toggleBtn))));
  let current = a;

  const update = (acc) => {
    current = acc;
    clear(nameCell);
    const servers = `IMAP ${acc.imap ? `${acc.imap.host}:${acc.imap.port} (${acc.imap.tls})` : '—'}` +
      `, ${acc.smtp ? `SMTP ${acc.smtp.host}:${acc.smtp.port} (${acc.smtp.tls})` : 'no SMTP'}`;
    nameCell.title = servers;
    append(nameCell, h('div', { class: 'acct-name' }, acc.name, acc.enabled ? null : h('span', { class: 'tag' }, 'disabled')),
      h('div', { class: 'sub' }, acc.address),
      h('div', { class: 'sub' }, 'owner ', owners.get(acc.owner_id) || `#${acc.owner_id}`));
    clear(stateCell);
    stateCell.appendChild(h('span', { class: `pill pill-${STATE_CLASS[acc.state] || 'off'}`, testid: 'account-state',
      dataset: { state: acc.state || '' } }, STATE_LABEL[acc.state] || acc.state || 'unknown'));
    if (acc.lag_seconds > 60) stateCell.appendChild(h('div', { class: 'sub' }, `lag ${relLag(acc.lag_seconds)}`));
    clear(successCell);
    successCell.appendChild(timeEl(acc.last_success_at));
    clear(errorCell);
    if (acc.last_error || acc.last_error_class) {
      append(errorCell,
        h('div', null,
          acc.last_error_class ? h('span', { class: 'err-class' }, acc.last_error_class) : null,
          acc.last_error_at ? timeEl(acc.last_error_at, 'time sub') : null),
        h('div', { class: 'err-text', title: acc.last_error || '' }, acc.last_error || ''));
    } else {
      errorCell.appendChild(h('span', { class: 'muted' }, '—'));
    }
    clear(syncCell);
    append(syncCell, h('div', { class: 'synced' }, fmtCount(acc.messages_synced), h('span', { class: 'muted' }, ' messages')),
      progress(acc.initial),
      acc.backfill_pending > 0
        ? h('div', { class: 'sub', testid: 'account-backfill', title: 'Older mail is fetched a part each pass, after new mail' },
          `backfill: ${fmtCount(acc.backfill_pending)} older to fetch`)
        : null);
    toggleBtn.textContent = acc.enabled ? 'Disable' : 'Enable';
    grantBtn.hidden = !(acc.imap && (acc.imap.oauth_device || acc.imap.oauth_authorize));
  };

  testBtn.addEventListener('click', async () => {
    testBtn.disabled = true;
    testTr.hidden = false;
    testBox.className = 'test-result';
    delete testOut.dataset.ok;
    delete testOut.dataset.step;
    testOut.textContent = `Testing ${name}…`;
    try {
      const r = await api('POST', `/accounts/${encodeURIComponent(name)}/test`);
      testBox.className = `test-result ${r.ok ? 'test-ok' : 'test-bad'}`;
      testOut.dataset.ok = String(Boolean(r.ok));
      testOut.dataset.step = r.step || '';
      clear(testOut);
      append(testOut, h('strong', null, `${r.ok ? '✓' : '✗'} ${name} — ${r.step}: `), r.message || '');
    } catch (e) {
      testTr.hidden = true;
      showError(e);
    }
    testBtn.disabled = false;
  });
  checkBtn.addEventListener('click', async () => {
    checkBtn.disabled = true;
    testTr.hidden = false;
    testBox.className = 'test-result';
    clear(testOut);
    testOut.textContent = `Comparing ${name}'s folders with the server…`;
    try {
      const r = await api('GET', `/accounts/${encodeURIComponent(name)}/completeness`);
      testBox.className = `test-result ${r.complete ? 'test-ok' : 'test-bad'}`;
      clear(testOut);
      const rows = r.folders.map((f) => {
        let note = f.error;
        if (!note && f.missing_count > 0) {
          note = `missing UIDs: ${f.missing.join(' ')}` +
            (f.missing_count > f.missing.length ? ` … (${f.missing_count - f.missing.length} more)` : '');
        }
        return h('tr', { testid: 'account-check-folder', dataset: { folder: f.folder, missing: String(f.missing_count) } },
          h('td', null, f.folder), h('td', { class: 'num' }, fmtCount(f.server)),
          h('td', { class: 'num' }, fmtCount(f.stored)), h('td', { class: 'num' }, fmtCount(f.quarantined)),
          h('td', { class: 'num' }, fmtCount(f.missing_count)), h('td', { class: 'num' }, fmtCount(f.gone)),
          h('td', null, note || ''));
      });
      append(testOut,
        h('div', { testid: 'account-check-result', dataset: { complete: String(Boolean(r.complete)) } },
          h('strong', null, `${r.complete ? '✓' : '✗'} ${name} — `),
          r.complete ? 'every message on the server is stored or quarantined' : 'mail is missing or a folder could not be read'),
        h('table', { class: 'check-table' },
          h('thead', null, h('tr', null, ...['Folder', 'On server', 'Stored', 'Quarantined', 'Missing', 'Gone', ''].map((t) => h('th', null, t)))),
          h('tbody', null, ...rows)));
    } catch (e) {
      testTr.hidden = true;
      showError(e);
    }
    checkBtn.disabled = false;
  });
  grantBtn.addEventListener('click', async () => {
    grantBtn.disabled = true;
    testTr.hidden = false;
    testBox.className = 'test-result';
    testOut.textContent = `Asking the provider for access to ${name}…`;
    const path = `/accounts/${encodeURIComponent(name)}/oauth`;
    const show = (c) => {
      clear(testOut);
      testOut.dataset.consent = c.state;
      if (c.state === 'pending' && c.authorize_url) {
        // The redirect flow (Google): the provider's page, which comes back to /oauth/callback.
        const safe = /^https?:\/\//i.test(c.authorize_url);
        append(testOut, h('strong', null, `${name}: `),
          safe ? h('a', { href: c.authorize_url, target: '_blank', rel: 'noopener noreferrer', testid: 'account-oauth-link' },
            'open the provider\'s consent page') : c.authorize_url,
          ` and allow access (within ${Math.round(c.expires_in / 60)} min); this page notices when it is granted.`);
      } else if (c.state === 'pending') {
        append(testOut, h('strong', null, `${name}: `), 'open ',
          h('a', { href: c.verification_uri, target: '_blank', rel: 'noopener noreferrer' }, c.verification_uri),
          ' and enter the code ', h('code', { testid: 'account-oauth-code' }, c.user_code),
          ` (within ${Math.round(c.expires_in / 60)} min).`);
      } else if (c.state === 'granted') {
        testBox.className = 'test-result test-ok';
        append(testOut, h('strong', null, `✓ ${name}: `), 'access granted; the account logs in again.');
      } else {
        testBox.className = 'test-result test-bad';
        append(testOut, h('strong', null, `✗ ${name}: `), c.error || 'access not granted');
      }
    };
    try {
      let c = (await api('POST', path)).consent;
      show(c);
      while (c.state === 'pending' && document.body.contains(tr)) {
        await new Promise((r) => setTimeout(r, 2000));
        c = (await api('GET', path)).consent;
        show(c);
      }
    } catch (e) {
      testTr.hidden = true;
      showError(e);
    }
    grantBtn.disabled = false;
  });
  resyncBtn.addEventListener('click', async () => {
    resyncBtn.disabled = true;
    try {
      const r = await api('POST', `/accounts/${encodeURIComponent(name)}/resync`);
      if (r && r.account) update(r.account);
      toast(`Resync of ${name} started`, 'success');
    } catch (e) { showError(e); }
    resyncBtn.disabled = false;
  });
  toggleBtn.addEventListener('click', async () => {
    toggleBtn.disabled = true;
    try {
      const r = await api('PATCH', `/accounts/${encodeURIComponent(name)}`, { enabled: !current.enabled });
      update(r.account);
      toast(`${name} ${r.account.enabled ? 'enabled' : 'disabled'}`, 'success');
    } catch (e) { showError(e); }
    toggleBtn.disabled = false;
  });
  return { trs: [tr, testTr], update };
}

function relLag(s) {
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

function progress(initial) {
  const done = initial && typeof initial.done === 'number' ? initial.done : 0;
  const total = initial && typeof initial.total === 'number' ? initial.total : null;
  const bar = h('div', { class: 'progress-fill' });
  const wrap = h('div', { class: 'progress', testid: 'account-progress', role: 'progressbar',
    'aria-valuemin': 0, 'aria-valuenow': done, 'aria-valuemax': total === null ? undefined : total }, bar);
  let label;
  if (total === null) {
    if (done > 0) wrap.classList.add('progress-unknown');
    label = done ? `${fmtCount(done)} / ?` : 'not started';
  } else if (total === 0 || done >= total) {
    bar.style.width = '100%';
    wrap.classList.add('progress-done');
    label = total ? `${fmtCount(total)} ✓` : 'done';
  } else {
    const pct = Math.max(0, Math.min(100, (done / total) * 100));
    bar.style.width = `${pct.toFixed(1)}%`;
    label = `${fmtCount(done)} / ${fmtCount(total)} (${Math.floor(pct)}%)`;
  }
  return h('div', { class: 'progress-wrap', title: 'Initial sync' }, wrap, h('div', { class: 'sub' }, `initial ${label}`));
}

// Add account form. Inputs are named after the API's fields (imap.host, smtp.port, ...) so that
// an error's `field` finds its input.
function addAccountForm(onCreated, onCancel) {
  const form = h('form', { class: 'card account-form', testid: 'add-account-form', novalidate: true });
  const errors = new Map();
  const field = (label, name, input, hint) => {
    input.name = name;
    input.id = `f-${name.replace('.', '-')}`;
    input.classList.add('input');
    const err = h('div', { class: 'field-error', testid: 'field-error', dataset: { field: name }, hidden: true });
    errors.set(name, { input, err });
    return h('div', { class: 'field' }, h('label', { for: input.id }, label), input,
      hint ? h('div', { class: 'hint' }, hint) : null, err);
  };
  const text = (attrs) => h('input', Object.assign({ type: 'text', autocomplete: 'off', spellcheck: 'false' }, attrs));
  const select = (options, value) => h('select', null,
    options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)));

  const server = (prefix, defaults) => {
    const tls = select([['implicit', 'TLS (implicit)'], ['starttls', 'STARTTLS'], ['none', 'None (loopback only)']], 'implicit');
    const port = text({ type: 'number', min: 1, max: 65535, inputmode: 'numeric', placeholder: String(defaults.implicit) });
    tls.addEventListener('change', () => { port.placeholder = String(defaults[tls.value]); });
    const auth = select([['password', 'Password'], ['xoauth2', 'OAuth 2 (XOAUTH2)']], 'password');
    const pass = h('input', { type: 'password', autocomplete: 'new-password', maxlength: 4096 });
    auth.addEventListener('change', () => {
      pass.disabled = auth.value !== 'password';
      pass.placeholder = pass.disabled ? 'set up the token in the config file' : '';
    });
    return h('div', { class: 'form-grid' },
      field('Host', `${prefix}.host`, text({ maxlength: 253, placeholder: `${prefix}.example.com` })),
      field('Port', `${prefix}.port`, port, 'Empty: the default for the TLS mode'),
      field('TLS', `${prefix}.tls`, tls),
      field('Username', `${prefix}.username`, text({ maxlength: 254 })),
      field('Auth', `${prefix}.auth`, auth),
      field('Password', `${prefix}.password`, pass, 'Stored in the secrets file, never shown again'),
      field('CA file', `${prefix}.ca_file`, text({ maxlength: 1024, placeholder: '/etc/ssl/private-ca.pem' }),
        'Optional: an extra trust anchor (absolute path on the server) for a private CA'));
  };

  const smtpOn = h('input', { type: 'checkbox', id: 'f-smtp-on' });
  const smtpBox = h('fieldset', { class: 'fieldset', hidden: true }, h('legend', null, 'SMTP (sending replies)'),
    server('smtp', { implicit: 465, starttls: 587, none: 25 }));
  smtpOn.addEventListener('change', () => { smtpBox.hidden = !smtpOn.checked; });
  const general = h('div', { class: 'field-error', testid: 'field-error', dataset: { field: '' }, hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'add-account-submit' }, 'Add account');
  const cancel = h('button', { type: 'button', class: 'btn btn-quiet', onclick: onCancel }, 'Cancel');

  append(form, h('h2', null, 'Add a mail account'),
    h('div', { class: 'form-grid' },
      field('Name', 'name', text({ maxlength: 64, pattern: '[A-Za-z0-9._\\-]{1,64}', placeholder: 'alice' }),
        'Letters, digits, . _ - (at most 64)'),
      field('Owner id', 'owner_id', text({ type: 'number', min: 1, inputmode: 'numeric', placeholder: '1' }),
        'The CRM user who owns this mailbox'),
      field('Address', 'address', text({ type: 'email', maxlength: 254, placeholder: 'alice@example.com' }))),
    h('fieldset', { class: 'fieldset' }, h('legend', null, 'IMAP (reading mail)'),
      server('imap', { implicit: 993, starttls: 143, none: 143 })),
    h('label', { class: 'check', for: 'f-smtp-on' }, smtpOn, 'Send replies through an SMTP server'),
    smtpBox, general,
    h('div', { class: 'form-actions' }, submit, cancel));

  const value = (name) => errors.get(name).input.value.trim();
  const serverPayload = (prefix) => {
    const s = { host: value(`${prefix}.host`), username: value(`${prefix}.username`),
      tls: value(`${prefix}.tls`), auth: value(`${prefix}.auth`) };
    const port = value(`${prefix}.port`);
    if (port) s.port = Number(port);
    const ca = value(`${prefix}.ca_file`);
    if (ca) s.ca_file = ca;
    const pw = errors.get(`${prefix}.password`).input.value;
    if (s.auth === 'password' && pw) s.password = pw;
    return s;
  };
  const showFieldError = (name, message) => {
    const entry = errors.get(name);
    if (entry) {
      entry.err.textContent = message;
      entry.err.hidden = false;
      entry.input.setAttribute('aria-invalid', 'true');
      return entry.input;
    }
    general.textContent = name ? `${name}: ${message}` : message;
    general.hidden = false;
    return null;
  };
  const clearErrors = () => {
    for (const { input, err } of errors.values()) { err.hidden = true; input.removeAttribute('aria-invalid'); }
    general.hidden = true;
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    // The same checks as the API's, so most mistakes are shown before the round trip.
    const missing = [['name', 'Required'], ['owner_id', 'Required'], ['address', 'Required'],
      ['imap.host', 'Required'], ['imap.username', 'Required']];
    if (smtpOn.checked) missing.push(['smtp.host', 'Required'], ['smtp.username', 'Required']);
    let first = null;
    for (const [name, msg] of missing) {
      if (!value(name)) { const el = showFieldError(name, msg); first = first || el; }
    }
    if (value('name') && !/^[A-Za-z0-9._-]{1,64}$/.test(value('name'))) {
      first = first || showFieldError('name', 'Use 1-64 letters, digits, . _ -');
    }
    if (first) { first.focus(); return; }
    const payload = { name: value('name'), owner_id: Number(value('owner_id')), address: value('address'),
      imap: serverPayload('imap') };
    if (smtpOn.checked) payload.smtp = serverPayload('smtp');
    submit.disabled = true;
    try {
      const r = await api('POST', '/accounts', payload);
      onCreated(r.account);
    } catch (e) {
      if (e.field || e.status === 409 || e.status === 422 || e.status === 400) {
        const el = showFieldError(e.field || '', e.message);
        if (el) el.focus();
      } else {
        showError(e);
      }
    }
    submit.disabled = false;
  });
  return form;
}
