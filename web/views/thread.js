// #/threads/{id}: one conversation: its deal (link, change, unlink), read state, its messages
// (text with the quoted tail folded, or the sanitised HTML in a sandboxed iframe; attachments;
// "not part of this conversation") and the reply composer (reply.js) under them.
//
// Stable test selectors (data-testid):
//   thread-subject        the subject heading on #/threads/{id}
//   thread-deal           the thread's deal (link, or "Unsorted") on #/threads/{id}
//   change-deal           "Change deal" / "Link to deal" button
//   deal-select           the select of deals shown by change-deal
//   deal-select-submit    the button that links to the selected deal
//   unlink                "Unlink" button
//   mark-unread           "Mark unread" / "Mark read" toggle of the thread
//   message               one message (data-id = message id; class "was-unread" if it was unread)
//   message-from          a message's sender (name and address)
//   message-text          a message's plain text (visible part)
//   quoted-toggle         "··· show quoted text" toggle of a message
//   message-quoted        the folded quoted tail of a message
//   html-toggle           the Text/HTML toggle of a message with has_html
//   message-html-frame    the sandboxed iframe showing a message's HTML
//   remote-images-notice  "N remote images blocked" notice
//   show-images           "Show images" button (reloads the iframe with ?images=1)
//   attachment            one attachment link (href = its url)
//   split-message         "Not part of this conversation" on a message (threads of 2+ messages)
//   split-confirm         the confirming "Move to a new conversation" button it shows
//   split-cancel          the Cancel button next to it
//   reply-to-message      "Reply" on one message: the reply box answers that message
//   message-reply-to      a message's Reply-To addresses
//   message-suspicious    the warning on a message whose sender looks spoofed
//   message-label         a Gmail label of the message in the viewer's own mailbox
//   message-auto          the tag of an automatic message (data-kind: bounce, delayed, delivered,
//                         autoreply, receipt): a bounce, a delay notice, a delivery notice, an
//                         auto-reply, a read receipt

import {
  h, append, clear, safePath, withQuery, absTime, timeEl, fmtSize, api, state, currentView,
  onLeave, toast, showError, go, loadDeals, refreshUnsortedCount, setUnsortedCount, pageHeader,
  dealOptions,
} from '../core.js';
import { replyBox } from './reply.js';
import { t, tn } from '../i18n.js';

// What an automatic message is, as the thread view tags it (a function: the texts are looked up
// in the language of the moment).
const kAutoKinds = () => ({
    bounce : [
        t('Bounce'), 'notice-danger',
        t('a mail server could not deliver our message; the Outbox shows which recipient and why.')
    ],
    delayed : [
        t('Delivery delayed'), 'notice-warn', t('a mail server is still trying to deliver our message.')
    ],
    delivered :
        [ t('Delivery notice'), 'notice-info', t('a mail server reports our message delivered.') ],
    autoreply : [
        t('Auto-reply'), 'notice-info', t('an automatic answer (out of office), not written by a person.')
    ],
    receipt : [
        t('Read receipt'), 'notice-info',
        t('their mail program reports our message was displayed; not an answer.')
    ],
});

export async function viewThread(main, id) {
  const v = currentView(); // this page; v.alive turns false when the user leaves it
  let data = await api('GET', `/threads/${id}`);
  if (!v.alive) return;
  let thread = data.thread;

  const title = pageHeader(thread.subject || t('(no subject)'));
  title.querySelector('h1').dataset.testid = 'thread-subject';
  const dealBar = h('div', { class: 'thread-bar' });
  const messagesEl = h('div', { class: 'messages' });
  const replyForm = replyBox(id, () => reload());
  append(main, title, dealBar, h('div', { class: 'page-body thread-body' }, messagesEl, replyForm));
  // What a reply answers: the message whose Reply button was used, else the newest arrival
  // (never the newest Date: the sender writes that).
  let chosenParent = null;
  const answer = (m) => {
    chosenParent = m.id;
    if (replyForm.setParent) replyForm.setParent(m);
    const b = replyForm.querySelector('textarea');
    if (b) { b.scrollIntoView({ block: 'center' }); b.focus(); }
  };
  const pickParent = (messages) => {
    if (!replyForm.setParent || !messages.length) return;
    const chosen = messages.find((m) => m.id === chosenParent);
    const newest = messages.reduce((a, b) => ((b.received_at > a.received_at
      || (b.received_at === a.received_at && b.id > a.id)) ? b : a));
    replyForm.setParent(chosen || newest);
  };

  let markedUnread = false;
  const markBtn = h('button', { type: 'button', class: 'btn btn-small', testid: 'mark-unread' }, t('Mark unread'));
  markBtn.addEventListener('click', async () => {
    markBtn.disabled = true;
    try {
      const r = await api('POST', `/threads/${id}/read`, { unread: !markedUnread });
      thread = r.thread;
      markedUnread = !markedUnread;
      markBtn.textContent = markedUnread ? t('Mark read') : t('Mark unread');
      toast(markedUnread ? t('Marked unread') : t('Marked read'), 'success');
    } catch (e) { showError(e); }
    markBtn.disabled = false;
  });

  const renderDealBar = () => {
    clear(dealBar);
    const back = thread.deal ? h('a', { href: `#/deals/${thread.deal.id}`, class: 'back' }, t('← Deal'))
      : h('a', { href: '#/unsorted', class: 'back' }, t('← Unsorted'));
    const dealEl = thread.deal
      ? h('span', { class: 'deal-chip', testid: 'thread-deal' }, `${t('Deal:')} `,
        h('a', { href: `#/deals/${thread.deal.id}` }, thread.deal.name),
        thread.manual ? h('span', { class: 'tag', title: t('Linked by hand; the sorter leaves it alone') }, t('manual')) : null)
      : h('span', { class: 'deal-chip deal-chip-none', testid: 'thread-deal' }, t('Unsorted'),
        thread.reason ? h('span', { class: 'muted' }, ` — ${thread.reason}`) : null);
    const select = h('select', { class: 'input', 'aria-label': t('Deal'), testid: 'deal-select' });
    const linkBtn = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'deal-select-submit' }, t('Link'));
    const cancel = h('button', { type: 'button', class: 'btn btn-quiet btn-small' }, t('Cancel'));
    const picker = h('span', { class: 'picker', hidden: true }, select, linkBtn, cancel);
    const change = h('button', { type: 'button', class: 'btn btn-small', testid: 'change-deal' },
      thread.deal ? t('Change deal') : t('Link to deal'));
    change.addEventListener('click', async () => {
      change.disabled = true;
      try {
        dealOptions(select, await loadDeals(), thread.deal && thread.deal.id);
        picker.hidden = false;
        change.hidden = true;
        select.focus();
      } catch (e) { showError(e); }
      change.disabled = false;
    });
    cancel.addEventListener('click', () => { picker.hidden = true; change.hidden = false; });
    linkBtn.addEventListener('click', async () => {
      const dealId = Number(select.value);
      if (!dealId) { select.focus(); return; }
      linkBtn.disabled = true;
      try {
        const wasUnsorted = !thread.deal;
        thread = (await api('POST', `/threads/${id}/link`, { deal_id: dealId })).thread;
        toast(thread.deal ? t('Linked to {deal}', { deal: thread.deal.name }) : t('Linked to the deal'), 'success');
        if (wasUnsorted && state.unsortedCount) setUnsortedCount(state.unsortedCount - 1);
        renderDealBar();
      } catch (e) { showError(e); linkBtn.disabled = false; }
    });
    const unlink = thread.deal ? h('button', { type: 'button', class: 'btn btn-quiet btn-small', testid: 'unlink' }, t('Unlink')) : null;
    if (unlink) {
      unlink.addEventListener('click', async () => {
        unlink.disabled = true;
        try {
          thread = (await api('DELETE', `/threads/${id}/link`)).thread;
          toast(t('Unlinked: the conversation is back in Unsorted'), 'success');
          refreshUnsortedCount();
          renderDealBar();
        } catch (e) { showError(e); unlink.disabled = false; }
      });
    }
    append(dealBar, back, dealEl, change, picker, unlink, h('span', { class: 'spacer' }),
      h('span', { class: 'muted' }, tn(thread.message_count, '{n} message', '{n} messages')), markBtn);
  };
  renderDealBar();

  // Long threads come in pages: the newest messages first, older ones on request.
  let older = data.older || 0;
  const renderMessages = (messages, wasUnread) => {
    clear(messagesEl);
    if (older > 0) {
      const more = h('button', { type: 'button', class: 'btn btn-quiet btn-small older-btn', testid: 'older-messages' },
        tn(older, 'Show {n} older message', 'Show {n} older messages'));
      more.addEventListener('click', async () => {
        more.disabled = true;
        try {
          const page = await api('GET', `/threads/${id}?before=${messages[0].id}`);
          if (!v.alive) return;
          older = page.older || 0;
          const shown = page.messages.concat(messages);
          data.messages = shown;
          renderMessages(shown, wasUnread);
        } catch (e) { showError(e); more.disabled = false; }
      });
      messagesEl.appendChild(more);
    }
    let prevSubject = baseSubject(thread.subject);
    for (const m of messages) {
      const subj = baseSubject(m.subject);
      const showSubject = subj !== prevSubject && (m.subject || '').trim() !== '';
      prevSubject = subj;
      messagesEl.appendChild(messageCard(m, showSubject, wasUnread.has(m.id),
        messages.length > 1 ? splitOff : null, answer));
    }
    pickParent(messages);
  };

  // "Not part of this conversation": the message and the replies to it become a conversation of
  // their own, waiting in Unsorted; they are never joined back automatically.
  const splitOff = async (m) => {
    const r = await api('POST', `/messages/${m.id}/split`, {});
    toast(tn(r.moved, 'Moved {n} message to a new conversation (in Unsorted)',
      'Moved {n} messages to a new conversation (in Unsorted)'), 'success');
    refreshUnsortedCount();
    go(`#/threads/${r.thread.id}`);
  };

  // Marks the thread read when it is opened with unread messages; those stay flagged "new" on
  // screen until the page is left.
  const openMessages = async (messages) => {
    const wasUnread = new Set(messages.filter((m) => m.unread).map((m) => m.id));
    renderMessages(messages, wasUnread);
    if (wasUnread.size) {
      try {
        thread = (await api('POST', `/threads/${id}/read`, { unread: false })).thread;
        if (state.deals) state.deals = null;
      } catch (e) { showError(e); }
    }
    const firstNew = messagesEl.querySelector('.was-unread');
    if (firstNew && messages.length > 1) firstNew.scrollIntoView({ block: 'start' });
  };

  const reload = async () => {
    try {
      data = await api('GET', `/threads/${id}`);
      if (!v.alive) return;
      thread = data.thread;
      older = data.older || 0;
      renderDealBar();
      await openMessages(data.messages);
    } catch (e) { showError(e); }
  };

  await openMessages(data.messages);
}

function messageCard(m, showSubject, wasUnread, onSplit, onReply) {
  const from = m.from || { name: '', address: '' };
  const recipients = h('div', { class: 'msg-recipients' },
    m.to && m.to.length ? h('span', null, h('span', { class: 'label' }, `${t('to')} `), m.to.join(', ')) : null,
    m.cc && m.cc.length ? h('span', null, h('span', { class: 'label' }, ` ${t('cc')} `), m.cc.join(', ')) : null,
    m.reply_to && m.reply_to.length ? h('span', { testid: 'message-reply-to' }, h('span', { class: 'label' }, ` ${t('reply-to')} `),
      m.reply_to.join(', ')) : null);
  const head = h('div', { class: 'msg-head' },
    h('div', { class: `avatar${m.direction === 'out' ? ' avatar-out' : ''}`, 'aria-hidden': 'true' }, initials(from.name, from.address)),
    h('div', { class: 'msg-who' },
      h('div', { class: 'msg-from', testid: 'message-from' },
        h('span', { class: 'from-name' }, from.name || from.address || t('(unknown sender)')),
        from.name && from.address ? h('span', { class: 'from-addr' }, ` <${from.address}>`) : null,
        m.direction === 'out' ? h('span', { class: 'tag tag-out' }, t('sent')) : null,
        wasUnread ? h('span', { class: 'tag tag-new' }, t('new')) : null,
        // Gmail labels of the message in the viewer's own mailbox ("\\Inbox" shown as "Inbox").
        (m.labels || []).map((l) => h('span', { class: 'tag tag-label', testid: 'message-label', title: t('Gmail label') },
          l.startsWith('\\') ? l.slice(1) : l))),
      recipients),
    h('div', { class: 'msg-date' }, timeEl(m.date), h('div', { class: 'abs' }, absTime(m.date))));

  const card = h('article', { class: `message${wasUnread ? ' was-unread' : ''}`, testid: 'message',
    dataset: { id: String(m.id), navRow: '1' } }, head);
  if (showSubject) card.appendChild(h('div', { class: 'msg-subject' }, m.subject));

  if (m.auto_kind) {
    const [label, cls, note] = kAutoKinds()[m.auto_kind] || [m.auto_kind, 'tag', ''];
    card.appendChild(h('div', { class: `notice ${cls}`, testid: 'message-auto', dataset: { kind: m.auto_kind } },
      h('strong', null, label), note ? ` — ${note}` : ''));
  }
  if (m.suspicious) {
    card.appendChild(h('div', { class: 'notice notice-danger', testid: 'message-suspicious' },
      t('Careful: this sender looks spoofed ({reason}). Replies never go to its From or Reply-To by default.',
        { reason: m.suspicious })));
  }
  const notes = [];
  if (m.unparsable) notes.push(t('This message could not be fully parsed; the text below is a best effort.'));
  for (const w of m.warnings || []) notes.push(w);
  if (notes.length) card.appendChild(h('ul', { class: 'msg-warnings' }, notes.map((n) => h('li', null, n))));

  // Text view
  const [shown, quoted] = splitAtCodePoint(m.text || '', m.quoted_from);
  const textView = h('div', { class: 'msg-text-view' });
  const pre = h('div', { class: 'msg-text', testid: 'message-text' }, linkify(shown.replace(/\s+$/, '')));
  if (!shown.trim() && !quoted) pre.appendChild(h('span', { class: 'muted' }, t('(no text)')));
  textView.appendChild(pre);
  if (quoted) {
    const q = h('div', { class: 'msg-text msg-quoted', testid: 'message-quoted', hidden: true },
      linkify(quoted.replace(/^\s*\n/, '').replace(/\s+$/, '')));
    const toggle = h('button', { type: 'button', class: 'quoted-toggle', testid: 'quoted-toggle',
      'aria-expanded': 'false' }, t('··· show quoted text'));
    toggle.addEventListener('click', () => {
      q.hidden = !q.hidden;
      toggle.setAttribute('aria-expanded', String(!q.hidden));
      toggle.textContent = q.hidden ? t('··· show quoted text') : t('··· hide quoted text');
    });
    append(textView, toggle, q);
  }

  const htmlUrl = safePath(m.html_url);
  if (m.has_html && htmlUrl) {
    const htmlView = h('div', { class: 'msg-html-view', hidden: true });
    const textBtn = h('button', { type: 'button', class: 'seg', 'aria-pressed': 'true' }, t('Text'));
    const htmlBtn = h('button', { type: 'button', class: 'seg', 'aria-pressed': 'false' }, t('HTML'));
    let frame = null;
    const showHtml = (on) => {
      textBtn.setAttribute('aria-pressed', String(!on));
      htmlBtn.setAttribute('aria-pressed', String(on));
      textView.hidden = on;
      htmlView.hidden = !on;
      if (on && !frame) {
        frame = htmlFrame(htmlUrl);
        if (m.remote_images > 0) {
          const showImgs = h('button', { type: 'button', class: 'btn btn-small', testid: 'show-images' }, t('Show images'));
          const notice = h('div', { class: 'notice', testid: 'remote-images-notice' },
            tn(m.remote_images, '{n} remote image blocked', '{n} remote images blocked'), showImgs);
          showImgs.addEventListener('click', () => {
            frame.src = withQuery(htmlUrl, 'images', '1');
            notice.textContent = t('Remote images shown. The sender can see that you opened this message.');
          });
          htmlView.appendChild(notice);
        }
        htmlView.appendChild(frame);
      }
    };
    textBtn.addEventListener('click', () => showHtml(false));
    htmlBtn.addEventListener('click', () => showHtml(true));
    head.querySelector('.msg-date').prepend(h('div', { class: 'segmented', testid: 'html-toggle', role: 'group',
      'aria-label': t('Show as') }, textBtn, htmlBtn));
    append(card, textView, htmlView);
  } else {
    card.appendChild(textView);
  }

  const actions = h('div', { class: 'msg-actions' });
  if (onReply) {
    const replyBtn = h('button', { type: 'button', class: 'btn btn-quiet btn-small', testid: 'reply-to-message' }, t('Reply'));
    replyBtn.addEventListener('click', () => onReply(m));
    actions.appendChild(replyBtn);
  }
  if (onSplit) {
    const split = h('button', { type: 'button', class: 'btn btn-quiet btn-small', testid: 'split-message',
      title: t('Move this message, and the replies to it, into a conversation of its own') },
    t('Not part of this conversation'));
    const confirm = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'split-confirm' },
      t('Move to a new conversation'));
    const cancel = h('button', { type: 'button', class: 'btn btn-quiet btn-small', testid: 'split-cancel' }, t('Cancel'));
    const ask = h('span', { class: 'split-ask', hidden: true },
      h('span', { class: 'muted' }, `${t('This message and the replies to it leave this conversation.')} `), confirm, cancel);
    split.addEventListener('click', () => { ask.hidden = false; split.hidden = true; confirm.focus(); });
    cancel.addEventListener('click', () => { ask.hidden = true; split.hidden = false; });
    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      try { await onSplit(m); } catch (e) { showError(e); confirm.disabled = false; }
    });
    append(actions, split, ask);
  }
  if (actions.childNodes.length) card.appendChild(actions);

  const atts = (m.attachments || []).filter((a) => safePath(a.url));
  if (atts.length) {
    card.appendChild(h('div', { class: 'attachments' }, atts.map((a) =>
      h('a', { class: `attachment${a.inline ? ' attachment-inline' : ''}`, href: safePath(a.url), testid: 'attachment',
        download: a.filename || true, title: `${a.filename || t('attachment')} (${a.content_type || t('unknown type')})` },
        h('span', { class: 'att-type', 'aria-hidden': 'true' }, fileType(a)),
        h('span', { class: 'att-name' }, a.filename || t('attachment {number}', { number: a.position + 1 })),
        h('span', { class: 'att-size' }, fmtSize(a.size))))));
  }
  return card;
}

// A short label for an attachment's type: its extension, else the MIME subtype.
function fileType(a) {
  const m = /\.([A-Za-z0-9]{1,5})$/.exec(a.filename || '');
  const type = m ? m[1] : ((a.content_type || '').split('/')[1] || 'file').split(/[.+;-]/)[0];
  return type.slice(0, 5).toUpperCase();
}

// The sanitised HTML body in a sandboxed same-origin iframe, sized to its content.
function htmlFrame(src) {
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', 'allow-same-origin allow-popups allow-popups-to-escape-sandbox');
  frame.setAttribute('referrerpolicy', 'no-referrer');
  frame.setAttribute('title', t('Message (HTML)'));
  frame.className = 'msg-frame';
  frame.dataset.testid = 'message-html-frame';
  const fit = () => {
    let doc = null;
    try { doc = frame.contentDocument; } catch (e) { doc = null; }
    if (!doc || !doc.body) return;
    const cs = doc.defaultView ? doc.defaultView.getComputedStyle(doc.body) : null;
    const margins = cs ? (parseFloat(cs.marginTop) || 0) + (parseFloat(cs.marginBottom) || 0) : 0;
    const height = Math.max(doc.body.scrollHeight + margins, 40);
    frame.style.height = `${Math.ceil(height) + 2}px`;
  };
  frame.addEventListener('load', () => {
    fit();
    try {
      // Late images change the height: refit when any of them loads.
      frame.contentDocument.addEventListener('load', fit, true);
    } catch (e) { /* not same-origin: keep the first size */ }
    setTimeout(fit, 300);
    setTimeout(fit, 1500);
  });
  const onResize = () => fit();
  window.addEventListener('resize', onResize);
  onLeave(() => window.removeEventListener('resize', onResize));
  frame.src = src;
  return frame;
}

// ---------------------------------------------------------------------------------------------
// Text of a message

// Subject without reply/forward prefixes, for "did the subject change" checks.
function baseSubject(s) {
  let rest = (s || '').trim();
  for (;;) {
    const next = rest.replace(/^\s*((re|fw|fwd|aw|wg|sv|vs|tr|ref|antw)(\[\d+\])?\s*:|\[[^\]]*\])\s*/i, '');
    if (next === rest) break;
    rest = next;
  }
  return rest.replace(/\s+/g, ' ').toLowerCase();
}

// Splits `text` at a code-point offset (the contract's quoted_from) into [shown, quoted].
function splitAtCodePoint(text, offset) {
  if (typeof offset !== 'number' || offset <= 0) return offset === 0 ? ['', text] : [text, ''];
  if (!/[\uD800-\uDFFF]/.test(text)) return [text.slice(0, offset), text.slice(offset)];
  const cps = Array.from(text);
  return [cps.slice(0, offset).join(''), cps.slice(offset).join('')];
}

// Plain text with http(s) URLs turned into links (text nodes and anchors only).
function linkify(text) {
  const frag = document.createDocumentFragment();
  const re = /\bhttps?:\/\/[^\s<>"'()]+[^\s<>"'().,;:!?]/gi;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
    frag.appendChild(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer' }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
  return frag;
}

function initials(name, address) {
  const src = (name || address || '?').trim();
  const parts = src.split(/[\s@._-]+/).filter(Boolean);
  const a = parts[0] ? Array.from(parts[0])[0] : '?';
  const b = parts.length > 1 ? Array.from(parts[1])[0] : '';
  return (a + (b || '')).toUpperCase();
}
