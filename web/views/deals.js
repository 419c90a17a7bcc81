// #/deals: the deals the user may see, 100 at a time (#/deals?limit=N; "More deals" reads the next page), filtered
// on the page among those read (the filter is kept for the tab's session in sessionStorage
// crm-deal-filter). The count is of all the user's deals.
//
// Stable test selectors (data-testid):
//   deal-filter           the search/filter box on #/deals
//   deal-status-filter    the status select (all/open/won/lost) on #/deals
//   deal-row              one deal in the list (data-id = deal id; class "unread" when unread > 0)
//   deal-unread           the unread badge in a deal row (only when unread > 0)
//   deals-more            "More deals": the next page (hidden on the last)
//   deals-count           the count in the header ("N deals", or "shown of N")

import {
  h, append, clear, timeEl, fmtCount, currentView, api, showError, pageHeader, clickableRow,
  statusPill, unreadBadge, pageLimit, state,
} from '../core.js';
import { t, tn, fmtNumber } from '../i18n.js';

export async function viewDeals(main) {
  const v = currentView(); // this page; v.alive turns false when the user leaves it
  const filter = h('input', { type: 'search', class: 'input filter', placeholder: t('Filter deals…  ( / )'),
    'aria-label': t('Filter deals'), testid: 'deal-filter', dataset: { filter: '1' } });
  const statusSel = h('select', { class: 'input', 'aria-label': t('Status'), testid: 'deal-status-filter' },
    h('option', { value: '' }, t('All statuses')), h('option', { value: 'open' }, t('Open')),
    h('option', { value: 'won' }, t('Won')), h('option', { value: 'lost' }, t('Lost')));
  const unreadOnly = h('input', { type: 'checkbox', id: 'unread-only' });
  const count = h('span', { class: 'muted', testid: 'deals-count' });
  append(main, pageHeader(t('Deals'), count),
    h('div', { class: 'toolbar' }, filter, statusSel,
      h('label', { class: 'check', for: 'unread-only' }, unreadOnly, t('Unread only'))));
  const body = h('div', { class: 'page-body' }, h('p', { class: 'loading' }, t('Loading deals…')));
  append(main, body);

  const pageSize = pageLimit(); // #/deals?limit=N
  const first = await api('GET', `/deals?limit=${pageSize}`);
  if (!v.alive) return;
  state.deals = null; // the pickers read the deals again: some may be new since
  const total = first.total;
  let cursor = first.next_cursor;

  const table = h('table', { class: 'table' },
    h('thead', null, h('tr', null,
      h('th', null, t('Deal')), h('th', null, t('Stage')), h('th', { class: 'col-status' }, t('Status')),
      h('th', { class: 'col-owner' }, t('Owner')), h('th', { class: 'num col-threads' }, t('Threads')),
      h('th', { class: 'num' }, t('Unread')), h('th', { class: 'col-date' }, t('Last activity')))));
  const tbody = h('tbody');
  table.appendChild(tbody);
  const rows = [];
  const shownIds = new Set(); // a deal whose activity or status moved while paging can come twice
  const addRows = (deals) => {
    for (const d of deals) {
      if (shownIds.has(d.id)) continue;
      shownIds.add(d.id);
      const company = d.company && d.company.name;
      const tr = clickableRow(h('tr', { class: d.unread > 0 ? 'row unread' : 'row', testid: 'deal-row',
        dataset: { id: String(d.id), navRow: '1' } },
        h('td', { class: 'cell-title' },
          h('a', { class: 'row-link', href: `#/deals/${d.id}` }, d.name),
          d.shared ? h('span', { class: 'tag', title: t('Shared with every salesperson') }, t('shared')) : null,
          company ? h('div', { class: 'sub' }, company) : null),
        h('td', null, d.stage || '—'),
        h('td', { class: 'col-status' }, statusPill(d.status)),
        h('td', { class: 'col-owner' }, d.owner ? d.owner.name : h('span', { class: 'muted' }, t('nobody'))),
        h('td', { class: 'num col-threads' }, fmtCount(d.threads)),
        h('td', { class: 'num' }, unreadBadge(d.unread, 'deal-unread')),
        h('td', { class: 'col-date' }, timeEl(d.last_date))));
      const hay = [d.name, company, d.stage, d.status, d.owner && d.owner.name].filter(Boolean).join(' ').toLowerCase();
      rows.push({ d, tr, hay });
      tbody.appendChild(tr);
    }
  };
  addRows(first.deals);
  const more = h('button', { type: 'button', class: 'btn', testid: 'deals-more', hidden: !cursor }, t('More deals'));
  const empty = h('div', { class: 'empty', hidden: true }, h('p', { class: 'empty-title' }, t('No deals match')),
    h('p', null, t('Try another filter.')));
  clear(body);
  if (!rows.length) {
    append(body, h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, t('No deals yet')),
      h('p', null, t('Deals you own or that are shared with you appear here.'))));
    count.textContent = '';
    return;
  }
  append(body, table, empty, h('div', { class: 'more-row' }, more));

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
    // Unfiltered: all of the user's deals; filtered: what the filter keeps of those read so far.
    const filtered = words.length > 0 || Boolean(st) || unreadOnly.checked;
    if (!filtered) {
      count.textContent = tn(total, '{n} deal', '{n} deals');
    } else if (cursor) {
      count.textContent = tn(rows.length, '{shown} of {n} deal read so far', '{shown} of {n} deals read so far',
        { shown: fmtNumber(shown) });
    } else {
      count.textContent = tn(rows.length, '{shown} of {n} deal', '{shown} of {n} deals', { shown: fmtNumber(shown) });
    }
    empty.hidden = shown > 0;
    table.hidden = shown === 0;
    sessionStorage.setItem('crm-deal-filter', JSON.stringify([filter.value, st, unreadOnly.checked]));
  };
  try {
    const [f, s, u] = JSON.parse(sessionStorage.getItem('crm-deal-filter') || '["","",false]');
    filter.value = f; statusSel.value = s; unreadOnly.checked = u;
  } catch (e) { /* ignore */ }
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const r = await api('GET', `/deals?limit=${pageSize}&cursor=${encodeURIComponent(cursor)}`);
      if (!v.alive) return;
      addRows(r.deals);
      cursor = r.next_cursor;
      more.hidden = !cursor;
      apply();
    } catch (e) { showError(e); }
    more.disabled = false;
  });
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
