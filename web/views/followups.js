// #/followups: "Follow up today": the conversations on the user's open deals that wait for
// someone (GET /api/v1/followups), most overdue first:
//   awaiting their reply  our last message is N business days old and they have not answered
//                         (an out-of-office answer does not count)
//   needs our answer      their last message is M hours old and we have not replied
// N and M are the config's defaults or the deal's own (set on the deal page). Snooze puts a
// conversation aside until tomorrow or next week (POST /api/v1/threads/{id}/snooze).
//
// Stable test selectors (data-testid):
//   followup-row          one conversation (data-thread = thread id, data-kind = awaiting_reply |
//                         needs_answer)
//   followup-kind         its kind pill
//   followup-snooze       "Snooze until tomorrow" on a row
//   followup-snooze-week  "Snooze a week" on a row
//   followups-count       the count in the header
//   followups-empty       the empty state

import {
  h, append, clear, timeEl, api, currentView, showError, pageHeader, clickableRow, toast,
} from '../core.js';
import { morningIn, t, tn } from '../i18n.js';

// Each kind's label (translated when shown: the language may change after this module loads) and pill.
const kKinds = {
  awaiting_reply: [() => t('Awaiting their reply'), 'pill-warn'],
  needs_answer: [() => t('Needs our answer'), 'pill-bad'],
};

// The next 08:00 in the browser's time zone after `days` days.

export async function viewFollowups(main) {
  const v = currentView();
  const count = h('span', { class: 'muted', testid: 'followups-count' });
  append(main, pageHeader(t('Follow up today'), count),
    h('p', { class: 'page-intro' }, t(
      'Conversations on your open deals where the customer has not answered our last message, or where their message waits for our reply.')));
  const body = h('div', { class: 'page-body' }, h('p', { class: 'loading' }, t('Loading…')));
  append(main, body);
  const data = await api('GET', '/followups');
  if (!v.alive) return;
  const policy = data.policy || {};
  count.textContent = data.total ? tn(data.total, '{n} conversation', '{n} conversations') : '';
  clear(body);
  if (!data.followups.length) {
    append(body, h('div', { class: 'empty', testid: 'followups-empty' }, h('p', { class: 'empty-title' }, t('Nothing to follow up today')),
      h('p', null, t(
        'A conversation appears here when the customer has not answered for {days}, or their message has waited {hours} for ours (unless its deal sets other periods).',
        { days: tn(policy.awaiting_days, '{n} business day', '{n} business days'),
          hours: tn(policy.answer_hours, '{n} hour', '{n} hours') }))));
    return;
  }
  const tbody = h('tbody');
  append(body, h('table', { class: 'table' },
    h('thead', null, h('tr', null, h('th', null, t('Conversation')), h('th', { class: 'col-status' }, t('Waiting for')),
      h('th', { class: 'col-date' }, t('Since')), h('th', null, ''))),
    tbody));
  for (const f of data.followups) {
    const [label, cls] = kKinds[f.kind] || [() => f.kind, ''];
    const snooze = (days, testid, text) => h('button', { type: 'button', class: 'btn btn-small btn-quiet', testid,
      onclick: async (e) => {
        e.stopPropagation();
        try {
          await api('POST', `/threads/${f.thread_id}/snooze`, { until: morningIn(days, 8) });
          row.remove();
          toast(t('Snoozed "{subject}"', { subject: f.subject || t('(no subject)') }), 'success');
        } catch (err) { showError(err); }
      } }, text);
    const row = clickableRow(h('tr', { class: 'row', testid: 'followup-row', dataset: { thread: String(f.thread_id), kind: f.kind, navRow: '1' } },
      h('td', { class: 'cell-title' },
        h('a', { class: 'row-link', href: `#/threads/${f.thread_id}` }, f.subject || t('(no subject)')),
        h('div', { class: 'sub' }, h('a', { href: `#/deals/${f.deal.id}` }, f.deal.name))),
      h('td', { class: 'col-status' }, h('span', { class: `pill ${cls}`, testid: 'followup-kind' }, label())),
      h('td', { class: 'col-date' }, timeEl(f.since)),
      h('td', { class: 'col-actions' }, snooze(1, 'followup-snooze', t('Tomorrow')), ' ',
        snooze(7, 'followup-snooze-week', t('A week')))));
    tbody.appendChild(row);
  }
}
