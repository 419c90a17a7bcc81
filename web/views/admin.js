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
import { dateFormat, t, tn } from '../i18n.js';

const ADMIN_REFRESH_MS = 5000;

const STATE_CLASS = {
  idle: 'ok', syncing: 'ok', backoff: 'bad', error: 'bad', needs_reauth: 'warn', disabled: 'off',
};
// The state as shown in its pill (the state code itself is data-state).
function stateLabel(state) {
  switch (state) {
    case 'idle': return t('Idle');
    case 'syncing': return t('Syncing');
    case 'backoff': return t('Backoff');
    case 'error': return t('Error');
    case 'needs_reauth': return t('Needs re-auth');
    case 'disabled': return t('Disabled');
    default: return state || t('unknown');
  }
}

// A translated sentence with elements in it: each {key} placeholder named in parts becomes that
// node (or string); the rest stays text.
function withParts(s, parts) {
  return s.split(/(\{\w+\})/).filter((p) => p !== '').map((p) => {
    const m = /^\{(\w+)\}$/.exec(p);
    return m && Object.prototype.hasOwnProperty.call(parts, m[1]) ? parts[m[1]] : p;
  });
}

export async function viewAdmin(main) {
  const v = currentView(); // this page; v.alive turns false when the user leaves it
  if (!isAdmin()) {
    append(main, pageHeader(t('Admin')), h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, t('Admins only')),
      h('p', null, t('You need the admin role to manage mail accounts.'))));
    return;
  }
  const updated = h('span', { class: 'muted small' });
  const addToggle = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'add-account-toggle' }, t('Add account'));
  append(main, pageHeader(t('Mail accounts'), updated, h('span', { class: 'spacer' }), addToggle));
  const formWrap = h('div', { class: 'page-body', hidden: true });
  const body = h('div', { class: 'page-body' }, h('p', { class: 'loading' }, t('Loading accounts…')));
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
      h('th', null, t('Account')), h('th', null, t('State')), h('th', null, t('Last success')),
      h('th', null, t('Last error')), h('th', null, t('Synced / initial sync')),
      h('th', { class: 'col-actions' }, t('Actions')))),
    tbody);
  const empty = h('div', { class: 'empty', hidden: true }, h('p', { class: 'empty-title' }, t('No mail accounts')),
    h('p', null, t('Add the first one with “Add account”.')));
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
    updated.textContent = t('updated {time}', { time: dateFormat({ timeStyle: 'medium' }).format(new Date()) });
  };
  // The quarantine: messages the sync could not store, each with Retry and Drop.
  const qBody = h('tbody');
  const qTable = h('table', { class: 'table admin-table' },
    h('thead', null, h('tr', null,
      h('th', null, t('Account / mailbox')), h('th', { class: 'num' }, t('UID')), h('th', null, t('State')),
      h('th', null, t('Last failure')), h('th', { class: 'col-actions' }, t('Actions')))),
    qBody);
  const qEmpty = h('p', { class: 'muted', testid: 'quarantine-empty', hidden: true },
    t('Nothing is quarantined: every message seen on the servers is stored.'));
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
    h('h2', { class: 'section-title' }, t('Quarantine')),
    h('p', { class: 'muted small' }, t('Messages that could not be stored. After 3 failures a message is given up on and no longer fetched.'),
      ' ', t('Retry fetches it again at the next pass (say after an upgrade); Drop accepts the loss.')),
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
        toast(t('Account {name} added', { name: acc.name }), 'success');
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
      toast(what === 'retry' ? t('UID {uid} will be fetched again', { uid: e.uid }) : t('UID {uid} dropped', { uid: e.uid }), 'success');
    } catch (err) {
      showError(err);
    }
    try { await changed(); } catch (err) { showError(err); }
  };
  return h('tr', { class: 'row', testid: 'quarantine-row', dataset: { id: e.id, state: e.state } },
    h('td', { class: 'cell-title' }, e.account, h('div', { class: 'sub' }, e.mailbox)),
    h('td', { class: 'num' }, String(e.uid)),
    h('td', null, h('span', { class: `pill pill-${e.state === 'given_up' ? 'bad' : 'warn'}` },
      e.state === 'given_up' ? t('Given up') : t('Retrying ({attempts})', { attempts: e.attempts }))),
    h('td', { class: 'cell-error' }, h('div', null, e.reason), h('div', { class: 'sub' }, timeEl(e.last_failed_at))),
    h('td', { class: 'col-actions' }, h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-small', testid: 'quarantine-retry', onclick: act('retry') }, t('Retry')),
      h('button', { type: 'button', class: 'btn btn-small', testid: 'quarantine-drop', onclick: act('drop') }, t('Drop')))));
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
    h('button', { type: 'button', class: 'btn btn-quiet btn-small', 'aria-label': t('Dismiss'),
      onclick: () => { testTr.hidden = true; } }, '×'));
  const testTr = h('tr', { class: 'test-row', hidden: true }, h('td', { colspan: 6 }, testBox));
  const testBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'account-test' }, t('Test connection'));
  const resyncBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'account-resync' }, t('Resync'));
  const checkBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'account-check',
    title: t('Compare every synced folder with the server: is all of the mail here?') }, t('Check mail'));
  const toggleBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'account-toggle' });
  // OAuth2 accounts: the admin grants access by entering a code at the provider's page (the
  // device flow, Microsoft 365), or at the provider's consent page, which redirects back to
  // /oauth/callback (Google).
  const grantBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'account-oauth', hidden: true }, t('Grant access'));
  const tr = h('tr', { class: 'row', testid: 'admin-account-row', dataset: { name } },
    nameCell, stateCell, successCell, errorCell, syncCell,
    h('td', { class: 'col-actions' }, h('div', { class: 'actions' }, testBtn, grantBtn, h('div', { class: 'actions-line' }, checkBtn, resyncBtn, toggleBtn))));
  let current = a;

  const update = (acc) => {
    current = acc;
    clear(nameCell);
    const servers = `IMAP ${acc.imap ? `${acc.imap.host}:${acc.imap.port} (${acc.imap.tls})` : '—'}` +
      `, ${acc.smtp ? `SMTP ${acc.smtp.host}:${acc.smtp.port} (${acc.smtp.tls})` : t('no SMTP')}`;
    nameCell.title = servers;
    append(nameCell, h('div', { class: 'acct-name' }, acc.name, acc.enabled ? null : h('span', { class: 'tag' }, t('disabled'))),
      h('div', { class: 'sub' }, acc.address),
      h('div', { class: 'sub' }, t('owner {name}', { name: owners.get(acc.owner_id) || `#${acc.owner_id}` })));
    clear(stateCell);
    stateCell.appendChild(h('span', { class: `pill pill-${STATE_CLASS[acc.state] || 'off'}`, testid: 'account-state',
      dataset: { state: acc.state || '' } }, stateLabel(acc.state)));
    if (acc.lag_seconds > 60) stateCell.appendChild(h('div', { class: 'sub' }, t('lag {duration}', { duration: relLag(acc.lag_seconds) })));
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
    // The word alone (the number is its own element): a plural whose forms carry no {n}.
    append(syncCell, h('div', { class: 'synced' }, fmtCount(acc.messages_synced),
      h('span', { class: 'muted' }, ` ${tn(acc.messages_synced, 'messages', 'messages')}`)),
      progress(acc.initial),
      acc.backfill_pending > 0
        ? h('div', { class: 'sub', testid: 'account-backfill', title: t('Older mail is fetched a part each pass, after new mail') },
          t('backfill: {count} older to fetch', { count: fmtCount(acc.backfill_pending) }))
        : null);
    toggleBtn.textContent = acc.enabled ? t('Disable') : t('Enable');
    grantBtn.hidden = !(acc.imap && (acc.imap.oauth_device || acc.imap.oauth_authorize));
  };

  testBtn.addEventListener('click', async () => {
    testBtn.disabled = true;
    testTr.hidden = false;
    testBox.className = 'test-result';
    delete testOut.dataset.ok;
    delete testOut.dataset.step;
    testOut.textContent = t('Testing {name}…', { name });
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
    testOut.textContent = t("Comparing {name}'s folders with the server…", { name });
    try {
      const r = await api('GET', `/accounts/${encodeURIComponent(name)}/completeness`);
      testBox.className = `test-result ${r.complete ? 'test-ok' : 'test-bad'}`;
      clear(testOut);
      const rows = r.folders.map((f) => {
        let note = f.error;
        if (!note && f.missing_count > 0) {
          note = f.missing_count > f.missing.length
            ? t('missing UIDs: {uids} … ({count} more)', { uids: f.missing.join(' '), count: f.missing_count - f.missing.length })
            : t('missing UIDs: {uids}', { uids: f.missing.join(' ') });
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
          r.complete ? t('every message on the server is stored or quarantined') : t('mail is missing or a folder could not be read')),
        h('table', { class: 'check-table' },
          h('thead', null, h('tr', null, ...[t('Folder'), t('On server'), t('Stored'), t('Quarantined'), t('Missing'), t('Gone'), '']
            .map((label) => h('th', null, label)))),
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
    testOut.textContent = t('Asking the provider for access to {name}…', { name });
    const path = `/accounts/${encodeURIComponent(name)}/oauth`;
    const show = (c) => {
      clear(testOut);
      testOut.dataset.consent = c.state;
      if (c.state === 'pending' && c.authorize_url) {
        // The redirect flow (Google): the provider's page, which comes back to /oauth/callback.
        const safe = /^https?:\/\//i.test(c.authorize_url);
        const page = safe
          ? h('a', { href: c.authorize_url, target: '_blank', rel: 'noopener noreferrer', testid: 'account-oauth-link' },
            t("open the provider's consent page"))
          : c.authorize_url;
        append(testOut, h('strong', null, `${name}: `),
          withParts(t('{page} and allow access (within {min} min); this page notices when it is granted.',
            { min: Math.round(c.expires_in / 60) }), { page }));
      } else if (c.state === 'pending') {
        append(testOut, h('strong', null, `${name}: `),
          withParts(t('open {url} and enter the code {code} (within {min} min).', { min: Math.round(c.expires_in / 60) }), {
            url: h('a', { href: c.verification_uri, target: '_blank', rel: 'noopener noreferrer' }, c.verification_uri),
            code: h('code', { testid: 'account-oauth-code' }, c.user_code),
          }));
      } else if (c.state === 'granted') {
        testBox.className = 'test-result test-ok';
        append(testOut, h('strong', null, `✓ ${name}: `), t('access granted; the account logs in again.'));
      } else {
        testBox.className = 'test-result test-bad';
        append(testOut, h('strong', null, `✗ ${name}: `), c.error || t('access not granted'));
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
      toast(t('Resync of {name} started', { name }), 'success');
    } catch (e) { showError(e); }
    resyncBtn.disabled = false;
  });
  toggleBtn.addEventListener('click', async () => {
    toggleBtn.disabled = true;
    try {
      const r = await api('PATCH', `/accounts/${encodeURIComponent(name)}`, { enabled: !current.enabled });
      update(r.account);
      toast(r.account.enabled ? t('{name} enabled', { name }) : t('{name} disabled', { name }), 'success');
    } catch (e) { showError(e); }
    toggleBtn.disabled = false;
  });
  return { trs: [tr, testTr], update };
}

function relLag(s) {
  if (s < 3600) return t('{n} min', { n: Math.round(s / 60) });
  if (s < 86400) return t('{n} h', { n: Math.round(s / 3600) });
  return t('{n} d', { n: Math.round(s / 86400) });
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
    label = done ? `${fmtCount(done)} / ?` : t('not started');
  } else if (total === 0 || done >= total) {
    bar.style.width = '100%';
    wrap.classList.add('progress-done');
    label = total ? `${fmtCount(total)} ✓` : t('done');
  } else {
    const pct = Math.max(0, Math.min(100, (done / total) * 100));
    bar.style.width = `${pct.toFixed(1)}%`;
    label = `${fmtCount(done)} / ${fmtCount(total)} (${Math.floor(pct)}%)`;
  }
  return h('div', { class: 'progress-wrap', title: t('Initial sync') }, wrap, h('div', { class: 'sub' }, t('initial {progress}', { progress: label })));
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
    const tls = select([['implicit', t('TLS (implicit)')], ['starttls', 'STARTTLS'], ['none', t('None (loopback only)')]], 'implicit');
    const port = text({ type: 'number', min: 1, max: 65535, inputmode: 'numeric', placeholder: String(defaults.implicit) });
    tls.addEventListener('change', () => { port.placeholder = String(defaults[tls.value]); });
    const auth = select([['password', t('Password')], ['xoauth2', 'OAuth 2 (XOAUTH2)']], 'password');
    const pass = h('input', { type: 'password', autocomplete: 'new-password', maxlength: 4096 });
    auth.addEventListener('change', () => {
      pass.disabled = auth.value !== 'password';
      pass.placeholder = pass.disabled ? t('set up the token in the config file') : '';
    });
    return h('div', { class: 'form-grid' },
      field(t('Host'), `${prefix}.host`, text({ maxlength: 253, placeholder: `${prefix}.example.com` })),
      field(t('Port'), `${prefix}.port`, port, t('Empty: the default for the TLS mode')),
      field(t('TLS'), `${prefix}.tls`, tls),
      field(t('Username'), `${prefix}.username`, text({ maxlength: 254 })),
      field(t('Auth'), `${prefix}.auth`, auth),
      field(t('Password'), `${prefix}.password`, pass, t('Stored in the secrets file, never shown again')),
      field(t('CA file'), `${prefix}.ca_file`, text({ maxlength: 1024, placeholder: '/etc/ssl/private-ca.pem' }),
        t('Optional: an extra trust anchor (absolute path on the server) for a private CA')));
  };

  const smtpOn = h('input', { type: 'checkbox', id: 'f-smtp-on' });
  const smtpBox = h('fieldset', { class: 'fieldset', hidden: true }, h('legend', null, t('SMTP (sending replies)')),
    server('smtp', { implicit: 465, starttls: 587, none: 25 }));
  smtpOn.addEventListener('change', () => { smtpBox.hidden = !smtpOn.checked; });
  const general = h('div', { class: 'field-error', testid: 'field-error', dataset: { field: '' }, hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'add-account-submit' }, t('Add account'));
  const cancel = h('button', { type: 'button', class: 'btn btn-quiet', onclick: onCancel }, t('Cancel'));

  append(form, h('h2', null, t('Add a mail account')),
    h('div', { class: 'form-grid' },
      field(t('Name'), 'name', text({ maxlength: 64, pattern: '[A-Za-z0-9._\\-]{1,64}', placeholder: 'alice' }),
        t('Letters, digits, . _ - (at most 64)')),
      field(t('Owner id'), 'owner_id', text({ type: 'number', min: 1, inputmode: 'numeric', placeholder: '1' }),
        t('The CRM user who owns this mailbox')),
      field(t('Address'), 'address', text({ type: 'email', maxlength: 254, placeholder: 'alice@example.com' }))),
    h('fieldset', { class: 'fieldset' }, h('legend', null, t('IMAP (reading mail)')),
      server('imap', { implicit: 993, starttls: 143, none: 143 })),
    h('label', { class: 'check', for: 'f-smtp-on' }, smtpOn, t('Send replies through an SMTP server')),
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
    const required = t('Required');
    const missing = [['name', required], ['owner_id', required], ['address', required],
      ['imap.host', required], ['imap.username', required]];
    if (smtpOn.checked) missing.push(['smtp.host', required], ['smtp.username', required]);
    let first = null;
    for (const [name, msg] of missing) {
      if (!value(name)) { const el = showFieldError(name, msg); first = first || el; }
    }
    if (value('name') && !/^[A-Za-z0-9._-]{1,64}$/.test(value('name'))) {
      first = first || showFieldError('name', t('Use 1-64 letters, digits, . _ -'));
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
