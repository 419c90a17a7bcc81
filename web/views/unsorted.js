// #/unsorted: the conversations the sorter could not file, each with one-click assignment, a page
// at a time ("More conversations"; #/unsorted?limit=N sets the page size).
//
// Stable test selectors (data-testid):
//   unsorted-row          one unsorted thread (data-id = thread id)
//   unsorted-reason       its reason
//   assign-suggested      one-click "Assign to {deal name}" button (data-deal-id)
//   assign-select         select of all deals in an unsorted row
//   assign-submit         the button that assigns to the deal chosen in assign-select
//   unsorted-more         "More conversations": the next page (hidden on the last)

import {
  h, append, clear, timeEl, plural, api, currentView, showError, loadDeals, setUnsortedCount, pageLimit,
  pageHeader, unreadBadge, dealOptions,
} from '../core.js';

export async function viewUnsorted(main) {
  const v = currentView(); // this page; v.alive turns false when the user leaves it
  const count = h('span', { class: 'muted' });
  append(main, pageHeader('Unsorted', count),
    h('p', { class: 'page-intro' }, 'Conversations the sorter could not file with confidence. Assign each to its deal.'));
  const body = h('div', { class: 'page-body' }, h('p', { class: 'loading' }, 'Loading…'));
  append(main, body);
  const limit = pageLimit(); // #/unsorted?limit=N
  const [r, deals] = await Promise.all([api('GET', `/unsorted?limit=${limit}`), loadDeals().catch(() => [])]);
  if (!v.alive) return;
  let remaining = r.total; // the whole queue's, not this page's
  setUnsortedCount(remaining);
  const updateCount = () => { count.textContent = remaining ? plural(remaining, 'conversation') : ''; };
  updateCount();
  clear(body);
  const emptyEl = h('div', { class: 'empty', hidden: remaining > 0 },
    h('p', { class: 'empty-title' }, 'All sorted ✓'), h('p', null, 'Nothing waits to be assigned.'));
  const list = h('div', { class: 'unsorted-list' });
  const more = h('button', { type: 'button', class: 'btn', testid: 'unsorted-more', hidden: !r.next_cursor },
    'More conversations');
  append(body, emptyEl, list, h('div', { class: 'more-row' }, more));
  let cursor = r.next_cursor;
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const next = await api('GET', `/unsorted?limit=${limit}&cursor=${encodeURIComponent(cursor)}`);
      if (!v.alive) return;
      for (const t of next.threads) addRow(t);
      cursor = next.next_cursor;
      more.hidden = !cursor;
    } catch (e) {
      showError(e);
    }
    more.disabled = false;
  });

  for (const t of r.threads) addRow(t);

  function addRow(t) {
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
