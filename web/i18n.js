// The page's languages: every string the page shows goes through t() or tn() with its English
// text as the key, and a catalogue per language maps it to that language (web/locales/<code>.js,
// split by area under web/locales/<code>/). English needs no catalogue: its text is the key.
// Dates, times and numbers are formatted for the user's locale and time zone (a user setting,
// GET/PUT /api/v1/me/settings; unset: the browser's).
//
//   t('Reply all')                                  → "Răspunde tuturor" in Romanian
//   t('Replying to {who}, {date}', { who, date })   placeholders in braces, filled after lookup
//   tn(n, '{n} conversation', '{n} conversations')  plural forms: a catalogue gives an object
//                                                   { one, few, other } (Intl.PluralRules
//                                                   categories of the language) keyed by the
//                                                   English plural form; {n} is n formatted
//
// Adding a language (README, "Languages of the page"): copy web/locales/ro.js and web/locales/ro/
// to the new code, translate every value (scripts/check-i18n.py lists what is missing), add the
// code to LOCALES below and to kPageLocales in include/crm/core/compose.hpp (the server refuses
// a locale the page does not have); the check compares the two lists.

import ro from './locales/ro.js';

export const LOCALES = {
  en: { name: 'English', catalogue: null },
  ro: { name: 'Română', catalogue: ro },
};

let current = 'en';
let zone; // undefined: the browser's

// The first of the browser's languages the page has, else English.
export function browserLocale() {
  const langs = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language || 'en'];
  for (const l of langs) {
    const base = String(l).toLowerCase().split('-')[0];
    if (LOCALES[base]) return base;
  }
  return 'en';
}

export function browserTimeZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch (e) { return 'UTC'; }
}

// The language and time zone the page uses from now on ('' or null: the browser's), and the
// strings of index.html translated again.
export function setLocale(code, timeZone) {
  current = code && LOCALES[code] ? code : browserLocale();
  zone = timeZone || undefined;
  if (zone) {
    try { new Intl.DateTimeFormat('en', { timeZone: zone }); } catch (e) { zone = undefined; }
  }
  document.documentElement.lang = current;
  translateStatic(document);
}

export function locale() { return current; }
export function timeZone() { return zone || browserTimeZone(); }

function fill(s, params) {
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (Object.prototype.hasOwnProperty.call(params, k) ? String(params[k]) : m));
}

export function t(source, params) {
  const c = LOCALES[current].catalogue;
  const s = c && typeof c[source] === 'string' ? c[source] : source;
  return fill(s, params);
}

export function tn(n, one, other, params) {
  const c = LOCALES[current].catalogue;
  const entry = c ? c[other] : undefined;
  let s;
  if (entry && typeof entry === 'object') s = entry[new Intl.PluralRules(current).select(n)] || entry.other;
  else s = n === 1 ? one : other;
  return fill(s, { n: fmtNumber(n), ...(params || {}) });
}

export function fmtNumber(n, opts) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString(current, opts) : '—';
}

// A Date formatter in the user's locale and time zone.
export function dateFormat(opts) {
  return new Intl.DateTimeFormat(current, { timeZone: timeZone(), ...opts });
}

// Unix seconds of `hour`:00 on the day `days` after today, both in the user's time zone (a day
// with a daylight-saving change included).
export function morningIn(days, hour) {
  const parts = (ms) => Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: timeZone(), hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(new Date(ms)).filter((p) => p.type !== 'literal').map((p) => [p.type, Number(p.value)]));
  const today = parts(Date.now());
  const wall = Date.UTC(today.year, today.month - 1, today.day + days, hour, 0, 0);
  // The zone's offset at that moment, found from the wall time it shows (twice: near a change
  // the first guess can be an hour off).
  let at = wall;
  for (let i = 0; i < 2; i += 1) {
    const p = parts(at);
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    at = wall - (shown - at);
  }
  return Math.floor(at / 1000);
}

// Elements of index.html marked data-i18n (text), data-i18n-placeholder and data-i18n-label
// (aria-label), with their English text as the key.
export function translateStatic(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}
