// #/search?q=...: full-text search over the mail the user may see (GET /api/v1/search), best
// hits first, with the matching passage marked; "More results" pages on with the cursor.
//
// Stable test selectors (data-testid):
//   search-input          the query box of the page (the sidebar's is nav-search)
//   search-total          "N results"
//   search-hit            one hit (data-message = message id, data-thread = thread id)
//   search-snippet        its passage; the matched words are <mark> elements
//   search-more           "More results" (hidden when there are no more)
//   search-error          a malformed query: the server's message, naming the position

import {
  h, append, clear, timeEl, fmtCount, api, currentView, showError, pageHeader,
} from '../core.js';
import { t, tn } from '../i18n.js';

// The query of the current hash (#/search?q=...).
export function searchQueryOfHash() {
  const i = location.hash.indexOf('?');
  return i < 0 ? '' : new URLSearchParams(location.hash.slice(i + 1)).get('q') || '';
}

export function searchHash(q) {
  return `#/search?q=${encodeURIComponent(q)}`;
}

function hitRow(hit) {
  const snippet = h('div', { class: 'search-snippet', testid: 'search-snippet' },
    (hit.snippet || []).map((p) => (p.hit ? h('mark', null, p.text) : p.text)));
  return h('div', { class: `search-hit${hit.unread ? ' unread' : ''}`, testid: 'search-hit',
    dataset: { message: String(hit.message), thread: String(hit.thread), navRow: '1' } },
  h('div', { class: 'search-title' },
    h('a', { class: 'row-link', href: `#/threads/${hit.thread}` }, hit.subject || t('(no subject)')),
    hit.has_attachment ? h('span', { class: 'muted', title: t('Has attachments') }, ' 📎') : null),
  h('div', { class: 'sub' },
    hit.outgoing ? t('To us from {sender}', { sender: hit.from.name || hit.from.address })
      : hit.from.name || hit.from.address,
    hit.from.name ? h('span', { class: 'muted' }, ` <${hit.from.address}>`) : null,
    ' · ', timeEl(hit.date || hit.received_at),
    hit.deal ? h('span', null, ` · ${t('deal')} `, h('a', { href: `#/deals/${hit.deal.id}` }, hit.deal.name)) : null),
  snippet);
}

export async function viewSearch(main) {
  const v = currentView();
  const q = searchQueryOfHash();
  const input = h('input', { type: 'search', class: 'input search-input', testid: 'search-input',
    value: q, 'aria-label': t('Search mail'), placeholder: t('Search: words, "a phrase", from:, to:, deal:, has:attachment…') });
  const form = h('form', { class: 'search-form', role: 'search' }, input,
    h('button', { type: 'submit', class: 'btn btn-primary' }, t('Search')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = searchHash(input.value.trim());
  });
  const total = h('span', { class: 'muted', testid: 'search-total' });
  append(main, pageHeader(t('Search'), total), form,
    h('p', { class: 'page-intro small muted' },
      t('Words and "phrases" · -word leaves out · from: to: subject: filename: · deal:1001 · has:attachment · after:/before:YYYY-MM-DD · is:unread · is:unsorted')));
  const list = h('div', { class: 'search-list' });
  const more = h('button', { type: 'button', class: 'btn', testid: 'search-more', hidden: true }, t('More results'));
  const body = h('div', { class: 'page-body' }, list, h('div', { class: 'more-row' }, more));
  append(main, body);
  if (!q) { input.focus(); return; }

  let cursor = null;
  const load = async () => {
    more.disabled = true;
    let path = `/search?q=${encodeURIComponent(q)}&limit=25`;
    if (cursor) path += `&cursor=${encodeURIComponent(cursor)}`;
    let r;
    try {
      r = await api('GET', path);
    } catch (e) {
      if (!v.alive) return;
      if (e.code === 'query.invalid') {
        clear(list);
        append(list, h('div', { class: 'empty error-state', testid: 'search-error' },
          h('p', { class: 'empty-title' }, t('This query is not understood')), h('p', null, e.message)));
        return;
      }
      more.disabled = false;
      showError(e);
      return;
    }
    if (!v.alive) return;
    // A count that stopped at its cap reads "1,000+ results".
    total.textContent = r.total_capped ? t('{count}+ results', { count: fmtCount(r.total) })
      : tn(r.total, '{n} result', '{n} results');
    if (!cursor && r.results.length === 0)
      append(list, h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, t('Nothing found')),
        h('p', null, t('Try fewer words, or leave out a filter.'))));
    for (const hit of r.results) list.appendChild(hitRow(hit));
    cursor = r.next_cursor;
    more.hidden = !cursor;
    more.disabled = false;
  };
  more.addEventListener('click', load);
  await load();
}
