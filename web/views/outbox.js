// #/outbox: the mail the user sent from the CRM (an admin: everyone's), newest first, 100 at a
// time (#/outbox?limit=N; "More" reads the next page), with its state: queued, sending, sent,
// failed (the server's reason), unknown (interrupted: a person decides), cancelled, bounced (a
// delivery report came back: each recipient's outcome and the server's words are listed).
//
// Stable test selectors (data-testid):
//   outbox-row            one entry (data-id = outbox id, data-state = its state)
//   outbox-state          the state pill in a row
//   outbox-more           "More": the next page (hidden on the last)
//   outbox-count          the count in the header (of the whole outbox, not the page)
//   outbox-report         one recipient's outcome from a delivery report (data-action)

import {
  h, append, clear, timeEl, api, currentView, showError, pageHeader, clickableRow, pageLimit,
} from '../core.js';
import { t, tn } from '../i18n.js';

const kStateClass = {
  queued: 'pill-warn', sending: 'pill-warn', sent: 'pill-ok', failed: 'pill-bad', unknown: 'pill-bad',
  cancelled: 'pill-off', bounced: 'pill-bad',
};

// The state as shown in its pill (the state code itself is data-state).
function stateText(state) {
  switch (state) {
    case 'queued': return t('queued');
    case 'sending': return t('sending');
    case 'sent': return t('sent');
    case 'failed': return t('failed');
    case 'unknown': return t('unknown');
    case 'cancelled': return t('cancelled');
    case 'bounced': return t('bounced');
    default: return state;
  }
}

// A delivery report's action as shown (failed, delayed, ... as RFC 3464 names them).
function actionText(action) {
  switch (action) {
    case 'failed': return t('Bounced');
    case 'delayed': return t('Delayed');
    case 'delivered': return t('Delivered');
    case 'relayed': return t('Relayed');
    case 'expanded': return t('Expanded');
    default: return action;
  }
}

// One line per recipient a delivery report spoke of: "Bounced: bob@example.com 5.1.1 (550 …)".
function reportLines(e) {
  return (e.reports || []).map((r) => h('div', { class: 'sub', testid: 'outbox-report', dataset: { action: r.action } },
    t('{action}: {recipient}', { action: actionText(r.action), recipient: r.recipient || t('(recipient not named)') })
      + `${r.status ? ` ${r.status}` : ''}${r.diagnostic ? ` (${r.diagnostic})` : ''}`));
}

export async function viewOutbox(main) {
  const v = currentView(); // this page; v.alive turns false when the user leaves it
  const count = h('span', { class: 'muted', testid: 'outbox-count' });
  append(main, pageHeader(t('Outbox'), count),
    h('p', { class: 'page-intro' }, t('Mail sent from the CRM and where it stands. crm-maild sends it and files the copy in Sent.')));
  const body = h('div', { class: 'page-body' }, h('p', { class: 'loading' }, t('Loading…')));
  append(main, body);
  const limit = pageLimit();
  const first = await api('GET', `/outbox?limit=${limit}`);
  if (!v.alive) return;
  count.textContent = first.total ? tn(first.total, '{n} message', '{n} messages') : '';
  clear(body);
  if (!first.entries.length) {
    append(body, h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, t('Nothing sent yet')),
      h('p', null, t('Replies you send from a conversation appear here.'))));
    return;
  }
  const tbody = h('tbody');
  const table = h('table', { class: 'table' },
    h('thead', null, h('tr', null, h('th', null, t('Subject')), h('th', null, t('To')),
      h('th', { class: 'col-status' }, t('State')), h('th', { class: 'col-owner' }, t('Account')),
      h('th', { class: 'col-date' }, t('Queued')), h('th', { class: 'col-date' }, t('Sent')))),
    tbody);
  const add = (entries) => {
    for (const e of entries) {
      const subject = e.subject || t('(no subject)');
      tbody.appendChild(clickableRow(h('tr', { class: 'row', testid: 'outbox-row',
        dataset: { id: String(e.id), state: e.state, navRow: '1' } },
        h('td', { class: 'cell-title' },
          e.thread_id ? h('a', { class: 'row-link', href: `#/threads/${e.thread_id}` }, subject) : subject,
          e.last_error && !(e.reports || []).length ? h('div', { class: 'sub' }, e.last_error) : null,
          reportLines(e)),
        h('td', null, e.to.concat(e.cc).join(', ')),
        h('td', { class: 'col-status' }, h('span', { class: `pill ${kStateClass[e.state] || ''}`, testid: 'outbox-state' }, stateText(e.state))),
        h('td', { class: 'col-owner' }, e.account),
        h('td', { class: 'col-date' }, timeEl(e.created_at)),
        h('td', { class: 'col-date' }, e.sent_at ? timeEl(e.sent_at) : h('span', { class: 'muted' }, '—')))));
    }
  };
  add(first.entries);
  let cursor = first.next_cursor;
  const more = h('button', { type: 'button', class: 'btn', testid: 'outbox-more', hidden: !cursor }, t('More'));
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const r = await api('GET', `/outbox?limit=${limit}&cursor=${encodeURIComponent(cursor)}`);
      if (!v.alive) return;
      add(r.entries);
      cursor = r.next_cursor;
      more.hidden = !cursor;
    } catch (e) { showError(e); }
    more.disabled = false;
  });
  append(body, table, h('div', { class: 'more-row' }, more));
}
