// Browser test of the page's languages (issue 20, part 5) against the stack of run.sh: Alice
// switches the page to Romanian with the Bucharest time zone on the Settings page; the shell, the
// deal page, the thread view and the reply box then speak Romanian (no string the catalogue
// translates is left in English), dates and times are Romanian and in Bucharest time, and an
// unknown language is refused naming the field. Screenshots: romanian-*.png. Back to the
// browser's language at the end.
//
// Env: BASE_URL ARTIFACTS ALICE_EMAIL ALICE_PASSWORD CUSTOMER_THREAD_SUBJECT
// Prints "ok: name" / "FAIL: name: detail"; exit 1 if any check failed.
import { chromium } from 'playwright-core';

import ro from '../../web/locales/ro.js';
import { check, env, globalTimeout, loginAs, screenshots, summary, tally, tid, until } from './lib.mjs';

const BASE = env('BASE_URL').replace(/\/+$/, '');
const ART = env('ARTIFACTS');
const ALICE = { email: env('ALICE_EMAIL'), password: env('ALICE_PASSWORD') };
const CUSTOMER_SUBJECT = env('CUSTOMER_THREAD_SUBJECT');

let browser = null;
let page = null;
const shot = screenshots(ART, () => page);
globalTimeout(120_000, shot);

const problems = [];

// The texts the catalogue translates to something else, as English: none may be on screen.
const english = new Set(Object.entries(ro)
  .filter(([k, v]) => typeof v === 'string' && v !== k && !k.includes('{') && /[a-z]{3}/i.test(k))
  .map(([k]) => k));

async function englishLeft() {
  return page.evaluate((keys) => {
    const set = new Set(keys);
    const found = [];
    for (const root of [document.getElementById('sidebar'), document.getElementById('main')]) {
      const walk = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
      for (let el = walk.currentNode; el; el = walk.nextNode()) {
        if (el.closest('[hidden], iframe, .msg-text')) continue;
        const own = Array.from(el.childNodes).filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join(' ').trim();
        if (own && set.has(own)) found.push(own);
        for (const a of ['placeholder', 'title', 'aria-label']) {
          const v = el.getAttribute(a);
          if (v && set.has(v.trim())) found.push(`${a}="${v}"`);
        }
      }
    }
    return found;
  }, [...english]);
}

async function main() {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--lang=en-US'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'America/New_York' });
  page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.setDefaultTimeout(15_000);

  await loginAs(page, BASE, ALICE);
  check('English by default (the browser\'s language)', (await page.locator(tid('nav-deals')).innerText()).trim() === 'Deals',
    await page.locator(tid('nav-deals')).innerText());

  // An unknown language is refused, naming the field and the languages there are.
  const bad = await page.request.fetch(`${BASE}/api/v1/me/settings`, { method: 'PUT', headers: { Origin: BASE },
    data: { locale: 'tlh' }, failOnStatusCode: false });
  const badBody = await bad.json().catch(() => ({}));
  check('an unknown language is refused naming locale and the languages', bad.status() === 422
    && badBody.error && badBody.error.field === 'locale' && /'tlh'.*en, ro/.test(badBody.error.message), JSON.stringify(badBody));

  // Switch to Romanian and Bucharest time on the Settings page.
  await page.locator(tid('nav-settings')).click();
  await page.locator(tid('settings-locale')).selectOption('ro');
  await page.locator(tid('settings-time-zone')).fill('Europe/Bucharest');
  await page.locator(tid('settings-prefs-save')).click();
  const switched = await until(10_000, async () => (await page.locator(tid('page-title')).innerText()).trim() === ro.Settings);
  check('the page is shown again in Romanian after saving', switched, await page.locator(tid('page-title')).innerText());
  check('<html lang="ro">', (await page.evaluate(() => document.documentElement.lang)) === 'ro', await page.evaluate(() => document.documentElement.lang));
  check('the navigation is Romanian', (await page.locator(tid('nav-deals')).innerText()).trim() === ro.Deals
    && (await page.locator(tid('logout')).innerText()).trim() === ro['Log out'], await page.locator('#sidebar').innerText());
  await shot('romanian-settings');
  check('no English left on the Settings page', (await englishLeft()).length === 0, (await englishLeft()).join(' | '));

  // It follows Alice to a new session.
  await page.reload();
  await page.locator(tid('page-title')).waitFor();
  check('the language is kept after a reload', (await page.locator(tid('nav-deals')).innerText()).trim() === ro.Deals,
    await page.locator(tid('nav-deals')).innerText());

  // The deal page: its header, the conversations, the new-mail box.
  await page.goto(`${BASE}/#/deals/500`);
  await page.locator(tid('deal-header')).waitFor();
  await page.locator(tid('compose-new')).click();
  await page.locator(tid('compose-form')).waitFor();
  await sleepUntilIdle();
  await shot('romanian-deal');
  const dealLeft = await englishLeft();
  check('no English left on the deal page with its new-mail box', dealLeft.length === 0, dealLeft.join(' | '));

  // The thread view: dates in Romanian, in Bucharest time (Chloé's first mail: 2 Nov 2026 09:00 UTC).
  await page.locator(tid('thread-row')).filter({ hasText: CUSTOMER_SUBJECT }).first().locator('a').click();
  await page.locator(tid('reply-form')).waitFor();
  await sleepUntilIdle();
  const want = new Intl.DateTimeFormat('ro', { timeZone: 'Europe/Bucharest', year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit' }).format(new Date(Date.UTC(2026, 10, 2, 9, 0, 0)));
  const titles = await page.locator(`${tid('message')} time`).evaluateAll((els) => els.map((e) => e.getAttribute('title')));
  check(`a message's time is Romanian and in Bucharest time (${want})`, titles.includes(want), JSON.stringify(titles.slice(0, 5)));
  check('the reply box is Romanian', (await page.locator(tid('reply-send')).innerText()).trim() === ro.Send,
    await page.locator(tid('reply-send')).innerText());
  await shot('romanian-thread');
  const threadLeft = await englishLeft();
  check('no English left in the thread view and its reply box', threadLeft.length === 0, threadLeft.join(' | '));

  await page.goto(`${BASE}/#/followups`);
  await page.locator(tid('page-title')).waitFor();
  await sleepUntilIdle();
  await shot('romanian-followups');
  const fuLeft = await englishLeft();
  check('no English left on the follow-up list', fuLeft.length === 0, fuLeft.join(' | '));

  // Back to the browser's language for whatever runs next.
  const back = await page.request.fetch(`${BASE}/api/v1/me/settings`, { method: 'PUT', headers: { Origin: BASE },
    data: { locale: '', time_zone: '' }, failOnStatusCode: false });
  check('back to the browser\'s language', back.status() === 200, String(back.status()));
  check('no page exceptions', problems.length === 0, problems.join(' | '));
}

async function sleepUntilIdle() {
  await page.waitForLoadState('networkidle').catch(() => {});
}

try {
  await main();
} catch (e) {
  check('languages test ran to the end', false, e.stack || e.message);
  await shot('languages-error');
}
await browser?.close().catch(() => {});
console.log(summary());
process.exit(tally.failed ? 1 : 0);
