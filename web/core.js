// The page's shared core: DOM helpers, formatting, the API client (session cookie, the JSON body
// the server's CSRF check wants, 401 → #/login), the page state, the toast, the shell (nav) and
// the router. The views (views/*.js) import from here and never from one another, except the
// composers: the thread view embeds the reply box (reply.js), and the reply box, the deal page and
// the settings page share views/compose.js (files, drafts, signature, the new-mail box); app.js
// lists the routes and calls start().
// Mail content is hostile: the DOM is built with createElement/textContent only (h()), never
// innerHTML.
//
// Stable test selectors of the shell (data-testid; each view lists its own):
//   nav-deals             left nav link to #/deals
//   nav-unsorted          left nav link to #/unsorted
//   nav-unsorted-count    the unsorted count badge in that link (hidden when 0)
//   nav-admin             left nav link to #/admin (present only for role admin)
//   nav-user              the logged-in user's name in the nav
//   logout                the Log out button
//   page-title            the h1 of the current page (on #/threads/{id} it is thread-subject)
//   load-error            the message shown when a page could not load (with a Retry button)
//   toast                 the toast/banner with the latest error or confirmation
//
// Keyboard: j/k move through rows and messages, Enter opens, / focuses the filter, r the reply.

import { dateFormat, fmtNumber, setLocale, t, tn } from './i18n.js';

const API = '/api/v1';
const NAV_REFRESH_MS = 60000;

// ---------------------------------------------------------------------------------------------
// DOM helpers

// h('div', {class: 'x', testid: 'y', onclick: fn, title: 't'}, child, 'text', [more]) builds an
// element. Strings become text nodes; attributes go through setAttribute (never `style` or on*).
export function h(tag, attrs, ...children) {
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

export function append(el, ...children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, ...c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Only same-origin paths from the API are used as link and frame targets.
export function safePath(url) {
  return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')
    ? url : null;
}

export function withQuery(path, key, value) {
  const u = new URL(path, location.origin);
  u.searchParams.set(key, value);
  return u.pathname + u.search;
}

// ---------------------------------------------------------------------------------------------
// Formatting

// Times are shown in the user's language and time zone (i18n.js).
function relTime(ts) {
  if (ts === null || ts === undefined) return '—';
  const diff = Date.now() / 1000 - ts;
  if (diff < 45) return t('just now');
  if (diff < 90) return t('1 min ago');
  if (diff < 3600) return t('{n} min ago', { n: fmtNumber(Math.round(diff / 60)) });
  if (diff < 86400) return t('{n} h ago', { n: fmtNumber(Math.round(diff / 3600)) });
  const d = new Date(ts * 1000);
  const days = Math.floor(diff / 86400);
  if (days < 2) return t('yesterday');
  if (days < 7) return tn(days, '{n} day ago', '{n} days ago');
  const opts = { month: 'short', day: 'numeric' };
  const year = dateFormat({ year: 'numeric' });
  if (year.format(d) !== year.format(new Date())) opts.year = 'numeric';
  return dateFormat(opts).format(d);
}

export function absTime(ts) {
  if (ts === null || ts === undefined) return '';
  return dateFormat({ year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    .format(new Date(ts * 1000));
}

export function timeEl(ts, cls) {
  const el = h('time', { class: cls || 'time', title: absTime(ts) }, relTime(ts));
  if (ts !== null && ts !== undefined) el.dateTime = new Date(ts * 1000).toISOString();
  return el;
}

export function fmtSize(n) {
  if (typeof n !== 'number' || !isFinite(n)) return '';
  if (n < 1024) return t('{n} B', { n: fmtNumber(n) });
  const one = { minimumFractionDigits: 1, maximumFractionDigits: 1 };
  if (n < 1024 * 1024) return t('{n} KB', { n: fmtNumber(n / 1024, n < 10240 ? one : { maximumFractionDigits: 0 }) });
  return t('{n} MB', { n: fmtNumber(n / 1048576, one) });
}

export function fmtCount(n) {
  return typeof n === 'number' ? fmtNumber(n) : '—';
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
export async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (method === 'POST' || method === 'PATCH' || method === 'PUT') {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body === undefined ? {} : body);
  }
  let res;
  try {
    res = await fetch(API + path, opts);
  } catch (e) {
    throw new ApiError(0, 'network', t('Cannot reach the server. Check your connection and try again.'));
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
    err.message || t('The server answered {status} {text}', { status: res.status, text: res.statusText }).trim(), err.field,
    Number.isFinite(retry) ? retry : undefined);
  if (res.status === 401 && path !== '/auth/login') {
    sessionExpired();
    e.handled = true;
  }
  throw e;
}

// ---------------------------------------------------------------------------------------------
// State, toast, navigation

export const state = {
  me: null,          // {user, accounts}
  deals: null,       // cached [Deal] for selects
  unsortedCount: null,
};

let view = null;     // {cleanups: [fn], alive: bool} of the page on screen

// The page on screen. A view keeps what this returns when it starts: its `alive` turns false when
// the user leaves, and an await that comes back to a dead page must not touch the DOM.
export function currentView() {
  return view;
}

export function onLeave(fn) {
  if (view) view.cleanups.push(fn);
}

export function every(ms, fn) {
  const id = setInterval(fn, ms);
  onLeave(() => clearInterval(id));
}

let toastTimer = null;
export function toast(message, kind) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.className = `toast toast-${kind || 'info'}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 8000 : 4000);
}

export function showError(e) {
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

// The Log out button. The reload drops every view's state and timer with the session.
async function logout() {
  try { await api('POST', '/auth/logout'); } catch (e) { if (e.status !== 401) { showError(e); return; } }
  state.me = null;
  state.deals = null;
  sessionStorage.removeItem('crm-return');
  clearInterval(navTimer);
  location.hash = '#/login';
  location.reload();
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// The user, their accounts and their settings; the page takes their language and time zone.
export async function loadMe() {
  state.me = await api('GET', '/me');
  const s = state.me.settings || {};
  setLocale(s.locale, s.time_zone);
  return state.me;
}

// A list page's size from its address, `#/list?limit=N` (1-500; 100 by default).
export function pageLimit() {
  const q = location.hash.indexOf('?');
  const asked = q < 0 ? NaN : Number(new URLSearchParams(location.hash.slice(q + 1)).get('limit'));
  return Number.isInteger(asked) && asked >= 1 && asked <= 500 ? asked : 100;
}

// Every deal the user sees (for pickers), read a page of 500 at a time.
export async function loadDeals(force) {
  if (!state.deals || force) {
    const all = [];
    const seen = new Set(); // a deal whose activity moved while paging can come twice
    let cursor = null;
    do {
      const r = await api('GET', `/deals?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      for (const d of r.deals) if (!seen.has(d.id)) { seen.add(d.id); all.push(d); }
      cursor = r.next_cursor;
    } while (cursor);
    state.deals = all;
  }
  return state.deals;
}

export function isAdmin() {
  return state.me && state.me.user && state.me.user.role === 'admin';
}

export async function refreshUnsortedCount() {
  try {
    const r = await api('GET', '/unsorted?limit=1');
    setUnsortedCount(r.total);
  } catch (e) { /* the page itself reports errors */ }
}

export function setUnsortedCount(n) {
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
  sidebar.querySelector('.nav-user-role').textContent = user.role === 'admin' ? t('Admin') : user.email;
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

let routes = []; // set by start()

let navTimer = null;
const adminItem = document.querySelector('[data-testid="nav-admin"]').parentElement;

// Leaves the page on screen (its cleanups run) and renders the one the hash names.
async function route() {
  if (view) {
    view.alive = false;
    for (const fn of view.cleanups) { try { fn(); } catch (e) { /* ignore */ } }
  }
  view = { cleanups: [], alive: true };
  const current = view;
  const hash = location.hash || '#/deals';
  let match = null;
  for (const r of routes) {
    const m = hash.match(r.path);
    if (m) { match = { ...r, args: m.slice(1) }; break; }
  }
  if (!match) { location.replace('#/deals'); return; }

  const main = document.getElementById('main');
  if (!match.anonymous && !state.me) {
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
  main.classList.toggle('main-login', Boolean(match.anonymous));
  try {
    await match.view(main, ...match.args.map(Number));
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
    h('p', { class: 'empty-title' }, e.status === 404 ? t('Not found') : t('Could not load this page')),
    h('p', null, e.message),
    h('button', { type: 'button', class: 'btn', onclick: retry }, t('Retry'))));
}

export function pageHeader(title, ...extra) {
  document.title = t('{title} · CRM Mail', { title });
  return h('header', { class: 'page-header' },
    h('div', { class: 'page-header-main' }, h('h1', { testid: 'page-title' }, title), extra));
}

// ---------------------------------------------------------------------------------------------
// Keyboard: j/k over [data-nav-row], Enter opens the row's primary link, / filter, r reply.

function onKey(ev) {
  if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) {
    if (ev.key === 'Escape') t.blur();
    return;
  }
  const rows = Array.from(document.querySelectorAll('#main [data-nav-row]')).filter((r) => r.offsetParent);
  const move = (d) => {
    if (!rows.length) return;
    const cursor = Math.max(0, Math.min(rows.length - 1, rows.indexOf(document.querySelector('#main .cursor')) + d));
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
}

// Clicking anywhere on a row (but not on its controls) follows its primary link.
export function clickableRow(row) {
  row.addEventListener('click', (ev) => {
    if (ev.target.closest('a, button, input, select, textarea, label')) return;
    if (window.getSelection && String(window.getSelection())) return;
    const link = row.querySelector('a.row-link');
    if (link) link.click();
  });
  return row;
}

// ---------------------------------------------------------------------------------------------
// Small shared pieces

// A deal's status as the page shows it (the API's value stays in the class).
const kStatus = { open: () => t('open'), won: () => t('won'), lost: () => t('lost') };
export function statusPill(status) {
  return h('span', { class: `pill pill-status-${status}` }, kStatus[status] ? kStatus[status]() : status);
}

export function unreadBadge(n, testid) {
  return n > 0 ? h('span', { class: 'badge', testid, title: tn(n, '{n} unread message', '{n} unread messages') }, fmtNumber(n)) : null;
}

export function dealOptions(select, deals, selectedId, placeholder) {
  clear(select);
  select.appendChild(h('option', { value: '' }, placeholder || t('Choose a deal…')));
  const groups = { open: [], won: [], lost: [] };
  for (const d of deals) (groups[d.status] || groups.open).push(d);
  for (const [label, list] of [[t('Open'), groups.open], [t('Won'), groups.won], [t('Lost'), groups.lost]]) {
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
// Start

// table: [{path: RegExp over the hash (its groups are the view's numeric arguments),
//          view: async (main, ...args), nav: the nav link's data-route or null,
//          anonymous: true for the page that needs no session (the login page)}]
export function start(table) {
  routes = table;
  setLocale('', ''); // the browser's, until the user's own settings are read (loadMe)
  document.querySelector('[data-testid="logout"]').addEventListener('click', logout);
  // The sidebar's search box: #/search?q=... (views/search.js).
  document.querySelector('[data-testid="nav-search-form"]').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = ev.currentTarget.elements.q.value.trim();
    if (q) location.hash = `#/search?q=${encodeURIComponent(q)}`;
  });
  document.getElementById('toast').addEventListener('click', (ev) => { ev.currentTarget.hidden = true; });
  document.addEventListener('keydown', onKey);
  window.addEventListener('hashchange', () => route());
  if (!location.hash || location.hash === '#' || location.hash === '#/') history.replaceState(null, '', '#/deals');
  route();
}
