// #/settings: the user's own settings, stored in the database so they follow the user to any
// browser:
//   - the page's language and time zone (GET/PUT /api/v1/me/settings; "" = the browser's);
//   - the signature under what they write from the page, after a "-- " line, before a quoted
//     original (GET/PUT /api/v1/me/signature).
//
// Stable test selectors (data-testid):
//   settings-locale       the language select ("" = the browser's, then each language the page has)
//   settings-time-zone    the time zone ("" = the browser's; an IANA name such as Europe/Bucharest)
//   settings-prefs-save   saves both; the page is shown again in that language
//   settings-prefs-error  why the server refused them
//   settings-signature    the signature text
//   settings-save         saves it ("" removes it)
//   settings-error        why the server refused it

import { h, append, api, currentView, pageHeader, showError, toast, go, state } from '../core.js';
import { LOCALES, browserLocale, browserTimeZone, setLocale, t } from '../i18n.js';
import { signatureChanged } from './compose.js';

const kMaxSignature = 8 * 1024;

function zoneNames() {
  try { return Intl.supportedValuesOf('timeZone'); } catch (e) { return []; }
}

function prefsForm(current) {
  const browser = LOCALES[browserLocale()].name;
  const lang = h('select', { class: 'input', id: 'settings-locale', testid: 'settings-locale' },
    h('option', { value: '' }, t('As the browser ({language})', { language: browser })),
    Object.entries(LOCALES).map(([code, l]) => h('option', { value: code, lang: code }, l.name)));
  lang.value = current.locale || '';
  const zones = h('datalist', { id: 'settings-zones' }, zoneNames().map((z) => h('option', { value: z })));
  const zone = h('input', { class: 'input', id: 'settings-time-zone', testid: 'settings-time-zone', list: 'settings-zones',
    autocomplete: 'off', placeholder: t('As the browser ({zone})', { zone: browserTimeZone() }) });
  zone.value = current.time_zone || '';
  const error = h('p', { class: 'form-error', testid: 'settings-prefs-error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'settings-prefs-save' }, t('Save'));
  const form = h('form', { class: 'card settings', novalidate: true },
    h('h2', null, t('Language and time zone')),
    h('div', { class: 'reply-grid settings-grid' },
      h('label', { for: 'settings-locale' }, t('Language')), lang,
      h('label', { for: 'settings-time-zone' }, t('Time zone')), h('div', null, zone, zones)),
    h('p', { class: 'muted' }, t('Dates, times and numbers follow the language; times are shown in the time zone.')),
    error, h('div', { class: 'reply-actions' }, save));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    save.disabled = true;
    try {
      const r = await api('PUT', '/me/settings', { locale: lang.value, time_zone: zone.value.trim() });
      if (state.me) state.me.settings = { locale: r.locale, time_zone: r.time_zone };
      setLocale(r.locale, r.time_zone);
      toast(t('Settings saved'), 'success');
      go('#/settings'); // shown again in the language chosen
    } catch (e) {
      if (e.status === 422) { error.textContent = e.message; error.hidden = false; } else showError(e);
    }
    save.disabled = false;
  });
  return form;
}

function signatureForm(signature) {
  const text = h('textarea', { class: 'input', id: 'settings-signature', testid: 'settings-signature', rows: 5,
    maxlength: kMaxSignature, placeholder: t('Your name\nYour title, company\nPhone') });
  text.value = signature || '';
  const error = h('p', { class: 'form-error', testid: 'settings-error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'settings-save' }, t('Save'));
  const form = h('form', { class: 'card settings', novalidate: true },
    h('h2', null, t('Signature')),
    h('p', { class: 'muted' }, t('Added under your new mail and replies when "Add my signature" is ticked.')),
    h('label', { for: 'settings-signature', class: 'visually-hidden' }, t('Signature')), text, error,
    h('div', { class: 'reply-actions' }, save));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    save.disabled = true;
    try {
      const r = await api('PUT', '/me/signature', { signature: text.value });
      signatureChanged(r.signature);
      toast(r.signature ? t('Signature saved') : t('Signature removed'), 'success');
    } catch (e) {
      if (e.status === 422) { error.textContent = e.message; error.hidden = false; } else showError(e);
    }
    save.disabled = false;
  });
  return form;
}

export async function viewSettings(main) {
  const v = currentView();
  const [prefs, { signature }] = await Promise.all([api('GET', '/me/settings'), api('GET', '/me/signature')]);
  if (!v.alive) return;
  append(main, pageHeader(t('Settings')), prefsForm(prefs), signatureForm(signature));
}
