// What the two composers share (the reply box under a conversation, views/reply.js, and the new
// mail on a deal below): attachments checked against the server's limits before they go, drafts
// kept while typing, and the outbox state of what was sent.
//
// Stable test selectors (data-testid):
//   compose-new           "New mail" on the deal page (opens the box)
//   compose-form          the new-mail box
//   compose-account       its From select
//   compose-recipient     one of the deal's contacts to tick (data-address)
//   compose-to            more recipients (comma separated)
//   compose-cc            Cc (comma separated)
//   compose-subject       the subject
//   compose-body          the text
//   compose-signature     "Add my signature" (checked when the user has one)
//   compose-send          Send
//   compose-status        outbox state: Queued…, Sending…, Sent ✓, Failed: … (data-state)
//   compose-field-error   why the server or the page refused a field
//   attach-input          the file input of a composer
//   attach-item           one attached file (data-name), with its size and a remove button
//   attach-remove         remove that file
//   attach-error          a file refused before upload: its name and the limit
//   draft-state           "Draft saved 10:42" / "Draft restored" (data-state = saved | restored |
//                         saving | error)

import { h, append, clear, fmtSize, api, state, currentView, onLeave, showError } from '../core.js';
import { dateFormat, t } from '../i18n.js';

const OUTBOX_POLL_MS = 1000;
const DRAFT_DELAY_MS = 800;

export function parseAddresses(s) {
  return s.split(/[,;]/).map((x) => x.trim()).filter(Boolean);
}

// The first address that is not one; undefined when all are.
export function badAddress(list) {
  return list.find((a) => !/^[^@\s]+@[^@\s]+$/.test(a) || a.length > 254);
}

function limits() {
  const c = (state.me && state.me.compose) || {};
  return { file: c.max_attachment_bytes || 10 * 1024 * 1024, total: c.max_message_bytes || 20 * 1024 * 1024 };
}

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => { const s = String(r.result); resolve(s.slice(s.indexOf(',') + 1)); };
    r.onerror = () => reject(new Error(t('Cannot read {file}', { file: file.name })));
    r.readAsDataURL(file);
  });
}

// A file input and the list of files attached. A file over the server's limits is refused here,
// naming it and the limit (the server checks again).
export function attachmentPicker(idPrefix) {
  const files = [];
  const input = h('input', { type: 'file', multiple: true, id: `${idPrefix}-attach`, class: 'attach-input', testid: 'attach-input' });
  const list = h('ul', { class: 'attach-list' });
  const error = h('p', { class: 'form-error', testid: 'attach-error', role: 'alert', hidden: true });
  const render = () => {
    clear(list);
    files.forEach((f, i) => {
      const remove = h('button', { type: 'button', class: 'btn btn-quiet btn-small', testid: 'attach-remove',
        'aria-label': t('Remove {file}', { file: f.name }) }, '×');
      remove.addEventListener('click', () => { files.splice(i, 1); render(); picker.onchange(); });
      list.appendChild(h('li', { class: 'attach-item', testid: 'attach-item', 'data-name': f.name },
        h('span', { class: 'attach-name' }, f.name), ' ', h('span', { class: 'muted' }, fmtSize(f.size)), ' ', remove));
    });
  };
  input.addEventListener('change', () => {
    const lim = limits();
    const refused = [];
    let total = files.reduce((n, f) => n + f.size, 0);
    for (const f of Array.from(input.files || [])) {
      if (f.size > lim.file) { refused.push(t('{file} is {size}: the most one file may have is {limit}.',
        { file: f.name, size: fmtSize(f.size), limit: fmtSize(lim.file) })); continue; }
      if (total + f.size > lim.total) { refused.push(t('{file} would take the attachments over {limit}: send it in another mail.',
        { file: f.name, limit: fmtSize(lim.total) })); continue; }
      total += f.size;
      files.push(f);
    }
    input.value = '';
    error.textContent = refused.join(' ');
    error.hidden = refused.length === 0;
    render();
    picker.onchange();
  });
  const picker = {
    el: h('div', { class: 'attach' }, h('label', { for: input.id, class: 'btn btn-quiet btn-small attach-label' }, t('Attach files…')), input, list, error),
    count: () => files.length,
    names: () => files.map((f) => f.name),
    clear: () => { files.length = 0; error.hidden = true; render(); },
    onchange: () => {},
    // [{filename, content_type, content_base64}] for the API.
    payload: async () => Promise.all(files.map(async (f) => ({
      filename: f.name, content_type: f.type || 'application/octet-stream', content_base64: await base64Of(f),
    }))),
  };
  return picker;
}

// Keeps the fields of a composer as the user's draft `key` ("thread-ID", "deal-ID") while they
// type, and puts a kept draft back when the composer opens. `get()` gives the fields, `set(o)`
// puts them back. Files are not kept in drafts.
export function draftKeeper(key, get, set, isEmpty, reset) {
  const v = currentView();
  const indicator = h('span', { class: 'muted draft-state', testid: 'draft-state', role: 'status', 'aria-live': 'polite' });
  const discard = h('button', { type: 'button', class: 'btn btn-quiet btn-small', testid: 'draft-discard', hidden: true },
    t('Discard draft'));
  let timer = null;
  let last = null;     // what the server holds (JSON), null: nothing known
  let kept = false;    // the server holds a draft
  let paused = false;  // no saves (a discard or a send under way)
  let sending = false; // from Send until the outbox entry settles: the text is the mail's now
  let chain = Promise.resolve(); // saves run one at a time, in order
  const show = (s, text) => { indicator.dataset.state = s; indicator.textContent = text; discard.hidden = !kept; };
  const put = async () => {
    if (paused) return;
    const content = get();
    const text = JSON.stringify(content);
    if (text === last) return;
    show('saving', t('Saving draft…'));
    try {
      if (isEmpty(content)) { // nothing typed: no draft (and the deal page opens no empty box)
        if (kept) await api('DELETE', `/drafts/${key}`).catch((e) => { if (e.status !== 404) throw e; });
        kept = false;
        last = text;
        if (v.alive) show('', '');
        return;
      }
      await api('PUT', `/drafts/${key}`, { content });
      kept = true;
      last = text;
      if (v.alive) {
        show('saved', t('Draft saved {time}',
          { time: dateFormat({ hour: '2-digit', minute: '2-digit' }).format(new Date()) }));
      }
    } catch (e) {
      if (v.alive) show('error', t('Draft not saved: {error}', { error: e.message }));
    }
  };
  const save = () => { timer = null; chain = chain.then(put); return chain; };
  onLeave(() => { if (timer) { clearTimeout(timer); save(); } });
  discard.addEventListener('click', async () => {
    clearTimeout(timer);
    timer = null;
    paused = true;
    await chain;
    try {
      await api('DELETE', `/drafts/${key}`);
    } catch (e) {
      if (e.status !== 404) { showError(e); paused = false; return; }
    }
    kept = false;
    reset();
    last = JSON.stringify(get());
    paused = false;
    if (v.alive) show('', '');
  });
  return {
    indicator,
    discard,
    changed: () => {
      if (sending) return;
      paused = false;
      clearTimeout(timer);
      timer = setTimeout(save, DRAFT_DELAY_MS);
    },
    restore: async () => {
      try {
        // The list first: no 404 (and no console noise) for the usual case of no draft.
        kept = (await api('GET', '/drafts')).drafts.some((x) => x.key === key);
        if (!kept || !v.alive) return;
        const d = await api('GET', `/drafts/${key}`);
        if (!v.alive || !d || !d.content) return;
        set(d.content);
        last = JSON.stringify(get());
        show('restored', t('Draft restored'));
      } catch (e) {
        if (e.status !== 404) showError(e);
      }
    },
    // Before the mail goes: no save pending or in flight, none until the user types again (a
    // late save would bring back the draft the server ends with the mail).
    beforeSend: async () => { clearTimeout(timer); timer = null; paused = true; sending = true; await chain; },
    // The mail was queued: the server ended the draft with it. Nothing is saved until the entry
    // settles (settled()): the fields still show the queued mail.
    sent: () => { kept = false; last = null; show('', ''); },
    // The outbox entry settled (sent: the fields were emptied; failed: they keep the text, a
    // draft again once the user changes it).
    settled: () => { sending = false; paused = false; last = JSON.stringify(get()); },
    // The request failed: the draft is kept, with what was typed since the last save.
    failed: () => {
      sending = false;
      paused = false;
      if (JSON.stringify(get()) !== last) save();
    },
  };
}

const kStates = (o) => ({
  queued: [t('Queued…'), 'pending'], sending: [t('Sending…'), 'pending'], sent: [t('Sent ✓'), 'ok'],
  failed: [t('Failed: {error}', { error: o.last_error || t('unknown error') }), 'error'],
  unknown: [o.last_error ? t('Unknown: the server may or may not have sent it ({error})', { error: o.last_error })
    : t('Unknown: the server may or may not have sent it'), 'error'],
  cancelled: [t('Cancelled'), 'error'],
  bounced: [t('Bounced: {error}', { error: o.last_error || t('a delivery report came back') }), 'error'],
});

// Shows an outbox entry's state in `status` and polls it until it is settled; then `done(o)`.
export function followOutbox(status, first, done) {
  const v = currentView();
  let polling = null;
  onLeave(() => clearTimeout(polling));
  const showState = (o) => {
    const [text, kind] = kStates(o)[o.state] || [o.state, null];
    status.textContent = text;
    status.className = `reply-status${kind ? ` reply-status-${kind}` : ''}`;
    status.dataset.state = o.state;
    return o.state === 'queued' || o.state === 'sending';
  };
  const poll = (id, failures) => {
    polling = setTimeout(async () => {
      if (!v.alive) return;
      try {
        const o = (await api('GET', `/outbox/${id}`)).outbox;
        if (showState(o)) { poll(id, 0); return; }
        done(o);
      } catch (e) {
        if (e.status === 0 && failures < 30) { poll(id, failures + 1); return; }
        showError(e);
        done(null);
      }
    }, OUTBOX_POLL_MS);
  };
  if (showState(first)) poll(first.id, 0);
  else done(first);
}

// The user's signature (GET /me/signature), once per page load.
let signatureCache = null;
export async function mySignature() {
  if (signatureCache === null) {
    try { signatureCache = (await api('GET', '/me/signature')).signature || ''; } catch (e) { signatureCache = ''; }
  }
  return signatureCache;
}
export function signatureChanged(s) { signatureCache = s; }

// The new-mail box of a deal: From one of the user's accounts, To some of the deal's contacts
// (and anyone typed), subject, text, files, signature. Its Message-ID names the deal.
export async function newMailBox(deal, onQueued) {
  const accounts = (state.me && state.me.accounts) || [];
  const form = h('form', { class: 'reply card compose', testid: 'compose-form', novalidate: true });
  form.appendChild(h('h2', { class: 'reply-title' }, t('New mail on {deal}', { deal: deal.name })));
  if (!accounts.length) {
    form.appendChild(h('p', { class: 'notice', testid: 'reply-no-account' },
      t('You have no mail account to send from. Ask an admin to add one for you.')));
    return form;
  }
  const [recipients, signature] = await Promise.all([
    api('GET', `/deals/${deal.id}/recipients`).then((r) => r.recipients),
    mySignature(),
  ]);
  const account = h('select', { class: 'input', id: 'compose-account', testid: 'compose-account' },
    accounts.map((a) => h('option', { value: a.name }, a.address ? `${a.address} (${a.name})` : a.name)));
  const picks = recipients.map((r) => {
    const box = h('input', { type: 'checkbox', value: r.address, testid: 'compose-recipient', 'data-address': r.address });
    return { box, el: h('label', { class: 'check' }, box, ` ${r.name} <${r.address}>`) };
  });
  const to = h('input', { class: 'input', id: 'compose-to', testid: 'compose-to', autocomplete: 'off',
    placeholder: recipients.length ? t('Others (comma separated)') : t('Recipients (comma separated)') });
  const cc = h('input', { class: 'input', id: 'compose-cc', testid: 'compose-cc', autocomplete: 'off', placeholder: t('Optional, comma separated') });
  const subject = h('input', { class: 'input', id: 'compose-subject', testid: 'compose-subject', maxlength: 900, autocomplete: 'off' });
  const body = h('textarea', { class: 'input reply-body', id: 'compose-body', testid: 'compose-body', rows: 8, maxlength: 1048576 });
  const sign = h('input', { type: 'checkbox', id: 'compose-signature', testid: 'compose-signature' });
  sign.checked = Boolean(signature);
  sign.disabled = !signature;
  const files = attachmentPicker('compose');
  const send = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'compose-send' }, t('Send'));
  const status = h('span', { class: 'reply-status', testid: 'compose-status', role: 'status', 'aria-live': 'polite' });
  const fieldError = h('p', { class: 'form-error', testid: 'compose-field-error', role: 'alert', hidden: true });
  const fields = () => ({
    account: account.value, picked: picks.filter((p) => p.box.checked).map((p) => p.box.value),
    to: to.value, cc: cc.value, subject: subject.value, body: body.value, signature: sign.checked,
  });
  const drafts = draftKeeper(`deal-${deal.id}`, fields, (d) => {
    if (accounts.some((a) => a.name === d.account)) account.value = d.account;
    for (const p of picks) p.box.checked = (d.picked || []).includes(p.box.value);
    to.value = d.to || ''; cc.value = d.cc || ''; subject.value = d.subject || ''; body.value = d.body || '';
    if (!sign.disabled && typeof d.signature === 'boolean') sign.checked = d.signature;
  }, (d) => !d.picked.length && !d.to.trim() && !d.cc.trim() && !d.subject.trim() && !d.body.trim(),
  () => {
    for (const p of picks) p.box.checked = false;
    to.value = ''; cc.value = ''; subject.value = ''; body.value = '';
    files.clear();
  });
  form.addEventListener('input', () => drafts.changed());
  form.addEventListener('change', () => drafts.changed());
  append(form,
    h('div', { class: 'reply-grid' },
      h('label', { for: 'compose-account' }, t('From')), account,
      h('span', { class: 'label' }, t('To')), h('div', { class: 'recipient-picks' }, ...picks.map((p) => p.el), to),
      h('label', { for: 'compose-cc' }, t('Cc')), cc,
      h('label', { for: 'compose-subject' }, t('Subject')), subject),
    body,
    h('label', { class: 'check', for: 'compose-signature' }, sign,
      ` ${signature ? t('Add my signature') : t('Add my signature (set one under Settings)')}`),
    files.el, fieldError,
    h('div', { class: 'reply-actions' }, send, status, drafts.indicator, drafts.discard));
  await drafts.restore();

  const fail = (text) => { fieldError.textContent = text; fieldError.hidden = false; };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fieldError.hidden = true;
    const list = [...picks.filter((p) => p.box.checked).map((p) => p.box.value), ...parseAddresses(to.value)];
    const ccList = parseAddresses(cc.value);
    if (!list.length) { fail(t('To: pick a contact or type an address.')); return; }
    const bad = badAddress([...list, ...ccList]);
    if (bad) { fail(t('Not an email address: {address}', { address: bad })); return; }
    if (!subject.value.trim()) { fail(t('Subject: write one.')); subject.focus(); return; }
    send.disabled = true;
    status.textContent = t('Queuing…');
    await drafts.beforeSend();
    try {
      const payload = { account: account.value, to: list, subject: subject.value, body: body.value, signature: sign.checked };
      if (ccList.length) payload.cc = ccList;
      if (files.count()) payload.attachments = await files.payload();
      const o = (await api('POST', `/deals/${deal.id}/mail`, payload)).outbox;
      drafts.sent();
      followOutbox(status, o, (done) => {
        send.disabled = false;
        if (done && done.state === 'sent') {
          for (const p of picks) p.box.checked = false;
          to.value = ''; cc.value = ''; subject.value = ''; body.value = '';
          files.clear();
          onQueued(done);
        }
        drafts.settled();
      });
    } catch (e) {
      send.disabled = false;
      status.textContent = '';
      drafts.failed();
      if (e.field) fail(`${e.field}: ${e.message}`);
      showError(e);
    }
  });
  return form;
}
