// #/settings: the user's own settings. The signature goes under what they write from the page
// (after a "-- " line), before a quoted original; it is stored in the database
// (GET/PUT /api/v1/me/signature), so it follows them to any browser.
//
// Stable test selectors (data-testid):
//   settings-signature    the signature text
//   settings-save         saves it ("" removes it)
//   settings-error        why the server refused it

import { h, append, api, currentView, pageHeader, showError, toast } from '../core.js';
import { signatureChanged } from './compose.js';

const kMaxSignature = 8 * 1024;

export async function viewSettings(main) {
  const v = currentView();
  const { signature } = await api('GET', '/me/signature');
  if (!v.alive) return;
  const text = h('textarea', { class: 'input', id: 'settings-signature', testid: 'settings-signature', rows: 5,
    maxlength: kMaxSignature, placeholder: 'Your name\nYour title, company\nPhone' });
  text.value = signature || '';
  const error = h('p', { class: 'form-error', testid: 'settings-error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'settings-save' }, 'Save');
  const form = h('form', { class: 'card settings', novalidate: true },
    h('h2', null, 'Signature'),
    h('p', { class: 'muted' }, 'Added under your new mail and replies when "Add my signature" is ticked.'),
    h('label', { for: 'settings-signature', class: 'visually-hidden' }, 'Signature'), text, error,
    h('div', { class: 'reply-actions' }, save));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    save.disabled = true;
    try {
      const r = await api('PUT', '/me/signature', { signature: text.value });
      signatureChanged(r.signature);
      toast(r.signature ? 'Signature saved' : 'Signature removed', 'success');
    } catch (e) {
      if (e.status === 422) { error.textContent = e.message; error.hidden = false; } else showError(e);
    }
    save.disabled = false;
  });
  append(main, pageHeader('Settings'), form);
}
