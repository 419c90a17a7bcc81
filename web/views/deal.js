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
//   deal-activity         the activity box: the weekly chart and the figures
//   activity-chart        the chart (an SVG; data-weeks = the number of weeks)
//   activity-bar          one bar (data-kind = in | out, data-week = Unix time, data-count)
//   activity-figures      first and average response, last contact, open follow-ups
// and "New mail" with its box (views/compose.js: compose-*), open at once when a draft is kept.

import {
  h, append, timeEl, fmtCount, api, currentView, pageHeader, clickableRow, statusPill,
  unreadBadge, showError, loadMe, isAdmin, toast,
} from '../core.js';
import { t, tn, fmtNumber, dateFormat } from '../i18n.js';
import { newMailBox } from './compose.js';

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, String(v));
  for (const c of children) if (c != null) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

function duration(seconds) {
  if (seconds == null) return '—';
  // One decimal, rounded as toFixed rounds (Intl may round a tie such as 2.05 the other way).
  const oneDecimal = (x) => fmtNumber(Number(x.toFixed(1)), { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  if (seconds < 3600) return t('{n} min', { n: fmtNumber(Math.max(1, Math.round(seconds / 60))) });
  if (seconds < 2 * 86400) return t('{n} h', { n: oneDecimal(seconds / 3600) });
  return t('{n} days', { n: oneDecimal(seconds / 86400) });
}

// Weeks are UTC weeks: their dates in the user's language, in UTC.
function weekLabel(ts) {
  return dateFormat({ month: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(ts * 1000));
}

// Messages in and out per week as bars: "in" solid, "out" hatched, each with its number above it
// and a title, so the chart reads without colour; then the response figures.
function activityBox(a) {
  const w = 56; const hgt = 120; const top = 18; const base = top + hgt;
  const max = Math.max(1, ...a.weeks.map((x) => Math.max(x.in, x.out)));
  const chart = svg('svg', { viewBox: `0 0 ${a.weeks.length * w + 10} ${base + 34}`, role: 'img', class: 'activity-chart',
    'data-testid': 'activity-chart', 'data-weeks': a.weeks.length,
    'aria-label': t('Messages per week: {weeks}', { weeks: a.weeks.map((x) => t('{week} {in} in, {out} out',
      { week: weekLabel(x.week), in: x.in, out: x.out })).join('; ') }) },
  svg('defs', null, svg('pattern', { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
    svg('rect', { width: 6, height: 6, class: 'bar-out-bg' }), svg('line', { x1: 0, y1: 0, x2: 0, y2: 6, class: 'bar-out-line' }))));
  a.weeks.forEach((x, i) => {
    const x0 = 10 + i * w;
    for (const [kind, n, dx] of [['in', x.in, 0], ['out', x.out, 22]]) {
      const hh = Math.round((n / max) * hgt);
      chart.appendChild(svg('rect', { x: x0 + dx, y: base - hh, width: 20, height: Math.max(hh, 1),
        class: `bar bar-${kind}`, fill: kind === 'out' ? 'url(#hatch)' : null, 'data-testid': 'activity-bar',
        'data-kind': kind, 'data-week': x.week, 'data-count': n },
      svg('title', null, kind === 'in' ? t('Week of {week}: {n} received', { week: weekLabel(x.week), n })
        : t('Week of {week}: {n} sent', { week: weekLabel(x.week), n }))));
      chart.appendChild(svg('text', { x: x0 + dx + 10, y: base - hh - 4, class: 'bar-n', 'text-anchor': 'middle' }, String(n)));
    }
    chart.appendChild(svg('text', { x: x0 + 21, y: base + 14, class: 'bar-week', 'text-anchor': 'middle' }, weekLabel(x.week)));
  });
  const legend = h('div', { class: 'activity-legend' },
    h('span', { class: 'legend-in' }, t('■ received')), ' ', h('span', { class: 'legend-out' }, t('▨ sent')));
  const figures = h('div', { class: 'activity-figures', testid: 'activity-figures' },
    h('span', { class: 'meta-item' }, t('First response: {time}', { time: duration(a.first_response_seconds) })),
    h('span', { class: 'meta-item' }, t('Average response: {time} ({answers})', { time: duration(a.average_response_seconds),
      answers: tn(a.responses, '{n} answer', '{n} answers') })),
    h('span', { class: 'meta-item' }, t('Last contact:'), ' ', a.last_contact ? timeEl(a.last_contact) : '—'),
    h('span', { class: 'meta-item' }, t('Open follow-ups: {n}', { n: fmtNumber(a.open_followups) })));
  const box = h('section', { class: 'deal-activity', testid: 'deal-activity' },
    h('h2', { class: 'section-title' }, tn(a.weeks.length, 'Activity, last {n} week', 'Activity, last {n} weeks')), legend);
  box.appendChild(chart);
  box.appendChild(figures);
  return box;
}

// The deal's follow-up periods: read for everyone who sees the deal, a form for its owner and
// admins. Empty fields mean the config's defaults.
async function followupSettings(d) {
  const [s, me] = await Promise.all([api('GET', `/deals/${d.id}/followups`), loadMe()]);
  const canEdit = isAdmin() || (d.owner && me && me.user && d.owner.id === me.user.id);
  const box = h('div', { class: 'deal-followups', testid: 'deal-followups' });
  // A period: the deal's own, else the default, said so.
  const period = (v, text) => (v == null ? t('{value} (default)', { value: text }) : text);
  if (!canEdit) {
    const awaiting = s.awaiting_days == null ? s.defaults.awaiting_days : s.awaiting_days;
    const answer = s.answer_hours == null ? s.defaults.answer_hours : s.answer_hours;
    append(box, h('span', { class: 'muted' }, t('Follow up: awaiting their reply after {days}; answer within {hours}', {
      days: period(s.awaiting_days, tn(awaiting, '{n} business day', '{n} business days')),
      hours: period(s.answer_hours, tn(answer, '{n} hour', '{n} hours')) })));
    return box;
  }
  const days = h('input', { type: 'number', class: 'input input-small', min: '1', max: '60', testid: 'followup-awaiting',
    placeholder: String(s.defaults.awaiting_days), value: s.awaiting_days == null ? '' : String(s.awaiting_days),
    'aria-label': t('Business days without their answer') });
  const hours = h('input', { type: 'number', class: 'input input-small', min: '1', max: '720', testid: 'followup-answer',
    placeholder: String(s.defaults.answer_hours), value: s.answer_hours == null ? '' : String(s.answer_hours),
    'aria-label': t('Hours their message may wait') });
  const error = h('span', { class: 'form-error', testid: 'followup-error', hidden: true });
  const num = (el) => (el.value.trim() === '' ? null : Number(el.value));
  const save = h('button', { type: 'button', class: 'btn btn-small', testid: 'followup-save', onclick: async () => {
    error.hidden = true;
    try {
      await api('PUT', `/deals/${d.id}/followups`, { awaiting_days: num(days), answer_hours: num(hours) });
      toast(t('Follow-up periods saved'), 'success');
    } catch (e) {
      if (e.status === 422) {
        error.textContent = e.message;
        error.hidden = false;
      } else {
        showError(e);
      }
    }
  } }, t('Save'));
  // One sentence around the two fields, so that a translation may order its words as it needs:
  // the text between the fields in muted spans, the fields in place of {days} and {hours}.
  const fields = { days, hours };
  const sentence = t('Follow up: awaiting their reply after {days} business days; answer within {hours} hours')
    .split(/\{(\w+)\}/).map((part, i) => (i % 2 ? fields[part] : (part ? h('span', { class: 'muted' }, part) : null)));
  append(box, sentence, ' ', save, error);
  return box;
}

export async function viewDeal(main, id) {
  const v = currentView(); // this page; v.alive turns false when the user leaves it
  const [dealRes, threadsRes] = await Promise.all([api('GET', `/deals/${id}`), api('GET', `/deals/${id}/threads?limit=100`)]);
  if (!v.alive) return;
  const d = dealRes.deal;
  const threads = threadsRes.threads;
  // New mail to the deal's contacts: the box opens under the header.
  const composeSlot = h('div', { class: 'compose-slot' });
  const newMail = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'compose-new' }, t('New mail'));
  const openCompose = async () => {
    if (composeSlot.firstChild) return;
    newMail.disabled = true;
    try {
      const box = await newMailBox(d, () => toast(t('Mail sent'), 'success'));
      if (v.alive) composeSlot.appendChild(box);
    } catch (e) {
      showError(e);
      newMail.disabled = false;
    }
  };
  newMail.addEventListener('click', openCompose);
  append(main, pageHeader(d.name),
    h('div', { class: 'deal-header', testid: 'deal-header' },
      h('a', { href: '#/deals', class: 'back' }, t('← Deals')),
      d.company && d.company.name ? h('span', { class: 'meta-item' }, d.company.name) : null,
      h('span', { class: 'meta-item' }, d.stage || t('no stage')),
      statusPill(d.status),
      h('span', { class: 'meta-item' }, t('Owner: {name}', { name: d.owner ? d.owner.name : t('nobody') })),
      d.shared ? h('span', { class: 'tag' }, t('shared')) : null,
      h('span', { class: 'meta-item muted', testid: 'threads-total' },
        `${tn(threadsRes.total, '{n} conversation', '{n} conversations')} · ${tn(d.messages, '{n} message', '{n} messages')}`),
      newMail));
  append(main, composeSlot);
  try {
    const kept = (await api('GET', '/drafts')).drafts.some((x) => x.key === `deal-${d.id}`);
    if (!v.alive) return;
    if (kept) await openCompose();
  } catch (e) {
    showError(e);
  }
  // The periods form and the activity: a failure of either leaves the conversations shown.
  try {
      const settings = await followupSettings(d);
      if (!v.alive)
          return;
      append(main, settings);
      const activity = await api('GET', `/deals/${d.id}/activity?weeks=12`);
      if (!v.alive)
          return;
      append(main, activityBox(activity));
  } catch (e) {
      if (!v.alive)
          return;
      showError(e);
  }
  const body = h('div', { class: 'page-body' });
  append(main, body);
  if (!threads.length) {
    append(body, h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, t('No conversations yet')),
      h('p', null, t('Mail with this deal\'s contacts will appear here.'))));
    return;
  }
  const tbody = h('tbody');
  addRows(tbody, threads);
  const more = h('button', { type: 'button', class: 'btn', testid: 'threads-more', hidden: !threadsRes.next_cursor },
    t('More conversations'));
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
  for (const th of threads) {
    tbody.appendChild(clickableRow(h('tr', { class: th.unread_count > 0 ? 'row unread' : 'row', testid: 'thread-row',
      dataset: { id: String(th.id), navRow: '1' } },
      h('td', { class: 'cell-title' },
        h('a', { class: 'row-link', href: `#/threads/${th.id}` }, th.subject || t('(no subject)')),
        h('div', { class: 'sub participants', title: (th.participants || []).join(', ') }, (th.participants || []).join(', '))),
      h('td', { class: 'num' }, fmtCount(th.message_count)),
      h('td', { class: 'num' }, unreadBadge(th.unread_count, 'thread-unread')),
      h('td', { class: 'col-date' }, timeEl(th.last_date)))));
  }
}

function threadTable(tbody) {
  return h('table', { class: 'table' },
    h('thead', null, h('tr', null, h('th', null, t('Conversation')), h('th', { class: 'num' }, t('Messages')),
      h('th', { class: 'num' }, t('Unread')), h('th', { class: 'col-date' }, t('Last message')))),
    tbody);
}
