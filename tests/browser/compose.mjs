// Browser test of composing from the CRM (issue 20, part 1) against the stack of run.sh: the
// signature set on the Settings page, a new mail from a deal to its contact with an attachment
// (an oversized file refused in the page, naming it and the limit), its draft kept across a
// reload and ended by sending, and a reply quoting the original with a file. run.sh then checks
// in the customer's Dovecot mailbox that both arrived through Postfix as sent.
//
// Env: BASE_URL ARTIFACTS ALICE_EMAIL ALICE_PASSWORD CUSTOMER_THREAD_SUBJECT
// Prints "ok: name" / "FAIL: name: detail"; exit 1 if any check failed.
import { chromium } from 'playwright-core';

import { check, env, globalTimeout, loginAs, screenshots, summary, tally, tid, until } from './lib.mjs';

const BASE = env('BASE_URL').replace(/\/+$/, '');
const ART = env('ARTIFACTS');
const ALICE = { email: env('ALICE_EMAIL'), password: env('ALICE_PASSWORD') };
const CUSTOMER_SUBJECT = env('CUSTOMER_THREAD_SUBJECT');
const SIGNATURE = 'Alice Müller\nSales, Example Ltd';
const SUBJECT = 'Contract draft (browser)';
// The attachment: bytes that are not text, so a lossy path would show.
const PDF = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 131 + 7) % 256));

let browser = null;
let page = null;
const shot = screenshots(ART, () => page);
globalTimeout(150_000, shot);

const problems = [];
function watch(p) {
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()} (${(m.location() || {}).url || ''})`); });
  p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
}

async function api(method, path, body) {
  const opts = { headers: { Accept: 'application/json', Origin: BASE }, failOnStatusCode: false, method };
  if (body !== undefined) opts.data = body;
  const res = await page.request.fetch(BASE + path, opts);
  let json = null;
  try { json = await res.json(); } catch (e) { json = null; }
  return { status: res.status(), json };
}

async function waitSent(statusSel) {
  const state = await until(60_000, async () => {
    const s = await page.locator(statusSel).getAttribute('data-state');
    return s === 'sent' || s === 'failed' || s === 'unknown' || s === 'bounced' ? s : null;
  }, 500);
  return state;
}

async function main() {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  watch(page);
  page.setDefaultTimeout(15_000);

  await loginAs(page, BASE, ALICE);

  // 1. The signature, on the Settings page, stored on the server.
  await page.locator(tid('nav-settings')).click();
  await page.locator(tid('settings-signature')).fill(SIGNATURE);
  const [saved] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/me/signature') && r.request().method() === 'PUT'),
    page.locator(tid('settings-save')).click(),
  ]);
  check('settings: the signature is saved', saved.status() === 200, `${saved.status()}`);
  await page.reload();
  await page.locator(tid('settings-signature')).waitFor();
  check('settings: the signature is there after a reload',
    (await page.locator(tid('settings-signature')).inputValue()) === SIGNATURE,
    await page.locator(tid('settings-signature')).inputValue());

  // 2. A new mail on deal 500 to its contact: the draft is kept while typing and across a reload.
  await page.goto(`${BASE}/#/deals/500`);
  await page.locator(tid('compose-new')).click();
  const form = page.locator(tid('compose-form'));
  await form.waitFor();
  const contact = form.locator(`${tid('compose-recipient')}[data-address="customer@customer.example"]`);
  check('new mail: the deal\'s contact is offered', (await contact.count()) === 1, 'no customer@customer.example');
  await contact.check();
  await page.locator(tid('compose-subject')).fill(SUBJECT);
  await page.locator(tid('compose-body')).fill('Hello Chloé,\n\nthe draft contract is attached.');
  const draftSaved = await until(10_000, async () => (await page.locator(tid('draft-state')).getAttribute('data-state')) === 'saved');
  check('new mail: the draft is saved while typing', draftSaved, await page.locator(tid('draft-state')).textContent());
  await page.reload();
  await page.locator(tid('compose-form')).waitFor();
  const restored = await until(10_000, async () => (await page.locator(tid('draft-state')).getAttribute('data-state')) === 'restored');
  check('new mail: the box opens again with the draft after a reload', restored
    && (await page.locator(tid('compose-subject')).inputValue()) === SUBJECT
    && (await page.locator(tid('compose-body')).inputValue()).includes('the draft contract is attached')
    && await page.locator(`${tid('compose-recipient')}[data-address="customer@customer.example"]`).isChecked(),
  `${await page.locator(tid('compose-subject')).inputValue()}`);
  check('new mail: "Add my signature" is ticked', await page.locator(tid('compose-signature')).isChecked(), 'unticked');

  // 3. Files: an oversized one is refused in the page, naming it and the limit.
  const input = page.locator(`${tid('compose-form')} ${tid('attach-input')}`);
  await input.setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(11 * 1024 * 1024) });
  const err = page.locator(`${tid('compose-form')} ${tid('attach-error')}`);
  await err.waitFor({ state: 'visible' });
  const errText = await err.textContent();
  check('new mail: an oversized file is refused, naming it and the limit',
    errText.includes('huge.bin') && errText.includes('10.0 MB') && (await page.locator(`${tid('compose-form')} ${tid('attach-item')}`).count()) === 0,
    errText);
  await input.setInputFiles({ name: 'Vertrag.pdf', mimeType: 'application/pdf', buffer: PDF });
  check('new mail: the file is listed', (await page.locator(`${tid('attach-item')}[data-name="Vertrag.pdf"]`).count()) === 1, 'not listed');
  // A bad address is refused before anything is sent.
  await page.locator(tid('compose-to')).fill('not-an-address');
  await page.locator(tid('compose-send')).click();
  const fieldErr = page.locator(tid('compose-field-error'));
  check('new mail: a bad address is refused in the page', (await fieldErr.isVisible()) && (await fieldErr.textContent()).includes('not-an-address'),
    await fieldErr.textContent());
  await page.locator(tid('compose-to')).fill('');
  await shot('compose-new-mail');
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/deals/500/mail') && r.request().method() === 'POST'),
    page.locator(tid('compose-send')).click(),
  ]);
  const queued = await res.json().catch(() => ({}));
  check('new mail: POST /deals/500/mail answered 202', res.status() === 202, `${res.status()} ${JSON.stringify(queued)}`);
  const ob = queued.outbox || {};
  check('new mail: queued with its attachment as a new conversation',
    ob.new_conversation === true && (ob.attachments || []).some((a) => a.filename === 'Vertrag.pdf'), JSON.stringify(ob));
  const state = await waitSent(tid('compose-status'));
  check('new mail: sent within 60 s', state === 'sent', state);
  await shot('compose-sent');
  const drafts = await api('GET', '/api/v1/drafts');
  check('new mail: its draft ended with it', drafts.status === 200 && !drafts.json.drafts.some((d) => d.key === 'deal-500'),
    JSON.stringify(drafts.json));
  // The server refuses what the page would not send.
  const bad = await api('POST', '/api/v1/deals/500/mail', { account: 'alice', to: ['customer@customer.example'], subject: 'x\r\nBcc: evil@evil.example' });
  check('API: a subject with CR LF is refused naming the field', bad.status === 422 && bad.json.error.field === 'subject', JSON.stringify(bad.json));

  // 4. A reply that quotes the original and carries a file.
  await page.goto(`${BASE}/#/deals/500`);
  await page.locator(tid('thread-row')).filter({ hasText: CUSTOMER_SUBJECT }).first().locator('a').click();
  await page.locator(tid('reply-form')).waitFor();
  // Answer Chloé's first mail (not the newest, which is Alice's reply of thread_view.mjs).
  await page.locator(tid('message')).filter({ hasText: 'could you send the renewal pricing' }).first()
    .locator(tid('reply-to-message')).click();
  // A draft can be thrown away.
  await page.locator(tid('reply-body')).fill('A thought to throw away.');
  const replyDraft = await until(10_000, async () => (await page.locator(`${tid('reply-form')} ${tid('draft-state')}`).getAttribute('data-state')) === 'saved');
  check('reply: the draft is saved while typing', replyDraft, await page.locator(`${tid('reply-form')} ${tid('draft-state')}`).textContent());
  await page.locator(`${tid('reply-form')} ${tid('draft-discard')}`).click();
  const discarded = await until(10_000, async () => (await page.locator(tid('reply-body')).inputValue()) === ''
    && !(await api('GET', '/api/v1/drafts')).json.drafts.some((d) => d.key.startsWith('thread-')));
  check('reply: "Discard draft" empties the box and deletes the draft', discarded, await page.locator(tid('reply-body')).inputValue());
  await page.locator(tid('reply-quote')).check();
  check('reply: "Add my signature" is ticked', await until(5000, () => page.locator(tid('reply-signature')).isChecked()), 'unticked');
  await page.locator(tid('reply-body')).fill('Notes from our call are attached.');
  await page.locator(`${tid('reply-form')} ${tid('attach-input')}`).setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('call notes\n') });
  const [rres] = await Promise.all([
    page.waitForResponse((r) => /\/api\/v1\/threads\/\d+\/reply$/.test(r.url()) && r.request().method() === 'POST'),
    page.locator(tid('reply-send')).click(),
  ]);
  const rq = await rres.json().catch(() => ({}));
  check('reply: queued with the file', rres.status() === 202 && ((rq.outbox || {}).attachments || []).some((a) => a.filename === 'notes.txt'),
    `${rres.status()} ${JSON.stringify(rq)}`);
  check('reply: sent within 60 s', (await waitSent(tid('reply-status'))) === 'sent', await page.locator(tid('reply-status')).textContent());
  await shot('compose-reply-sent');

  check('no console errors or page exceptions', problems.length === 0, problems.join(' | '));
}

try {
  await main();
} catch (e) {
  check('compose test ran to the end', false, e.stack || e.message);
  await shot('compose-error');
}
await browser?.close().catch(() => {});
console.log(summary());
process.exit(tally.failed ? 1 : 0);
