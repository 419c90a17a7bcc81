// #/deals/{id}: one deal and its conversations.
//
// Stable test selectors (data-testid):
//   deal-header           the deal summary on #/deals/{id}
//   thread-row            one thread in a deal's list (data-id = thread id)
//   thread-unread         the unread badge in a thread row (only when unread_count > 0)
//   threads-total         "N conversations" (the whole list's count)
//   threads-more          "More conversations": the next page (hidden on the last)
//   deal-followups        the deal's follow-up periods (a form for its owner and admins)
//   followup-awaiting     business days without their answer before "awaiting their reply"
//   followup-answer       hours their message may wait for ours
//   followup-save         saves both (empty: the default)
//   followup-error        why the server refused them

import {
  h, append, timeEl, fmtCount, plural, api, currentView, pageHeader, clickableRow, statusPill,
  unreadBadge, showError, loadMe, isAdmin, toast,
} from '../core.js';

// The deal's follow-up periods: read for everyone who sees the deal, a form for its owner and
// admins. Empty fields mean the config's defaults.
async function followupSettings(d) {
  const [s, me] = await Promise.all([api('GET', `/deals/${d.id}/followups`), loadMe()]);
  const canEdit = isAdmin() || (d.owner && me && me.user && d.owner.id === me.user.id);
  const box = h('div', { class: 'deal-followups', testid: 'deal-followups' });
  const text = (v, dflt, unit) => (v == null ? `${dflt} ${unit} (default)` : `${v} ${unit}`);
  if (!canEdit) {
    append(box, h('span', { class: 'muted' }, 'Follow up: awaiting their reply after ',
      text(s.awaiting_days, s.defaults.awaiting_days, 'business days'), '; answer within ',
      text(s.answer_hours, s.defaults.answer_hours, 'hours')));
    return box;
  }
  const days = h('input', { type: 'number', class: 'input input-small', min: '1', max: '60', testid: 'followup-awaiting',
    placeholder: String(s.defaults.awaiting_days), value: s.awaiting_days == null ? '' : String(s.awaiting_days),
    'aria-label': 'Business days without their answer' });
  const hours = h('input', { type: 'number', class: 'input input-small', min: '1', max: '720', testid: 'followup-answer',
    placeholder: String(s.defaults.answer_hours), value: s.answer_hours == null ? '' : String(s.answer_hours),
    'aria-label': 'Hours their message may wait' });
  const error = h('span', { class: 'form-error', testid: 'followup-error', hidden: true });
  const num = (el) => (el.value.trim() === '' ? null : Number(el.value));
  const save = h('button', { type: 'button', class: 'btn btn-small', testid: 'followup-save', onclick: async () => {
    error.hidden = true;
    try {
      await api('PUT', `/deals/${d.id}/followups`, { awaiting_days: num(days), answer_hours: num(hours) });
      toast('Follow-up periods saved', 'success');
    } catch (e) {
      if (e.status === 422) {
        error.textContent = e.message;
        error.hidden = false;
      } else {
        showError(e);
      }
    }
  } }, 'Save');
  append(box, h('span', { class: 'muted' }, 'Follow up: awaiting their reply after '), days,
    h('span', { class: 'muted' }, ' business days; answer within '), hours, h('span', { class: 'muted' }, ' hours '), save, error);
  return box;
}

export async function viewDeal(main, id) {
  const v = currentView(); // this page; v.alive turns false when the user leaves it
  const [dealRes, threadsRes] = await Promise.all([api('GET', `/deals/${id}`), api('GET', `/deals/${id}/threads?limit=100`)]);
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
      h('span', { class: 'meta-item muted', testid: 'threads-total' }, `${plural(threadsRes.total, 'conversation')} · ${plural(d.messages, 'message')}`)));
  append(main, await followupSettings(d));
  if (!v.alive) return;
  const body = h('div', { class: 'page-body' });
  append(main, body);
  if (!threads.length) {
    append(body, h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, 'No conversations yet'),
      h('p', null, 'Mail with this deal\'s contacts will appear here.')));
    return;
  }
  const tbody = h('tbody');
  addRows(tbody, threads);
  const more = h('button', { type: 'button', class: 'btn', testid: 'threads-more', hidden: !threadsRes.next_cursor },
    'More conversations');
  let cursor = threadsRes.next_cursor;
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const r = await api('GET', `/deals/${id}/threads?limit=100&cursor=${encodeURIComponent(cursor)}`);
      if (!v.alive) return;
      addRows(tbody, r.threads);
      cursor = r.next_cursor;
      more.hidden = !cursor;
    } catch (e) {
      showError(e);
    }
    more.disabled = false;
  });
  append(body, threadTable(tbody), h('div', { class: 'more-row' }, more));
}

function addRows(tbody, threads) {
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
}

function threadTable(tbody) {
  return h('table', { class: 'table' },
    h('thead', null, h('tr', null, h('th', null, 'Conversation'), h('th', { class: 'num' }, 'Messages'),
      h('th', { class: 'num' }, 'Unread'), h('th', { class: 'col-date' }, 'Last message'))),
    tbody);
}
