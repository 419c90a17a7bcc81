// CRM Mail web page: a single page over the HTTP API v1 (docs/api-contract.md, docs/openapi.yaml).
// No framework, no build step. Served with a strict CSP: no inline script or style, no eval.
// Mail content is hostile: the DOM is built with createElement/textContent only, never innerHTML,
// and HTML bodies are shown only through the server's sanitised document in a sandboxed iframe.
//
// Stable test selectors (data-testid):
//   login-form            the login form
//   login-email           email input on #/login
//   login-password        password input on #/login
//   login-submit          login button
//   login-error           the login error message (wrong password, rate limited, ...)
//   nav-deals             left nav link to #/deals
//   nav-unsorted          left nav link to #/unsorted
//   nav-unsorted-count    the unsorted count badge in that link (hidden when 0)
//   nav-admin             left nav link to #/admin (present only for role admin)
//   nav-user              the logged-in user's name in the nav
//   logout                the Log out button
//   page-title            the h1 of the current page (on #/threads/{id} it is thread-subject)
//   load-error            the message shown when a page could not load (with a Retry button)
//   deal-filter           the search/filter box on #/deals
//   deal-status-filter    the status select (all/open/won/lost) on #/deals
//   deal-row              one deal in the list (data-id = deal id; class "unread" when unread > 0)
//   deal-unread           the unread badge in a deal row (only when unread > 0)
//   deal-header           the deal summary on #/deals/{id}
//   thread-row            one thread in a deal's list (data-id = thread id)
//   thread-unread         the unread badge in a thread row (only when unread_count > 0)
//   thread-subject        the subject heading on #/threads/{id}
//   thread-deal           the thread's deal (link, or "Unsorted") on #/threads/{id}
//   change-deal           "Change deal" / "Link to deal" button
//   deal-select           the select of deals shown by change-deal
//   deal-select-submit    the button that links to the selected deal
//   unlink                "Unlink" button
//   mark-unread           "Mark unread" / "Mark read" toggle of the thread
//   message               one message (data-id = message id; class "was-unread" if it was unread)
//   message-from          a message's sender (name and address)
//   message-text          a message's plain text (visible part)
//   quoted-toggle         "··· show quoted text" toggle of a message
//   message-quoted        the folded quoted tail of a message
//   html-toggle           the Text/HTML toggle of a message with has_html
//   message-html-frame    the sandboxed iframe showing a message's HTML
//   remote-images-notice  "N remote images blocked" notice
//   show-images           "Show images" button (reloads the iframe with ?images=1)
//   attachment            one attachment link (href = its url)
//   split-message         "Not part of this conversation" on a message (threads of 2+ messages)
//   split-confirm         the confirming "Move to a new conversation" button it shows
//   split-cancel          the Cancel button next to it
//   reply-form            the reply box
//   reply-parent          "Replying to NAME, DATE" (data-message-id = the message answered)
//   reply-to-warning      warning: replies go to a Reply-To of another domain, or the message
//                         looks spoofed and supplies no recipient
//   reply-to-message      "Reply" on one message: the reply box answers that message
//   message-reply-to      a message's Reply-To addresses
//   message-suspicious    the warning on a message whose sender looks spoofed
//   reply-account         account select of the reply box
//   reply-no-account      note shown instead when the user has no account to send from
//   reply-mode            mode select (reply / reply-all)
//   reply-to              optional To field (comma separated)
//   reply-cc              optional Cc field (comma separated)
//   reply-body            the reply textarea
//   reply-send            Send button
//   reply-status          outbox state: Queued…, Sending…, Sent ✓, Failed: …
//   unsorted-row          one unsorted thread (data-id = thread id)
//   unsorted-reason       its reason
//   assign-suggested      one-click "Assign to {deal name}" button (data-deal-id)
//   assign-select         select of all deals in an unsorted row
//   assign-submit         the button that assigns to the deal chosen in assign-select
//   admin-account-row     one account in the admin table (data-name = account name); its
//                         cells: account (name, address, owner), state, last success, last
//                         error (class, time, text), synced / initial sync, actions
//   account-state         the state pill of an account (data-state = state)
//   account-progress      the initial-sync progress bar of an account
//   account-test          Test connection button
//   account-test-result   outcome of the connection test, in a row under the account's
//                         ("✓ name — step: message"; data-ok = true/false, data-step = step)
//   account-resync        Resync button
//   account-toggle        Enable/Disable button
//   add-account-toggle    button that opens the Add account form
//   add-account-form      the Add account form (inputs have name = API field, e.g. imap.host)
//   field-error           an error message next to a form field (data-field = API field)
//   add-account-submit    its submit button
//   toast                 the toast/banner with the latest error or confirmation
//
// Keyboard: j/k move through rows and messages, Enter opens, / focuses the filter, r the reply.

const API = '/api/v1';
const OUTBOX_POLL_MS = 1000;
const ADMIN_REFRESH_MS = 5000;
const NAV_REFRESH_MS = 60000;

// ---------------------------------------------------------------------------------------------
// DOM helpers

// h('div', {class: 'x', testid: 'y', onclick: fn, title: 't'}, child, 'text', [more]) builds an
// element. Strings become text nodes; attributes go through setAttribute (never `style` or on*).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'testid') el.dataset.testid = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'value') el.value = v;
      else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'selected') el[k] = Boolean(v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, ...children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, ...c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Only same-origin paths from the API are used as link and frame targets.
function safePath(url) {
  return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')
    ? url : null;
}

function withQuery(path, key, value) {
  const u = new URL(path, location.origin);
  u.searchParams.set(key, value);
  return u.pathname + u.search;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function relTime(ts) {
  if (ts === null || ts === undefined) return '—';
  const diff = Date.now() / 1000 - ts;
  if (diff < 45) return 'just now';
  if (diff < 90) return '1 min ago';
  if (diff < 3600) return `${Math.round(diff / 60)} min ago`;
  if (diff < 86400) return `${Math.round(diff / 3600)} h ago`;
  const d = new Date(ts * 1000);
  const days = Math.floor(diff / 86400);
  if (days < 2) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  const opts = { month: 'short', day: 'numeric' };
  if (d.getFullYear() !== new Date().getFullYear()) opts.year = 'numeric';
  return d.toLocaleDateString(undefined, opts);
}

function absTime(ts) {
  if (ts === null || ts === undefined) return '';
  return new Date(ts * 1000).toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

function timeEl(ts, cls) {
  const el = h('time', { class: cls || 'time', title: absTime(ts) }, relTime(ts));
  if (ts !== null && ts !== undefined) el.dateTime = new Date(ts * 1000).toISOString();
  return el;
}

function fmtSize(n) {
  if (typeof n !== 'number' || !isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

function fmtCount(n) {
  return typeof n === 'number' ? n.toLocaleString() : '—';
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || one + 's'}`;
}

// Subject without reply/forward prefixes, for "did the subject change" checks.
function baseSubject(s) {
  let t = (s || '').trim();
  for (;;) {
    const next = t.replace(/^\s*((re|fw|fwd|aw|wg|sv|vs|tr|ref|antw)(\[\d+\])?\s*:|\[[^\]]*\])\s*/i, '');
    if (next === t) break;
    t = next;
  }
  return t.replace(/\s+/g, ' ').toLowerCase();
}

// Splits `text` at a code-point offset (the contract's quoted_from) into [shown, quoted].
function splitAtCodePoint(text, offset) {
  if (typeof offset !== 'number' || offset <= 0) return offset === 0 ? ['', text] : [text, ''];
  if (!/[\uD800-\uDFFF]/.test(text)) return [text.slice(0, offset), text.slice(offset)];
  const cps = Array.from(text);
  return [cps.slice(0, offset).join(''), cps.slice(offset).join('')];
}

// Plain text with http(s) URLs turned into links (text nodes and anchors only).
function linkify(text) {
  const frag = document.createDocumentFragment();
  const re = /\bhttps?:\/\/[^\s<>"'()]+[^\s<>"'().,;:!?]/gi;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
    frag.appendChild(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer' }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
  return frag;
}

function initials(name, address) {
  const src = (name || address || '?').trim();
  const parts = src.split(/[\s@._-]+/).filter(Boolean);
  const a = parts[0] ? Array.from(parts[0])[0] : '?';
  const b = parts.length > 1 ? Array.from(parts[1])[0] : '';
  return (a + (b || '')).toUpperCase();
}

function parseAddresses(s) {
  return s.split(/[,;]/).map((x) => x.trim()).filter(Boolean);
}

// ---------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

// fetch() with the session cookie and JSON in and out. Unsafe methods always carry a JSON body
// (`{}` when there is nothing to say) so that the server's Content-Type check holds; the browser
// adds the Origin header itself. A 401 anywhere but the login call goes to #/login.
async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (method === 'POST' || method === 'PATCH' || method === 'PUT') {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body === undefined ? {} : body);
  }
  let res;
  try {
    res = await fetch(API + path, opts);
  } catch (e) {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
  }
  let data = null;
  if (res.status !== 204) {
    const type = res.headers.get('Content-Type') || '';
    if (type.includes('json')) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
  }
  if (res.ok) return data;
  const err = data && data.error ? data.error : {};
  const retry = parseInt(res.headers.get('Retry-After') || '', 10);
  const e = new ApiError(res.status, err.code || `http.${res.status}`,
    err.message || `The server answered ${res.status} ${res.statusText}`.trim(), err.field,
    Number.isFinite(retry) ? retry : undefined);
  if (res.status === 401 && path !== '/auth/login') {
    sessionExpired();
    e.handled = true;
  }
  throw e;
}

// ---------------------------------------------------------------------------------------------
// State, toast, navigation

const state = {
  me: null,          // {user, accounts}
  deals: null,       // cached [Deal] for selects
  unsortedCount: null,
};

let view = null;     // {cleanups: [fn], alive: bool} of the page on screen

function onLeave(fn) {
  if (view) view.cleanups.push(fn);
}

function every(ms, fn) {
  const id = setInterval(fn, ms);
  onLeave(() => clearInterval(id));
}

function later(ms, fn) {
  const id = setTimeout(fn, ms);
  onLeave(() => clearTimeout(id));
}

let toastTimer = null;
function toast(message, kind) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.className = `toast toast-${kind || 'info'}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 8000 : 4000);
}

function showError(e) {
  if (e && e.handled) return;
  toast(e && e.message ? e.message : String(e), 'error');
}

function sessionExpired() {
  state.me = null;
  state.deals = null;
  const here = location.hash;
  if (!here.startsWith('#/login')) {
    if (here && here !== '#/' && here !== '#') sessionStorage.setItem('crm-return', here);
    location.hash = '#/login';
  }
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function loadMe() {
  state.me = await api('GET', '/me');
  return state.me;
}

async function loadDeals(force) {
  if (!state.deals || force) state.deals = (await api('GET', '/deals')).deals;
  return state.deals;
}

function isAdmin() {
  return state.me && state.me.user && state.me.user.role === 'admin';
}

async function refreshUnsortedCount() {
  try {
    const r = await api('GET', '/unsorted');
    setUnsortedCount(r.threads.length);
  } catch (e) { /* the page itself reports errors */ }
}

function setUnsortedCount(n) {
  state.unsortedCount = n;
  const badge = document.querySelector('[data-testid="nav-unsorted-count"]');
  badge.textContent = n > 99 ? '99+' : String(n);
  badge.hidden = !(n > 0);
}

function renderShell(active) {
  const sidebar = document.getElementById('sidebar');
  if (!state.me) {
    sidebar.hidden = true;
    document.body.classList.remove('authed');
    return;
  }
  sidebar.hidden = false;
  document.body.classList.add('authed');
  const user = state.me.user;
  sidebar.querySelector('[data-testid="nav-user"]').textContent = user.name || user.email;
  sidebar.querySelector('.nav-user-role').textContent = user.role === 'admin' ? 'Admin' : user.email;
  // The Admin link is in the DOM only for admins (not merely hidden).
  adminItem.querySelector('a').hidden = false;
  if (isAdmin() && !adminItem.isConnected) sidebar.querySelector('.nav-list').appendChild(adminItem);
  else if (!isAdmin()) adminItem.remove();
  for (const a of sidebar.querySelectorAll('.nav-link')) {
    if (a.dataset.route === active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// ---------------------------------------------------------------------------------------------
// Router

const routes = [
  [/^#\/login$/, viewLogin, null],
  [/^#\/deals$/, viewDeals, 'deals'],
  [/^#\/deals\/(\d+)$/, viewDeal, 'deals'],
  [/^#\/threads\/(\d+)$/, viewThread, 'deals'],
  [/^#\/unsorted$/, viewUnsorted, 'unsorted'],
  [/^#\/admin$/, viewAdmin, 'admin'],
];

let navTimer = null;
const adminItem = document.querySelector('[data-testid="nav-admin"]').parentElement;

async function route() {
  if (view) {
    view.alive = false;
    for (const fn of view.cleanups) { try { fn(); } catch (e) { /* ignore */ } }
  }
  view = { cleanups: [], alive: true };
  const current = view;
  const hash = location.hash || '#/deals';
  let match = null;
  for (const [re, fn, nav] of routes) {
    const m = hash.match(re);
    if (m) { match = { fn, nav, args: m.slice(1) }; break; }
  }
  if (!match) { location.replace('#/deals'); return; }

  const main = document.getElementById('main');
  if (match.fn !== viewLogin && !state.me) {
    try {
      await loadMe();
    } catch (e) {
      if (!e.handled) renderLoadError(main, e, () => route());
      return;
    }
    if (!current.alive) return;
    refreshUnsortedCount();
    clearInterval(navTimer);
    navTimer = setInterval(() => { if (state.me) refreshUnsortedCount(); }, NAV_REFRESH_MS);
  }
  renderShell(match.nav);
  clear(main);
  window.scrollTo(0, 0);
  main.classList.toggle('main-login', match.fn === viewLogin);
  try {
    await match.fn(main, ...match.args.map(Number));
  } catch (e) {
    if (current.alive && !e.handled) {
      clear(main);
      renderLoadError(main, e, () => route());
      showError(e);
    }
  }
}

function renderLoadError(main, e, retry) {
  clear(main);
  append(main, h('div', { class: 'empty error-state', testid: 'load-error' },
    h('p', { class: 'empty-title' }, e.status === 404 ? 'Not found' : 'Could not load this page'),
    h('p', null, e.message),
    h('button', { type: 'button', class: 'btn', onclick: retry }, 'Retry')));
}

function pageHeader(title, ...extra) {
  document.title = `${title} · CRM Mail`;
  return h('header', { class: 'page-header' },
    h('div', { class: 'page-header-main' }, h('h1', { testid: 'page-title' }, title), extra));
}

// ---------------------------------------------------------------------------------------------
// Keyboard: j/k over [data-nav-row], Enter opens the row's primary link, / filter, r reply.

let cursor = -1;
document.addEventListener('keydown', (ev) => {
  if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) {
    if (ev.key === 'Escape') t.blur();
    return;
  }
  const rows = Array.from(document.querySelectorAll('#main [data-nav-row]')).filter((r) => r.offsetParent);
  const move = (d) => {
    if (!rows.length) return;
    cursor = Math.max(0, Math.min(rows.length - 1, rows.indexOf(document.querySelector('#main .cursor')) + d));
    for (const r of rows) r.classList.remove('cursor');
    const row = rows[cursor];
    row.classList.add('cursor');
    row.scrollIntoView({ block: 'nearest' });
  };
  if (ev.key === 'j') { move(1); ev.preventDefault(); }
  else if (ev.key === 'k') { move(-1); ev.preventDefault(); }
  else if (ev.key === 'Enter' || ev.key === 'o') {
    const row = document.querySelector('#main .cursor');
    const link = row && row.querySelector('a.row-link');
    if (link) { link.click(); ev.preventDefault(); }
  } else if (ev.key === '/') {
    const f = document.querySelector('#main [data-filter]');
    if (f) { f.focus(); ev.preventDefault(); }
  } else if (ev.key === 'r') {
    const r = document.querySelector('#main [data-testid="reply-body"]');
    if (r && !r.disabled) { r.focus(); r.scrollIntoView({ block: 'center' }); ev.preventDefault(); }
  }
});

// Clicking anywhere on a row (but not on its controls) follows its primary link.
function clickableRow(row) {
  row.addEventListener('click', (ev) => {
    if (ev.target.closest('a, button, input, select, textarea, label')) return;
    if (window.getSelection && String(window.getSelection())) return;
    const link = row.querySelector('a.row-link');
    if (link) link.click();
  });
  return row;
}

// ---------------------------------------------------------------------------------------------
// #/login

function viewLogin(main) {
  document.title = 'Log in · CRM Mail';
  if (state.me) { go('#/deals'); return; }
  const email = h('input', { type: 'email', id: 'login-email', name: 'email', required: true,
    maxlength: 254, autocomplete: 'username', testid: 'login-email', autofocus: true });
  const password = h('input', { type: 'password', id: 'login-password', name: 'password',
    required: true, maxlength: 1024, autocomplete: 'current-password', testid: 'login-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'login-submit' }, 'Log in');
  const error = h('p', { class: 'form-error', testid: 'login-error', role: 'alert', hidden: true });
  let countdown = null;
  onLeave(() => clearInterval(countdown));

  const form = h('form', { class: 'login-card', testid: 'login-form', novalidate: true },
    h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '✉'), 'CRM Mail'),
    h('p', { class: 'login-sub' }, 'Log in with your CRM account.'),
    h('label', { for: 'login-email' }, 'Email'), email,
    h('label', { for: 'login-password' }, 'Password'), password,
    error, submit);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    if (!email.value.trim() || !password.value) {
      error.textContent = 'Enter your email and password.';
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    try {
      await api('POST', '/auth/login', { email: email.value.trim(), password: password.value });
      await loadMe();
      const back = sessionStorage.getItem('crm-return');
      sessionStorage.removeItem('crm-return');
      sessionStorage.removeItem('crm-deal-filter');
      refreshUnsortedCount();
      go(back && !back.startsWith('#/login') ? back : '#/deals');
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = 'Log in';
      if (e.status === 401) { password.value = ''; password.focus(); }
      if (e.status === 429 && e.retryAfter) {
        let left = Math.min(e.retryAfter, 3600);
        submit.disabled = true;
        submit.textContent = `Try again in ${left} s`;
        clearInterval(countdown);
        countdown = setInterval(() => {
          left -= 1;
          if (left <= 0) {
            clearInterval(countdown);
            submit.disabled = false;
            submit.textContent = 'Log in';
          } else {
            submit.textContent = `Try again in ${left} s`;
          }
        }, 1000);
      }
    }
  });
  append(main, h('div', { class: 'login-wrap' }, form));
  email.focus();
}

async function logout() {
  try { await api('POST', '/auth/logout'); } catch (e) { if (e.status !== 401) { showError(e); return; } }
  state.me = null;
  state.deals = null;
  sessionStorage.removeItem('crm-return');
  clearInterval(navTimer);
  location.hash = '#/login';
  location.reload();
}

// ---------------------------------------------------------------------------------------------
// Small shared pieces

function statusPill(status) {
  return h('span', { class: `pill pill-status-${status}` }, status);
}

function unreadBadge(n, testid) {
  return n > 0 ? h('span', { class: 'badge', testid, title: `${plural(n, 'unread message')}` }, String(n)) : null;
}

function dealOptions(select, deals, selectedId, placeholder) {
  clear(select);
  select.appendChild(h('option', { value: '' }, placeholder || 'Choose a deal…'));
  const groups = { open: [], won: [], lost: [] };
  for (const d of deals) (groups[d.status] || groups.open).push(d);
  for (const [label, list] of [['Open', groups.open], ['Won', groups.won], ['Lost', groups.lost]]) {
    if (!list.length) continue;
    const g = h('optgroup', { label });
    for (const d of list) {
      const text = d.company && d.company.name ? `${d.name} — ${d.company.name}` : d.name;
      g.appendChild(h('option', { value: String(d.id), selected: d.id === selectedId }, text));
    }
    select.appendChild(g);
  }
}

// ---------------------------------------------------------------------------------------------
// #/deals

async function viewDeals(main) {
  const v = view; // this page; v.alive turns false when the user leaves it
  const filter = h('input', { type: 'search', class: 'input filter', placeholder: 'Filter deals…  ( / )',
    'aria-label': 'Filter deals', testid: 'deal-filter', dataset: { filter: '1' } });
  const statusSel = h('select', { class: 'input', 'aria-label': 'Status', testid: 'deal-status-filter' },
    h('option', { value: '' }, 'All statuses'), h('option', { value: 'open' }, 'Open'),
    h('option', { value: 'won' }, 'Won'), h('option', { value: 'lost' }, 'Lost'));
  const unreadOnly = h('input', { type: 'checkbox', id: 'unread-only' });
  const count = h('span', { class: 'muted' });
  append(main, pageHeader('Deals', count),
    h('div', { class: 'toolbar' }, filter, statusSel,
      h('label', { class: 'check', for: 'unread-only' }, unreadOnly, 'Unread only')));
  const body = h('div', { class: 'page-body' }, h('p', { class: 'loading' }, 'Loading deals…'));
  append(main, body);

  const deals = await loadDeals(true);
  if (!v.alive) return;

  const table = h('table', { class: 'table' },
    h('thead', null, h('tr', null,
      h('th', null, 'Deal'), h('th', null, 'Stage'), h('th', { class: 'col-status' }, 'Status'),
      h('th', { class: 'col-owner' }, 'Owner'), h('th', { class: 'num col-threads' }, 'Threads'),
      h('th', { class: 'num' }, 'Unread'), h('th', { class: 'col-date' }, 'Last activity'))));
  const tbody = h('tbody');
  table.appendChild(tbody);
  const rows = deals.map((d) => {
    const company = d.company && d.company.name;
    const tr = clickableRow(h('tr', { class: d.unread > 0 ? 'row unread' : 'row', testid: 'deal-row',
      dataset: { id: String(d.id), navRow: '1' } },
      h('td', { class: 'cell-title' },
        h('a', { class: 'row-link', href: `#/deals/${d.id}` }, d.name),
        d.shared ? h('span', { class: 'tag', title: 'Shared with every salesperson' }, 'shared') : null,
        company ? h('div', { class: 'sub' }, company) : null),
      h('td', null, d.stage || '—'),
      h('td', { class: 'col-status' }, statusPill(d.status)),
      h('td', { class: 'col-owner' }, d.owner ? d.owner.name : h('span', { class: 'muted' }, 'nobody')),
      h('td', { class: 'num col-threads' }, fmtCount(d.threads)),
      h('td', { class: 'num' }, unreadBadge(d.unread, 'deal-unread')),
      h('td', { class: 'col-date' }, timeEl(d.last_date))));
    const hay = [d.name, company, d.stage, d.status, d.owner && d.owner.name].filter(Boolean).join(' ').toLowerCase();
    return { d, tr, hay };
  });
  for (const r of rows) tbody.appendChild(r.tr);
  const empty = h('div', { class: 'empty', hidden: true }, h('p', { class: 'empty-title' }, 'No deals match'),
    h('p', null, 'Try another filter.'));
  clear(body);
  if (!deals.length) {
    append(body, h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, 'No deals yet'),
      h('p', null, 'Deals you own or that are shared with you appear here.')));
    count.textContent = '';
    return;
  }
  append(body, table, empty);

  const apply = () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const st = statusSel.value;
    let shown = 0;
    for (const r of rows) {
      const ok = words.every((w) => r.hay.includes(w)) && (!st || r.d.status === st) &&
        (!unreadOnly.checked || r.d.unread > 0);
      r.tr.hidden = !ok;
      if (ok) shown += 1;
    }
    count.textContent = shown === rows.length ? plural(rows.length, 'deal') : `${shown} of ${rows.length}`;
    empty.hidden = shown > 0;
    table.hidden = shown === 0;
    sessionStorage.setItem('crm-deal-filter', JSON.stringify([filter.value, st, unreadOnly.checked]));
  };
  try {
    const [f, s, u] = JSON.parse(sessionStorage.getItem('crm-deal-filter') || '["","",false]');
    filter.value = f; statusSel.value = s; unreadOnly.checked = u;
  } catch (e) { /* ignore */ }
  filter.addEventListener('input', apply);
  statusSel.addEventListener('change', apply);
  unreadOnly.addEventListener('change', apply);
  filter.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      const first = rows.find((r) => !r.tr.hidden);
      if (first) first.tr.querySelector('a.row-link').click();
    }
  });
  apply();
}

// ---------------------------------------------------------------------------------------------
// #/deals/{id}

async function viewDeal(main, id) {
  const v = view; // this page; v.alive turns false when the user leaves it
  const [dealRes, threadsRes] = await Promise.all([api('GET', `/deals/${id}`), api('GET', `/deals/${id}/threads`)]);
  if (!v.alive) return;
  const d = dealRes.deal;
  const threads = threadsRes.threads;
  append(main, pageHeader(d.name),
    h('div', { class: 'deal-header', testid: 'deal-header' },
      h('a', { href: '#/deals', class: 'back' }, '← Deals'),
      d.company && d.company.name ? h('span', { class: 'meta-item' }, d.company.name) : null,
      h('span', { class: 'meta-item' }, d.stage || 'no stage'),
      statusPill(d.status),
      h('span', { class: 'meta-item' }, 'Owner: ', d.owner ? d.owner.name : 'nobody'),
      d.shared ? h('span', { class: 'tag' }, 'shared') : null,
      h('span', { class: 'meta-item muted' }, `${plural(d.threads, 'thread')} · ${plural(d.messages, 'message')}`)));
  const body = h('div', { class: 'page-body' });
  append(main, body);
  if (!threads.length) {
    append(body, h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, 'No conversations yet'),
      h('p', null, 'Mail with this deal\'s contacts will appear here.')));
    return;
  }
  append(body, threadTable(threads));
}

function threadTable(threads) {
  const tbody = h('tbody');
  for (const t of threads) {
    tbody.appendChild(clickableRow(h('tr', { class: t.unread_count > 0 ? 'row unread' : 'row', testid: 'thread-row',
      dataset: { id: String(t.id), navRow: '1' } },
      h('td', { class: 'cell-title' },
        h('a', { class: 'row-link', href: `#/threads/${t.id}` }, t.subject || '(no subject)'),
        h('div', { class: 'sub participants', title: (t.participants || []).join(', ') }, (t.participants || []).join(', '))),
      h('td', { class: 'num' }, fmtCount(t.message_count)),
      h('td', { class: 'num' }, unreadBadge(t.unread_count, 'thread-unread')),
      h('td', { class: 'col-date' }, timeEl(t.last_date)))));
  }
  return h('table', { class: 'table' },
    h('thead', null, h('tr', null, h('th', null, 'Conversation'), h('th', { class: 'num' }, 'Messages'),
      h('th', { class: 'num' }, 'Unread'), h('th', { class: 'col-date' }, 'Last message'))),
    tbody);
}

// ---------------------------------------------------------------------------------------------
// #/threads/{id}

async function viewThread(main, id) {
  const v = view; // this page; v.alive turns false when the user leaves it
  let data = await api('GET', `/threads/${id}`);
  if (!v.alive) return;
  let thread = data.thread;

  const title = pageHeader(thread.subject || '(no subject)');
  title.querySelector('h1').dataset.testid = 'thread-subject';
  const dealBar = h('div', { class: 'thread-bar' });
  const messagesEl = h('div', { class: 'messages' });
  const replyForm = replyBox(id, () => reload());
  append(main, title, dealBar, h('div', { class: 'page-body thread-body' }, messagesEl, replyForm));
  // What a reply answers: the message whose Reply button was used, else the newest arrival
  // (never the newest Date: the sender writes that).
  let chosenParent = null;
  const answer = (m) => {
    chosenParent = m.id;
    if (replyForm.setParent) replyForm.setParent(m);
    const b = replyForm.querySelector('textarea');
    if (b) { b.scrollIntoView({ block: 'center' }); b.focus(); }
  };
  const pickParent = (messages) => {
    if (!replyForm.setParent || !messages.length) return;
    const chosen = messages.find((m) => m.id === chosenParent);
    const newest = messages.reduce((a, b) => ((b.received_at > a.received_at
      || (b.received_at === a.received_at && b.id > a.id)) ? b : a));
    replyForm.setParent(chosen || newest);
  };

  let markedUnread = false;
  const markBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'mark-unread' }, 'Mark unread');
  markBtn.addEventListener('click', async () => {
    markBtn.disabled = true;
    try {
      const r = await api('POST', `/threads/${id}/read`, { unread: !markedUnread });
      thread = r.thread;
      markedUnread = !markedUnread;
      markBtn.textContent = markedUnread ? 'Mark read' : 'Mark unread';
      toast(markedUnread ? 'Marked unread' : 'Marked read', 'success');
    } catch (e) { showError(e); }
    markBtn.disabled = false;
  });

  const renderDealBar = () => {
    clear(dealBar);
    const back = thread.deal ? h('a', { href: `#/deals/${thread.deal.id}`, class: 'back' }, '← Deal')
      : h('a', { href: '#/unsorted', class: 'back' }, '← Unsorted');
    const dealEl = thread.deal
      ? h('span', { class: 'deal-chip', testid: 'thread-deal' }, 'Deal: ',
        h('a', { href: `#/deals/${thread.deal.id}` }, thread.deal.name),
        thread.manual ? h('span', { class: 'tag', title: 'Linked by hand; the sorter leaves it alone' }, 'manual') : null)
      : h('span', { class: 'deal-chip deal-chip-none', testid: 'thread-deal' }, 'Unsorted',
        thread.reason ? h('span', { class: 'muted' }, ` — ${thread.reason}`) : null);
    const select = h('select', { class: 'input', 'aria-label': 'Deal', testid: 'deal-select' });
    const linkBtn = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'deal-select-submit' }, 'Link');
    const cancel = h('button', { type: 'button', class: 'btn btn-quiet btn-small' }, 'Cancel');
    const picker = h('span', { class: 'picker', hidden: true }, select, linkBtn, cancel);
    const change = h('button', { type: 'button', class: 'btn btn-small', testid: 'change-deal' },
      thread.deal ? 'Change deal' : 'Link to deal');
    change.addEventListener('click', async () => {
      change.disabled = true;
      try {
        dealOptions(select, await loadDeals(), thread.deal && thread.deal.id);
        picker.hidden = false;
        change.hidden = true;
        select.focus();
      } catch (e) { showError(e); }
      change.disabled = false;
    });
    cancel.addEventListener('click', () => { picker.hidden = true; change.hidden = false; });
    linkBtn.addEventListener('click', async () => {
      const dealId = Number(select.value);
      if (!dealId) { select.focus(); return; }
      linkBtn.disabled = true;
      try {
        const wasUnsorted = !thread.deal;
        thread = (await api('POST', `/threads/${id}/link`, { deal_id: dealId })).thread;
        toast(`Linked to ${thread.deal ? thread.deal.name : 'the deal'}`, 'success');
        if (wasUnsorted && state.unsortedCount) setUnsortedCount(state.unsortedCount - 1);
        renderDealBar();
      } catch (e) { showError(e); linkBtn.disabled = false; }
    });
    const unlink = thread.deal ? h('button', { type: 'button', class: 'btn btn-quiet btn-small', testid: 'unlink' }, 'Unlink') : null;
    if (unlink) {
      unlink.addEventListener('click', async () => {
        unlink.disabled = true;
        try {
          thread = (await api('DELETE', `/threads/${id}/link`)).thread;
          toast('Unlinked: the conversation is back in Unsorted', 'success');
          refreshUnsortedCount();
          renderDealBar();
        } catch (e) { showError(e); unlink.disabled = false; }
      });
    }
    append(dealBar, back, dealEl, change, picker, unlink, h('span', { class: 'spacer' }),
      h('span', { class: 'muted' }, plural(thread.message_count, 'message')), markBtn);
  };
  renderDealBar();

  // Long threads come in pages: the newest messages first, older ones on request.
  let older = data.older || 0;
  const renderMessages = (messages, wasUnread) => {
    clear(messagesEl);
    if (older > 0) {
      const more = h('button', { type: 'button', class: 'btn btn-quiet btn-small older-btn', testid: 'older-messages' },
        `Show ${plural(older, 'older message')}`);
      more.addEventListener('click', async () => {
        more.disabled = true;
        try {
          const page = await api('GET', `/threads/${id}?before=${messages[0].id}`);
          if (!v.alive) return;
          older = page.older || 0;
          const shown = page.messages.concat(messages);
          data.messages = shown;
          renderMessages(shown, wasUnread);
        } catch (e) { showError(e); more.disabled = false; }
      });
      messagesEl.appendChild(more);
    }
    let prevSubject = baseSubject(thread.subject);
    for (const m of messages) {
      const subj = baseSubject(m.subject);
      const showSubject = subj !== prevSubject && (m.subject || '').trim() !== '';
      prevSubject = subj;
      messagesEl.appendChild(messageCard(m, showSubject, wasUnread.has(m.id),
        messages.length > 1 ? splitOff : null, answer));
    }
    pickParent(messages);
  };

  // "Not part of this conversation": the message and the replies to it become a conversation of
  // their own, waiting in Unsorted; they are never joined back automatically.
  const splitOff = async (m) => {
    const r = await api('POST', `/messages/${m.id}/split`, {});
    toast(`Moved ${plural(r.moved, 'message')} to a new conversation (in Unsorted)`, 'success');
    refreshUnsortedCount();
    go(`#/threads/${r.thread.id}`);
  };

  // Marks the thread read when it is opened with unread messages; those stay flagged "new" on
  // screen until the page is left.
  const openMessages = async (messages) => {
    const wasUnread = new Set(messages.filter((m) => m.unread).map((m) => m.id));
    renderMessages(messages, wasUnread);
    if (wasUnread.size) {
      try {
        thread = (await api('POST', `/threads/${id}/read`, { unread: false })).thread;
        if (state.deals) state.deals = null;
      } catch (e) { showError(e); }
    }
    const firstNew = messagesEl.querySelector('.was-unread');
    if (firstNew && messages.length > 1) firstNew.scrollIntoView({ block: 'start' });
  };

  const reload = async () => {
    try {
      data = await api('GET', `/threads/${id}`);
      if (!v.alive) return;
      thread = data.thread;
      older = data.older || 0;
      renderDealBar();
      await openMessages(data.messages);
    } catch (e) { showError(e); }
  };

  await openMessages(data.messages);
}

function messageCard(m, showSubject, wasUnread, onSplit, onReply) {
  const from = m.from || { name: '', address: '' };
  const recipients = h('div', { class: 'msg-recipients' },
    m.to && m.to.length ? h('span', null, h('span', { class: 'label' }, 'to '), m.to.join(', ')) : null,
    m.cc && m.cc.length ? h('span', null, h('span', { class: 'label' }, ' cc '), m.cc.join(', ')) : null,
    m.reply_to && m.reply_to.length ? h('span', { testid: 'message-reply-to' }, h('span', { class: 'label' }, ' reply-to '),
      m.reply_to.join(', ')) : null);
  const head = h('div', { class: 'msg-head' },
    h('div', { class: `avatar${m.direction === 'out' ? ' avatar-out' : ''}`, 'aria-hidden': 'true' }, initials(from.name, from.address)),
    h('div', { class: 'msg-who' },
      h('div', { class: 'msg-from', testid: 'message-from' },
        h('span', { class: 'from-name' }, from.name || from.address || '(unknown sender)'),
        from.name && from.address ? h('span', { class: 'from-addr' }, ` <${from.address}>`) : null,
        m.direction === 'out' ? h('span', { class: 'tag tag-out' }, 'sent') : null,
        wasUnread ? h('span', { class: 'tag tag-new' }, 'new') : null),
      recipients),
    h('div', { class: 'msg-date' }, timeEl(m.date), h('div', { class: 'abs' }, absTime(m.date))));

  const card = h('article', { class: `message${wasUnread ? ' was-unread' : ''}`, testid: 'message',
    dataset: { id: String(m.id), navRow: '1' } }, head);
  if (showSubject) card.appendChild(h('div', { class: 'msg-subject' }, m.subject));

  if (m.suspicious) {
    card.appendChild(h('div', { class: 'notice notice-danger', testid: 'message-suspicious' },
      `Careful: this sender looks spoofed (${m.suspicious}). Replies never go to its From or Reply-To by default.`));
  }
  const notes = [];
  if (m.unparsable) notes.push('This message could not be fully parsed; the text below is a best effort.');
  for (const w of m.warnings || []) notes.push(w);
  if (notes.length) card.appendChild(h('ul', { class: 'msg-warnings' }, notes.map((n) => h('li', null, n))));

  // Text view
  const [shown, quoted] = splitAtCodePoint(m.text || '', m.quoted_from);
  const textView = h('div', { class: 'msg-text-view' });
  const pre = h('div', { class: 'msg-text', testid: 'message-text' }, linkify(shown.replace(/\s+$/, '')));
  if (!shown.trim() && !quoted) pre.appendChild(h('span', { class: 'muted' }, '(no text)'));
  textView.appendChild(pre);
  if (quoted) {
    const q = h('div', { class: 'msg-text msg-quoted', testid: 'message-quoted', hidden: true },
      linkify(quoted.replace(/^\s*\n/, '').replace(/\s+$/, '')));
    const toggle = h('button', { type: 'button', class: 'quoted-toggle', testid: 'quoted-toggle',
      'aria-expanded': 'false' }, '··· show quoted text');
    toggle.addEventListener('click', () => {
      q.hidden = !q.hidden;
      toggle.setAttribute('aria-expanded', String(!q.hidden));
      toggle.textContent = q.hidden ? '··· show quoted text' : '··· hide quoted text';
    });
    append(textView, toggle, q);
  }

  const htmlUrl = safePath(m.html_url);
  if (m.has_html && htmlUrl) {
    const htmlView = h('div', { class: 'msg-html-view', hidden: true });
    const textBtn = h('button', { type: 'button', class: 'seg', 'aria-pressed': 'true' }, 'Text');
    const htmlBtn = h('button', { type: 'button', class: 'seg', 'aria-pressed': 'false' }, 'HTML');
    let frame = null;
    const showHtml = (on) => {
      textBtn.setAttribute('aria-pressed', String(!on));
      htmlBtn.setAttribute('aria-pressed', String(on));
      textView.hidden = on;
      htmlView.hidden = !on;
      if (on && !frame) {
        frame = htmlFrame(htmlUrl);
        if (m.remote_images > 0) {
          const showImgs = h('button', { type: 'button', class: 'btn btn-small', testid: 'show-images' }, 'Show images');
          const notice = h('div', { class: 'notice', testid: 'remote-images-notice' },
            `${plural(m.remote_images, 'remote image')} blocked`, showImgs);
          showImgs.addEventListener('click', () => {
            frame.src = withQuery(htmlUrl, 'images', '1');
            notice.textContent = 'Remote images shown. The sender can see that you opened this message.';
          });
          htmlView.appendChild(notice);
        }
        htmlView.appendChild(frame);
      }
    };
    textBtn.addEventListener('click', () => showHtml(false));
    htmlBtn.addEventListener('click', () => showHtml(true));
    head.querySelector('.msg-date').prepend(h('div', { class: 'segmented', testid: 'html-toggle', role: 'group',
      'aria-label': 'Show as' }, textBtn, htmlBtn));
    append(card, textView, htmlView);
  } else {
    card.appendChild(textView);
  }

  const actions = h('div', { class: 'msg-actions' });
  if (onReply) {
    const replyBtn = h('button', { type: 'button', class: 'btn btn-quiet btn-small', testid: 'reply-to-message' }, 'Reply');
    replyBtn.addEventListener('click', () => onReply(m));
    actions.appendChild(replyBtn);
  }
  if (onSplit) {
    const split = h('button', { type: 'button', class: 'btn btn-quiet btn-small', testid: 'split-message',
      title: 'Move this message, and the replies to it, into a conversation of its own' },
    'Not part of this conversation');
    const confirm = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'split-confirm' },
      'Move to a new conversation');
    const cancel = h('button', { type: 'button', class: 'btn btn-quiet btn-small', testid: 'split-cancel' }, 'Cancel');
    const ask = h('span', { class: 'split-ask', hidden: true },
      h('span', { class: 'muted' }, 'This message and the replies to it leave this conversation. '), confirm, cancel);
    split.addEventListener('click', () => { ask.hidden = false; split.hidden = true; confirm.focus(); });
    cancel.addEventListener('click', () => { ask.hidden = true; split.hidden = false; });
    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      try { await onSplit(m); } catch (e) { showError(e); confirm.disabled = false; }
    });
    append(actions, split, ask);
  }
  if (actions.childNodes.length) card.appendChild(actions);

  const atts = (m.attachments || []).filter((a) => safePath(a.url));
  if (atts.length) {
    card.appendChild(h('div', { class: 'attachments' }, atts.map((a) =>
      h('a', { class: `attachment${a.inline ? ' attachment-inline' : ''}`, href: safePath(a.url), testid: 'attachment',
        download: a.filename || true, title: `${a.filename || 'attachment'} (${a.content_type || 'unknown type'})` },
        h('span', { class: 'att-type', 'aria-hidden': 'true' }, fileType(a)),
        h('span', { class: 'att-name' }, a.filename || `attachment ${a.position + 1}`),
        h('span', { class: 'att-size' }, fmtSize(a.size))))));
  }
  return card;
}

// A short label for an attachment's type: its extension, else the MIME subtype.
function fileType(a) {
  const m = /\.([A-Za-z0-9]{1,5})$/.exec(a.filename || '');
  const t = m ? m[1] : ((a.content_type || '').split('/')[1] || 'file').split(/[.+;-]/)[0];
  return t.slice(0, 5).toUpperCase();
}

// The sanitised HTML body in a sandboxed same-origin iframe, sized to its content.
function htmlFrame(src) {
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', 'allow-same-origin allow-popups allow-popups-to-escape-sandbox');
  frame.setAttribute('referrerpolicy', 'no-referrer');
  frame.setAttribute('title', 'Message (HTML)');
  frame.className = 'msg-frame';
  frame.dataset.testid = 'message-html-frame';
  const fit = () => {
    let doc = null;
    try { doc = frame.contentDocument; } catch (e) { doc = null; }
    if (!doc || !doc.body) return;
    const cs = doc.defaultView ? doc.defaultView.getComputedStyle(doc.body) : null;
    const margins = cs ? (parseFloat(cs.marginTop) || 0) + (parseFloat(cs.marginBottom) || 0) : 0;
    const height = Math.max(doc.body.scrollHeight + margins, 40);
    frame.style.height = `${Math.ceil(height) + 2}px`;
  };
  frame.addEventListener('load', () => {
    fit();
    try {
      // Late images change the height: refit when any of them loads.
      frame.contentDocument.addEventListener('load', fit, true);
    } catch (e) { /* not same-origin: keep the first size */ }
    setTimeout(fit, 300);
    setTimeout(fit, 1500);
  });
  const onResize = () => fit();
  window.addEventListener('resize', onResize);
  onLeave(() => window.removeEventListener('resize', onResize));
  frame.src = src;
  return frame;
}

function replyBox(threadId, onSent) {
  const v = view; // this page; v.alive turns false when the user leaves it
  const accounts = (state.me && state.me.accounts) || [];
  const form = h('form', { class: 'reply card', testid: 'reply-form', novalidate: true });
  form.appendChild(h('h2', { class: 'reply-title' }, 'Reply'));
  if (!accounts.length) {
    form.appendChild(h('p', { class: 'notice', testid: 'reply-no-account' },
      'You have no mail account to send from. Ask an admin to add one for you.'));
    return form;
  }
  const account = h('select', { class: 'input', id: 'reply-account', name: 'account', testid: 'reply-account' },
    accounts.map((a) => h('option', { value: a.name }, a.address ? `${a.address} (${a.name})` : a.name)));
  const mode = h('select', { class: 'input', id: 'reply-mode', name: 'mode', testid: 'reply-mode' },
    h('option', { value: 'reply' }, 'Reply'), h('option', { value: 'reply-all' }, 'Reply all'));
  const to = h('input', { class: 'input', id: 'reply-to', name: 'to', testid: 'reply-to', autocomplete: 'off',
    placeholder: 'Default: the sender (comma separated to change)' });
  const cc = h('input', { class: 'input', id: 'reply-cc', name: 'cc', testid: 'reply-cc', autocomplete: 'off',
    placeholder: 'Optional, comma separated' });
  const body = h('textarea', { class: 'input reply-body', id: 'reply-body', name: 'body', testid: 'reply-body',
    rows: 6, maxlength: 1048576, placeholder: 'Write your reply…  (Ctrl+Enter sends)' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'reply-send' }, 'Send');
  const status = h('span', { class: 'reply-status', testid: 'reply-status', role: 'status', 'aria-live': 'polite' });
  const fieldError = h('p', { class: 'form-error', hidden: true });
  const parentLine = h('p', { class: 'muted reply-parent', testid: 'reply-parent' });
  const toWarning = h('p', { class: 'notice notice-danger', testid: 'reply-to-warning', hidden: true });
  let parent = null;
  let prefilled = '';
  const domainOf = (a) => (a || '').split('@').pop().toLowerCase();
  // The To line before sending: Reply-To if the message has one (warned when it leaves the
  // sender's domain), else From; a spoofed-looking message supplies nobody.
  const fillTo = () => {
    toWarning.hidden = true;
    if (!parent) return;
    if (to.value.trim() && to.value !== prefilled) return; // the user's own choice stays
    let value = '';
    if (parent.suspicious) {
      toWarning.textContent = `This message looks spoofed (${parent.suspicious}): enter the recipients yourself.`;
      toWarning.hidden = false;
    } else if (mode.value === 'reply') {
      const from = parent.from && parent.from.address;
      const rt = (parent.reply_to || [])[0];
      value = rt || from || '';
      if (rt && from && rt.toLowerCase() !== from.toLowerCase() && domainOf(rt) !== domainOf(from)) {
        toWarning.textContent = `Replies go to ${rt} (its Reply-To), not to the sender ${from}: check before sending.`;
        toWarning.hidden = false;
      }
    }
    to.value = value;
    prefilled = value;
  };
  form.setParent = (m) => {
    parent = m;
    const who = (m.from && (m.from.name || m.from.address)) || 'the message';
    parentLine.textContent = `Replying to ${who}, ${absTime(m.date)}`;
    parentLine.dataset.messageId = String(m.id);
    fillTo();
  };
  mode.addEventListener('change', () => {
    to.placeholder = mode.value === 'reply-all' ? 'Default: everyone on the thread (comma separated to change)'
      : 'Default: the sender (comma separated to change)';
    fillTo();
  });
  append(form, parentLine,
    h('div', { class: 'reply-grid' },
      h('label', { for: 'reply-account' }, 'From'), h('div', { class: 'reply-row' }, account, mode),
      h('label', { for: 'reply-to' }, 'To'), to,
      h('label', { for: 'reply-cc' }, 'Cc'), cc),
    toWarning, body, fieldError,
    h('div', { class: 'reply-actions' }, send, status));

  const setStatus = (text, kind) => {
    status.textContent = text;
    status.className = `reply-status${kind ? ` reply-status-${kind}` : ''}`;
  };
  const showOutbox = (o) => {
    const states = {
      queued: ['Queued…', 'pending'], sending: ['Sending…', 'pending'], sent: ['Sent ✓', 'ok'],
      failed: [`Failed: ${o.last_error || 'unknown error'}`, 'error'],
      unknown: [`Unknown: the server may or may not have sent it${o.last_error ? ` (${o.last_error})` : ''}`, 'error'],
      cancelled: ['Cancelled', 'error'],
    };
    const [text, kind] = states[o.state] || [o.state, null];
    setStatus(text, kind);
    status.dataset.state = o.state;
    return o.state === 'queued' || o.state === 'sending';
  };

  let polling = null;
  onLeave(() => clearTimeout(polling));
  const poll = (outboxId, failures) => {
    polling = setTimeout(async () => {
      if (!v.alive) return;
      try {
        const o = (await api('GET', `/outbox/${outboxId}`)).outbox;
        if (showOutbox(o)) { poll(outboxId, 0); return; }
        send.disabled = false;
        if (o.state === 'sent') {
          body.value = '';
          to.value = '';
          prefilled = '';
          cc.value = '';
          onSent();
        }
      } catch (e) {
        if (e.status === 0 && failures < 30) { poll(outboxId, failures + 1); return; }
        showError(e);
        send.disabled = false;
      }
    }, OUTBOX_POLL_MS);
  };

  const submit = async () => {
    fieldError.hidden = true;
    if (!body.value.trim()) { body.focus(); setStatus('Write something first.', 'error'); return; }
    const payload = { account: account.value, body: body.value, mode: mode.value };
    if (parent) payload.parent_id = parent.id;
    const toList = parseAddresses(to.value);
    const ccList = parseAddresses(cc.value);
    const bad = [...toList, ...ccList].find((a) => !/^[^@\s]+@[^@\s]+$/.test(a) || a.length > 254);
    if (bad) {
      fieldError.textContent = `Not an email address: ${bad}`;
      fieldError.hidden = false;
      return;
    }
    if (toList.length) payload.to = toList;
    if (ccList.length) payload.cc = ccList;
    send.disabled = true;
    setStatus('Queuing…', 'pending');
    try {
      const o = (await api('POST', `/threads/${threadId}/reply`, payload)).outbox;
      if (showOutbox(o)) poll(o.id, 0);
      else send.disabled = false;
    } catch (e) {
      send.disabled = false;
      setStatus('', null);
      if (e.field) {
        fieldError.textContent = `${e.field}: ${e.message}`;
        fieldError.hidden = false;
      }
      showError(e);
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
  body.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); if (!send.disabled) submit(); }
  });
  return form;
}

// ---------------------------------------------------------------------------------------------
// #/unsorted

async function viewUnsorted(main) {
  const v = view; // this page; v.alive turns false when the user leaves it
  const count = h('span', { class: 'muted' });
  append(main, pageHeader('Unsorted', count),
    h('p', { class: 'page-intro' }, 'Conversations the sorter could not file with confidence. Assign each to its deal.'));
  const body = h('div', { class: 'page-body' }, h('p', { class: 'loading' }, 'Loading…'));
  append(main, body);
  const [r, deals] = await Promise.all([api('GET', '/unsorted'), loadDeals().catch(() => [])]);
  if (!v.alive) return;
  let remaining = r.threads.length;
  setUnsortedCount(remaining);
  const updateCount = () => { count.textContent = remaining ? plural(remaining, 'conversation') : ''; };
  updateCount();
  clear(body);
  const emptyEl = h('div', { class: 'empty', hidden: remaining > 0 },
    h('p', { class: 'empty-title' }, 'All sorted ✓'), h('p', null, 'Nothing waits to be assigned.'));
  const list = h('div', { class: 'unsorted-list' });
  append(body, emptyEl, list);

  for (const t of r.threads) {
    const row = h('div', { class: `unsorted-row${t.unread_count > 0 ? ' unread' : ''}`, testid: 'unsorted-row',
      dataset: { id: String(t.id), navRow: '1' } });
    const assign = async (dealId, button) => {
      for (const b of row.querySelectorAll('button, select')) b.disabled = true;
      try {
        const res = await api('POST', `/threads/${t.id}/link`, { deal_id: dealId });
        const name = res.thread && res.thread.deal ? res.thread.deal.name : 'the deal';
        clear(row);
        row.classList.add('assigned');
        row.removeAttribute('data-nav-row');
        row.appendChild(h('div', { class: 'assigned-note' }, `✓ Assigned “${t.subject || '(no subject)'}” to ${name}`));
        remaining -= 1;
        setUnsortedCount(remaining);
        updateCount();
        setTimeout(() => {
          row.classList.add('leaving');
          setTimeout(() => { row.remove(); emptyEl.hidden = remaining > 0; }, 300);
        }, 1500);
      } catch (e) {
        for (const b of row.querySelectorAll('button, select')) b.disabled = false;
        showError(e);
        if (button) button.focus();
      }
    };
    const suggestions = (t.suggestions || []).map((s) => {
      const b = h('button', { type: 'button', class: 'btn btn-suggest', testid: 'assign-suggested',
        dataset: { dealId: String(s.id) } }, `Assign to ${s.name}`);
      b.addEventListener('click', () => assign(s.id, b));
      return b;
    });
    const select = h('select', { class: 'input', 'aria-label': 'Other deal', testid: 'assign-select' });
    dealOptions(select, deals, null, 'Other deal…');
    const other = h('button', { type: 'button', class: 'btn btn-small', testid: 'assign-submit' }, 'Assign');
    other.addEventListener('click', () => {
      const id = Number(select.value);
      if (!id) { select.focus(); return; }
      assign(id, other);
    });
    select.addEventListener('change', () => { other.classList.toggle('btn-primary', Boolean(select.value)); });
    append(row,
      h('div', { class: 'unsorted-main' },
        h('div', { class: 'unsorted-title' },
          h('a', { class: 'row-link', href: `#/threads/${t.id}` }, t.subject || '(no subject)'),
          unreadBadge(t.unread_count, 'thread-unread')),
        h('div', { class: 'sub participants' }, (t.participants || []).join(', ')),
        h('div', { class: 'unsorted-meta' },
          h('span', { class: 'reason', testid: 'unsorted-reason' }, t.reason || 'no reason given'),
          h('span', { class: 'muted' }, ` · ${plural(t.message_count, 'message')} · `), timeEl(t.last_date))),
      h('div', { class: 'unsorted-actions' },
        suggestions.length ? h('div', { class: 'suggestions' }, suggestions)
          : h('div', { class: 'muted small' }, 'No suggestion'),
        h('div', { class: 'other-deal' }, select, other)));
    list.appendChild(row);
  }
}

// ---------------------------------------------------------------------------------------------
// #/admin

const STATE_CLASS = {
  idle: 'ok', syncing: 'ok', backoff: 'bad', error: 'bad', needs_reauth: 'warn', disabled: 'off',
};
const STATE_LABEL = {
  idle: 'Idle', syncing: 'Syncing', backoff: 'Backoff', error: 'Error', needs_reauth: 'Needs re-auth',
  disabled: 'Disabled',
};

async function viewAdmin(main) {
  const v = view; // this page; v.alive turns false when the user leaves it
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
  await refresh();
  if (!v.alive) return;
  clear(body);
  append(body, h('div', { class: 'table-scroll' }, table), empty);
  let failing = false;
  every(ADMIN_REFRESH_MS, async () => {
    try { await refresh(); failing = false; } catch (e) { if (!failing) showError(e); failing = true; }
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
  const toggleBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'account-toggle' });
  const tr = h('tr', { class: 'row', testid: 'admin-account-row', dataset: { name } },
    nameCell, stateCell, successCell, errorCell, syncCell,
    h('td', { class: 'col-actions' }, h('div', { class: 'actions' }, testBtn, h('div', { class: 'actions-line' }, resyncBtn, toggleBtn))));
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
      progress(acc.initial));
    toggleBtn.textContent = acc.enabled ? 'Disable' : 'Enable';
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

// ---------------------------------------------------------------------------------------------
// Start

document.querySelector('[data-testid="logout"]').addEventListener('click', logout);
document.getElementById('toast').addEventListener('click', (ev) => { ev.currentTarget.hidden = true; });
window.addEventListener('hashchange', () => { cursor = -1; route(); });
if (!location.hash || location.hash === '#' || location.hash === '#/') history.replaceState(null, '', '#/deals');
route();
