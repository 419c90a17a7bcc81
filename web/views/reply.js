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
//   reply-quote           "Quote the original" (text, and its sanitised HTML)
//   reply-signature       "Add my signature" (checked when the user has one)
//   reply-send            Send button
//   reply-status          outbox state: Queued…, Sending…, Sent ✓, Failed: …
// and the files and draft selectors of views/compose.js (attach-*, draft-state).

import { h, append, absTime, api, state, showError } from '../core.js';
import { attachmentPicker, badAddress, draftKeeper, followOutbox, mySignature, parseAddresses } from './compose.js';
import { t } from '../i18n.js';

export function replyBox(threadId, onSent) {
  const accounts = (state.me && state.me.accounts) || [];
  const form = h('form', { class: 'reply card', testid: 'reply-form', novalidate: true });
  form.appendChild(h('h2', { class: 'reply-title' }, t('Reply')));
  if (!accounts.length) {
    form.appendChild(h('p', { class: 'notice', testid: 'reply-no-account' },
      t('You have no mail account to send from. Ask an admin to add one for you.')));
    return form;
  }
  const account = h('select', { class: 'input', id: 'reply-account', name: 'account', testid: 'reply-account' },
    accounts.map((a) => h('option', { value: a.name }, a.address ? `${a.address} (${a.name})` : a.name)));
  const mode = h('select', { class: 'input', id: 'reply-mode', name: 'mode', testid: 'reply-mode' },
    h('option', { value: 'reply' }, t('Reply')), h('option', { value: 'reply-all' }, t('Reply all')));
  const to = h('input', { class: 'input', id: 'reply-to', name: 'to', testid: 'reply-to', autocomplete: 'off',
    placeholder: t('Default: the sender (comma separated to change)') });
  const cc = h('input', { class: 'input', id: 'reply-cc', name: 'cc', testid: 'reply-cc', autocomplete: 'off',
    placeholder: t('Optional, comma separated') });
  const body = h('textarea', { class: 'input reply-body', id: 'reply-body', name: 'body', testid: 'reply-body',
    rows: 6, maxlength: 1048576, placeholder: t('Write your reply…  (Ctrl+Enter sends)') });
  const quote = h('input', { type: 'checkbox', id: 'reply-quote', testid: 'reply-quote' });
  const sign = h('input', { type: 'checkbox', id: 'reply-signature', testid: 'reply-signature', disabled: true });
  const signLabel = h('label', { class: 'check', for: 'reply-signature' }, sign, ` ${t('Add my signature (set one under Settings)')}`);
  let signChoice = null; // a kept draft's choice, whichever comes first: it or the signature
  mySignature().then((s) => {
    if (!s) return;
    sign.disabled = false;
    sign.checked = signChoice === null ? true : signChoice;
    signLabel.lastChild.textContent = ` ${t('Add my signature')}`;
  });
  const files = attachmentPicker('reply');
  const send = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'reply-send' }, t('Send'));
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
      toWarning.textContent = t('This message looks spoofed ({reason}): enter the recipients yourself.',
        { reason: parent.suspicious });
      toWarning.hidden = false;
    } else if (mode.value === 'reply' && parent.direction !== 'out') {
      // (Answering our own message, the server sends to its recipients: nothing to prefill.)
      const from = parent.from && parent.from.address;
      const rt = (parent.reply_to || [])[0];
      value = rt || from || '';
      if (rt && from && rt.toLowerCase() !== from.toLowerCase() && domainOf(rt) !== domainOf(from)) {
        toWarning.textContent = t('Replies go to {replyTo} (its Reply-To), not to the sender {from}: check before sending.',
          { replyTo: rt, from });
        toWarning.hidden = false;
      }
    }
    to.value = value;
    prefilled = value;
  };
  form.setParent = (m) => {
    parent = m;
    const who = m.from && (m.from.name || m.from.address);
    const date = absTime(m.date);
    parentLine.textContent = who ? t('Replying to {who}, {date}', { who, date })
      : t('Replying to the message, {date}', { date });
    parentLine.dataset.messageId = String(m.id);
    fillTo();
  };
  mode.addEventListener('change', () => {
    to.placeholder = mode.value === 'reply-all' ? t('Default: everyone on the thread (comma separated to change)')
      : t('Default: the sender (comma separated to change)');
    fillTo();
  });
  append(form, parentLine,
    h('div', { class: 'reply-grid' },
      h('label', { for: 'reply-account' }, t('From')), h('div', { class: 'reply-row' }, account, mode),
      h('label', { for: 'reply-to' }, t('To')), to,
      h('label', { for: 'reply-cc' }, t('Cc')), cc),
    toWarning, body,
    h('div', { class: 'compose-options' }, h('label', { class: 'check', for: 'reply-quote' }, quote, ` ${t('Quote the original')}`), signLabel),
    files.el, fieldError,
    h('div', { class: 'reply-actions' }, send, status));

  // The draft of this reply: what was typed, and the choices around it.
  const drafts = draftKeeper(`thread-${threadId}`,
    () => ({ account: account.value, mode: mode.value, to: to.value === prefilled ? '' : to.value, cc: cc.value,
      body: body.value, quote: quote.checked, signature: sign.checked }),
    (d) => {
      if (accounts.some((a) => a.name === d.account)) account.value = d.account;
      if (d.mode === 'reply' || d.mode === 'reply-all') mode.value = d.mode;
      if (d.to) to.value = d.to;
      cc.value = d.cc || '';
      body.value = d.body || '';
      quote.checked = Boolean(d.quote);
      if (typeof d.signature === 'boolean') signChoice = d.signature;
      if (!sign.disabled && signChoice !== null) sign.checked = signChoice;
    },
    (d) => !d.body.trim() && !d.to.trim() && !d.cc.trim(),
    () => {
      body.value = ''; cc.value = ''; quote.checked = false;
      if (to.value !== prefilled) { to.value = ''; prefilled = ''; fillTo(); }
      files.clear();
    });
  form.addEventListener('input', () => drafts.changed());
  form.addEventListener('change', () => drafts.changed());
  append(form.querySelector('.reply-actions'), drafts.indicator, drafts.discard);
  drafts.restore();

  const setStatus = (text, kind) => {
    status.textContent = text;
    status.className = `reply-status${kind ? ` reply-status-${kind}` : ''}`;
  };

  const submit = async () => {
    fieldError.hidden = true;
    if (!body.value.trim() && !files.count()) { body.focus(); setStatus(t('Write something first.'), 'error'); return; }
    const payload = { account: account.value, body: body.value, mode: mode.value, quote: quote.checked, signature: sign.checked };
    if (parent) payload.parent_id = parent.id;
    const toList = parseAddresses(to.value);
    const ccList = parseAddresses(cc.value);
    const bad = badAddress([...toList, ...ccList]);
    if (bad) {
      fieldError.textContent = t('Not an email address: {address}', { address: bad });
      fieldError.hidden = false;
      return;
    }
    if (toList.length) payload.to = toList;
    if (ccList.length) payload.cc = ccList;
    send.disabled = true;
    setStatus(t('Queuing…'), 'pending');
    await drafts.beforeSend();
    try {
      if (files.count()) payload.attachments = await files.payload();
      const o = (await api('POST', `/threads/${threadId}/reply`, payload)).outbox;
      drafts.sent();
      followOutbox(status, o, (done) => {
        send.disabled = false;
        if (done && done.state === 'sent') {
          body.value = '';
          to.value = '';
          prefilled = '';
          cc.value = '';
          quote.checked = false;
          files.clear();
          onSent();
        }
        drafts.settled();
      });
    } catch (e) {
      send.disabled = false;
      setStatus('', null);
      drafts.failed();
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
