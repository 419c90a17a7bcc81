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
  h, append, clear, timeEl, api, currentView, showError, loadDeals, setUnsortedCount, pageLimit,
  pageHeader, unreadBadge, dealOptions,
} from '../core.js';
import { t, tn } from '../i18n.js';

export async function viewUnsorted(main) {
  const v = currentView(); // this page; v.alive turns false when the user leaves it
  const count = h('span', { class: 'muted' });
  append(main, pageHeader(t('Unsorted'), count),
    h('p', { class: 'page-intro' }, t('Conversations the sorter could not file with confidence. Assign each to its deal.')));
  const body = h('div', { class: 'page-body' }, h('p', { class: 'loading' }, t('Loading…')));
  append(main, body);
  const limit = pageLimit(); // #/unsorted?limit=N
  const [r, deals] = await Promise.all([api('GET', `/unsorted?limit=${limit}`), loadDeals().catch(() => [])]);
  if (!v.alive) return;
  let remaining = r.total; // the whole queue's, not this page's
  setUnsortedCount(remaining);
  const updateCount = () => { count.textContent = remaining ? tn(remaining, '{n} conversation', '{n} conversations') : ''; };
  updateCount();
  clear(body);
  const emptyEl = h('div', { class: 'empty', hidden: remaining > 0 },
    h('p', { class: 'empty-title' }, t('All sorted ✓')), h('p', null, t('Nothing waits to be assigned.')));
  const list = h('div', { class: 'unsorted-list' });
  const more = h('button', { type: 'button', class: 'btn', testid: 'unsorted-more', hidden: !r.next_cursor },
    t('More conversations'));
  append(body, emptyEl, list, h('div', { class: 'more-row' }, more));
  let cursor = r.next_cursor;
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const next = await api('GET', `/unsorted?limit=${limit}&cursor=${encodeURIComponent(cursor)}`);
      if (!v.alive) return;
      for (const th of next.threads) addRow(th);
      cursor = next.next_cursor;
      more.hidden = !cursor;
    } catch (e) {
      showError(e);
    }
    more.disabled = false;
  });

  for (const th of r.threads) addRow(th);

  function addRow(th) {
    const row = h('div', { class: `unsorted-row${th.unread_count > 0 ? ' unread' : ''}`, testid: 'unsorted-row',
      dataset: { id: String(th.id), navRow: '1' } });
    const assign = async (dealId, button) => {
      for (const b of row.querySelectorAll('button, select')) b.disabled = true;
      try {
        const res = await api('POST', `/threads/${th.id}/link`, { deal_id: dealId });
        const subject = th.subject || t('(no subject)');
        clear(row);
        row.classList.add('assigned');
        row.removeAttribute('data-nav-row');
        row.appendChild(h('div', { class: 'assigned-note' }, res.thread && res.thread.deal
          ? t('✓ Assigned “{subject}” to {deal}', { subject, deal: res.thread.deal.name })
          : t('✓ Assigned “{subject}” to the deal', { subject })));
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
    const suggestions = (th.suggestions || []).map((s) => {
      const b = h('button', { type: 'button', class: 'btn btn-suggest', testid: 'assign-suggested',
        dataset: { dealId: String(s.id) } }, t('Assign to {deal}', { deal: s.name }));
      b.addEventListener('click', () => assign(s.id, b));
      return b;
    });
    const select = h('select', { class: 'input', 'aria-label': t('Other deal'), testid: 'assign-select' });
    dealOptions(select, deals, null, t('Other deal…'));
    const other = h('button', { type: 'button', class: 'btn btn-small', testid: 'assign-submit' }, t('Assign'));
    other.addEventListener('click', () => {
      const id = Number(select.value);
      if (!id) { select.focus(); return; }
      assign(id, other);
    });
    select.addEventListener('change', () => { other.classList.toggle('btn-primary', Boolean(select.value)); });
    append(row,
      h('div', { class: 'unsorted-main' },
        h('div', { class: 'unsorted-title' },
          h('a', { class: 'row-link', href: `#/threads/${th.id}` }, th.subject || t('(no subject)')),
          unreadBadge(th.unread_count, 'thread-unread')),
        h('div', { class: 'sub participants' }, (th.participants || []).join(', ')),
        h('div', { class: 'unsorted-meta' },
          h('span', { class: 'reason', testid: 'unsorted-reason' }, th.reason || t('no reason given')),
          h('span', { class: 'muted' }, ` · ${tn(th.message_count, '{n} message', '{n} messages')} · `), timeEl(th.last_date))),
      h('div', { class: 'unsorted-actions' },
        suggestions.length ? h('div', { class: 'suggestions' }, suggestions)
          : h('div', { class: 'muted small' }, t('No suggestion')),
        h('div', { class: 'other-deal' }, select, other)));
    list.appendChild(row);
  }
}
