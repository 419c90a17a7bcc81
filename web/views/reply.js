// The reply composer under a conversation (#/threads/{id}): queues a reply in the outbox and
// shows its state until it is sent or fails.
//
// Stable test selectors (data-testid):
//   reply-form            the reply box
//   reply-parent          "Replying to NAME, DATE" (data-message-id = the message answered)
//   reply-to-warning      warning: replies go to a Reply-To of another domain, or the message
//                         looks spoofed and supplies no recipient
//   reply-account         account select of the reply box
//   reply-no-account      note shown instead when the user has no account to send from
//   reply-mode            mode select (reply / reply-all)
//   reply-to              optional To field (comma separated)
//   reply-cc              optional Cc field (comma separated)
//   reply-body            the reply textarea
//   reply-send            Send button
//   reply-status          outbox state: Queued…, Sending…, Sent ✓, Failed: …

import { h, append, absTime, api, state, currentView, onLeave, showError } from '../core.js';

const OUTBOX_POLL_MS = 1000;

export function replyBox(threadId, onSent) {
  const v = currentView(); // this page; v.alive turns false when the user leaves it
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
      bounced: [`Bounced: ${o.last_error || 'a delivery report came back'}`, 'error'],
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

function parseAddresses(s) {
  return s.split(/[,;]/).map((x) => x.trim()).filter(Boolean);
}
