// Browser test: hostile HTML mail shown in the thread view must not run script, reach other
// hosts, navigate the page or escape its sandboxed iframe. Runs against the stack started by
// tests/browser/run.sh; the thread XSS_THREAD_SUBJECT holds XSS_COUNT HTML mails made from
// tests/data/xss/*.html. Plain Node ES module, playwright-core + Debian's Chromium.
//
// Env: BASE_URL ARTIFACTS ALICE_EMAIL ALICE_PASSWORD XSS_THREAD_SUBJECT XSS_COUNT
// Prints "ok: name" / "FAIL: name: detail"; exit 1 if any check failed.
import { chromium } from 'playwright-core';

import { check, env, escapeRe, globalTimeout, screenshots, sleep, summary, tally, tid, until } from './lib.mjs';

const GLOBAL_TIMEOUT_MS = 150_000;
const PROVOKE_BUDGET_MS = 80_000; // time for hovering/clicking inside the frames, all together
const PROVOKE_PER_FRAME = 40;     // elements tried per frame at most

const BASE = env('BASE_URL').replace(/\/+$/, '');
const ORIGIN = new URL(BASE).origin;
const ART = env('ARTIFACTS');
const ALICE = { email: env('ALICE_EMAIL'), password: env('ALICE_PASSWORD') };
const XSS_SUBJECT = env('XSS_THREAD_SUBJECT');
const XSS_COUNT = parseInt(env('XSS_COUNT', '0'), 10) || 0;

const started = Date.now();

let browser = null;
let page = null;

const shot = screenshots(ART, () => page);
const timer = globalTimeout(GLOBAL_TIMEOUT_MS, shot);

// A URL that would leave the machine: not our origin, not data:/about:/blob:.
function isForeign(url) {
  if (/^(data|about|blob):/i.test(url)) return false;
  try { return new URL(url).origin !== ORIGIN; } catch (e) { return true; }
}

// The detectors, the same for the real run and for the control run:
//   sink.dialogs   every alert/confirm/prompt/beforeunload on any page of the context
//   sink.requests  every request for a foreign URL (aborted, so nothing really leaves)
//   sink.popups    every page opened besides the first one (closed after a short look)
async function instrument(context, sink, mainPage) {
  sink.dialogs = [];
  sink.requests = [];
  sink.popups = [];
  const watchDialogs = (p, label) => p.on('dialog', (d) => {
    sink.dialogs.push(`${label}: ${d.type()} "${d.message()}"`);
    d.dismiss().catch(() => {});
  });
  await context.route('**/*', (route) => {
    if (isForeign(route.request().url())) return route.abort('blockedbyclient').catch(() => {});
    return route.continue().catch(() => {});
  });
  context.on('request', (req) => {
    const url = req.url();
    if (!isForeign(url)) return;
    let kind = 'unknown';
    try {
      const fr = req.frame();
      if (fr.page() !== mainPage) kind = 'popup';
      else kind = fr === mainPage.mainFrame() ? 'page' : `frame ${fr.url()}`;
    } catch (e) { kind = req.isNavigationRequest() ? 'popup' : 'worker'; } // a new page's first navigation has no frame yet
    const entry = { url, kind, nav: req.isNavigationRequest(), type: req.resourceType(), failure: null, req };
    sink.requests.push(entry);
  });
  // Chromium reports loads that a CSP refused as requests too, then fails them with "csp": those
  // never reached the network. Everything else foreign went through the route above (aborted).
  context.on('requestfailed', (req) => {
    const e = sink.requests.find((x) => x.req === req);
    if (e) e.failure = (req.failure() && req.failure().errorText) || 'failed';
  });
  context.on('page', async (p) => {
    if (p === mainPage) return;
    watchDialogs(p, 'popup');
    const entry = { urls: [p.url()] };
    sink.popups.push(entry);
    p.on('framenavigated', (f) => { if (f === p.mainFrame()) entry.urls.push(f.url()); });
    await p.waitForLoadState('load', { timeout: 1500 }).catch(() => {});
    await sleep(300); // give a dialog the chance to show
    entry.urls.push(p.url());
    await p.close().catch(() => {});
  });
  if (mainPage) watchDialogs(mainPage, 'page');
  return watchDialogs;
}

async function main() {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const sink = {};
  await instrument(context, sink, page);

  // Console: errors of the main document fail the test; the message frames' own console lines
  // (CSP refusals, sandbox blocks, aborted foreign loads) are the defences working and only counted.
  const problems = [];
  let frameConsole = 0;
  let frameBlockedScripts = 0;
  const frameLines = [];
  // A line belongs to a frame when it is located in a message document, or names a URL that a
  // message frame (not the main document) requested, e.g. "Failed to load resource" of an <img src=x>.
  const frameRequested = new Set();
  const frameSameOrigin = new Set(); // what the message documents fetched from us besides themselves
  context.on('request', (req) => {
    try {
      if (req.frame() === page.mainFrame() || req.frame().page() !== page) return;
      frameRequested.add(req.url());
      if (!isForeign(req.url()) && !/^\/api\/v1\/messages\/\d+\/(html|attachments\/\d+\?inline=1)(\?|$)/.test(new URL(req.url()).pathname + new URL(req.url()).search))
        frameSameOrigin.add(`${req.resourceType()} ${req.url().replace(BASE, '')}`);
    } catch (e) { /* popup */ }
  });
  const isFrameUrl = (u) => /\/api\/v1\/messages\/\d+\/html/.test(u || '') || frameRequested.has(u);
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    const text = msg.text();
    const url = (msg.location() && msg.location().url) || '';
    if (isFrameUrl(url)) { frameConsole += 1; if (/^Blocked script execution/.test(text)) frameBlockedScripts += 1; if (frameLines.length < 8) frameLines.push(text.slice(0, 160)); return; }
    if (msg.type() !== 'error') return;
    const m = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(text);
    if (m && m[1] === '401' && /\/api\/v1\/me$/.test(url.split('?')[0])) return;
    problems.push(`console: ${text} (${url || 'no location'})`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  const serverErrors = [];
  context.on('response', async (r) => {
    if (r.status() < 500) return;
    const body = await r.text().catch(() => '');
    serverErrors.push(`${r.request().method()} ${r.url().replace(BASE, '')} → ${r.status()} ${body.slice(0, 300)}`);
  });
  const mainUrls = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) mainUrls.push(f.url()); });

  await page.goto(BASE + '/');
  // CSP violations of the main document itself (its own listener, so frames do not count).
  const installCspListener = () => page.evaluate(() => {
    if (window.__cspViolations) return;
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await installCspListener();
  await page.locator(tid('login-form')).waitFor({ state: 'visible' });
  await page.locator(tid('login-email')).fill(ALICE.email);
  await page.locator(tid('login-password')).fill(ALICE.password);
  await page.locator(tid('login-submit')).click();
  await page.locator(`${tid('nav-user')}:visible, ${tid('login-error')}:visible`).first().waitFor();
  const loginErr = page.locator(tid('login-error'));
  if (await loginErr.isVisible()) throw new Error(`login as ${ALICE.email} failed: "${await loginErr.textContent()}"`);
  check('logged in as Alice', true);

  // Find the thread through the deal "Customer renewal" (deal 500), else through the API.
  let threadId = null;
  await page.locator(`${tid('deal-row')}[data-id="500"] a.row-link`).click();
  await page.locator(tid('deal-header')).waitFor({ state: 'visible' });
  const subjRe = new RegExp(`^(re:\\s*)?${escapeRe(XSS_SUBJECT)}$`, 'i');
  const row = page.locator(tid('thread-row')).filter({ has: page.locator('a.row-link', { hasText: subjRe }) });
  if (await row.count()) threadId = Number(await row.first().getAttribute('data-id'));
  else {
    const r = await page.request.get(`${BASE}/api/v1/deals/500/threads`, { failOnStatusCode: false });
    const t = r.ok() ? (await r.json()).threads.find((x) => subjRe.test(x.subject || '')) : null;
    if (t) threadId = t.id;
  }
  if (XSS_COUNT === 0) console.log('note: XSS_COUNT is 0 (tests/data/xss has no *.html): no hostile mail to render');
  check('the XSS thread is found under "Customer renewal"', threadId || XSS_COUNT === 0, `no thread "${XSS_SUBJECT}"`);

  let rendered = 0;
  let clicked = 0;
  let tried = 0;
  const frameInfo = []; // {id, sandbox, src, csp, dom}
  if (threadId) {
    await page.goto(`${BASE}/#/threads/${threadId}`);
    await page.locator(tid('thread-subject')).waitFor({ state: 'visible' });
    await installCspListener(); // same document (hash navigation): no-op unless it was reloaded
    const cards = page.locator(tid('message'));
    await until(10_000, async () => (await cards.count()) >= XSS_COUNT);
    const n = await cards.count();
    check(`the thread holds ${XSS_COUNT} messages`, n === XSS_COUNT, `${n} messages`);
    const toggles = await page.locator(tid('html-toggle')).count();
    check('every message has the Text/HTML toggle', toggles === n, `${toggles} toggles for ${n} messages`);

    // Open the HTML view of every message and wait for its frame.
    for (let i = 0; i < n; i += 1) {
      const card = cards.nth(i);
      const id = await card.getAttribute('data-id');
      const toggle = card.locator(tid('html-toggle'));
      if (!(await toggle.count())) continue;
      try {
        await toggle.locator('button', { hasText: 'HTML' }).click({ timeout: 5_000 });
        const iframe = card.locator(tid('message-html-frame'));
        await iframe.waitFor({ state: 'attached', timeout: 5_000 });
        await iframe.scrollIntoViewIfNeeded({ timeout: 5_000 }).catch(() => {});
        const handle = await iframe.elementHandle();
        const f = await until(5_000, async () => handle.contentFrame());
        if (f) {
          await f.waitForLoadState('load', { timeout: 10_000 }).catch(() => {});
          if (/\/api\/v1\/messages\/\d+\/html/.test(f.url())) rendered += 1;
        }
        frameInfo.push({ id, sandbox: await iframe.getAttribute('sandbox'), src: await iframe.getAttribute('src'), frame: f });
      } catch (e) {
        frameInfo.push({ id, error: e.message.split('\n')[0] });
      }
    }
    console.log(`note: ${rendered} message-html-frame(s) rendered of ${n} messages`);
    check('every HTML view was rendered in a frame', rendered === XSS_COUNT,
      `${rendered} of ${XSS_COUNT}; errors: ${frameInfo.filter((x) => x.error).map((x) => `${x.id}: ${x.error}`).join('; ')}`);

    // The frame's attributes and the headers of its document.
    const badSandbox = [];
    const badCsp = [];
    const badDom = [];
    for (const fi of frameInfo) {
      if (fi.error) continue;
      if (fi.sandbox === null || /allow-scripts/.test(fi.sandbox) || /allow-top-navigation/.test(fi.sandbox)
        || /allow-forms/.test(fi.sandbox)) badSandbox.push(`${fi.id}: sandbox=${JSON.stringify(fi.sandbox)}`);
      if (fi.src) {
        const r = await page.request.get(new URL(fi.src, BASE).href, { failOnStatusCode: false });
        const csp = r.headers()['content-security-policy'] || '';
        fi.csp = csp;
        if (r.status() !== 200 || !/default-src 'none'/.test(csp) || /script-src(?! 'none'\s*(;|$))/.test(csp))
          badCsp.push(`${fi.id}: ${r.status()} CSP=${JSON.stringify(csp)}`);
      } else badCsp.push(`${fi.id}: no src`);
      // What the sanitiser left in the document: no script, no on* handler, no javascript: URL.
      if (fi.frame) {
        const found = await fi.frame.locator('script, iframe, frame, object, embed, base, meta[http-equiv]').count().catch(() => -1);
        const attrs = await fi.frame.locator('body *').evaluateAll((els) => {
          const out = [];
          for (const el of els) for (const a of el.attributes) {
            const v = a.value.replace(/[\s\u0000-\u001f]+/g, '').toLowerCase();
            if (/^on/i.test(a.name) || (/^(href|src|srcset|action|formaction|xlink:href|background|poster|data|dynsrc|lowsrc)$/i.test(a.name)
              && /^(javascript|vbscript|livescript|data:text\/html|data:image\/svg)/.test(v)))
              out.push(`<${el.tagName.toLowerCase()} ${a.name}="${a.value.slice(0, 60)}">`);
          }
          return out;
        }).catch((e) => [`(could not inspect: ${e.message.split('\n')[0]})`]);
        if (found > 0 || attrs.length) badDom.push(`${fi.id}: ${found} script-like elements; ${attrs.slice(0, 4).join(' ')}`);
      }
    }
    check('every message-html-frame is sandboxed without allow-scripts/forms/top-navigation', frameInfo.length > 0 || XSS_COUNT === 0 ? badSandbox.length === 0 : false,
      badSandbox.join('; ') || 'no frames');
    check('every frame document carries a CSP with default-src \'none\' (and no script source)', badCsp.length === 0, badCsp.join('; '));
    check('the sanitised documents hold no script, frame, meta refresh, on* handler or javascript: URL', badDom.length === 0,
      badDom.slice(0, 10).join(' | '));

    await page.waitForTimeout(500); // the frames' late re-fit of their height
    await shot('xss-thread');
    const blockedBefore = frameBlockedScripts;
    console.log(`note: before any click, the frames logged ${frameConsole} console lines, ${blockedBefore} of them "Blocked script execution"`);

    // Try to provoke the payloads: hover and click what could react inside each frame.
    const provokeEnd = Date.now() + PROVOKE_BUDGET_MS;
    for (const fi of frameInfo) {
      if (!fi.frame || fi.frame.isDetached() || Date.now() > provokeEnd) continue;
      let els = [];
      try { els = await fi.frame.locator('a, area, [onclick], [onmouseover], button, details, summary, input[type=submit], input[type=image]').all(); }
      catch (e) { continue; }
      for (const el of els.slice(0, PROVOKE_PER_FRAME)) {
        if (Date.now() > provokeEnd || fi.frame.isDetached()) break;
        tried += 1;
        try {
          if (!(await el.isVisible())) continue;
          await el.scrollIntoViewIfNeeded({ timeout: 500 }).catch(() => {});
          await el.hover({ timeout: 500 }).catch(() => {});
          await el.click({ timeout: 800, noWaitAfter: true });
          clicked += 1;
        } catch (e) { /* hidden, covered or detached: next */ }
      }
      await sleep(100);
    }
    await sleep(1500); // late popups, refreshes, dialogs
    console.log(`note: ${rendered} frames rendered, ${tried} elements found, ${clicked} clicked`);
    // The frames are still sandboxed the same way after all this.
    const after = await page.locator(tid('message-html-frame')).evaluateAll((fs) => fs.map((f) => f.getAttribute('sandbox')));
    check('frames keep their sandbox after the clicks', after.every((s) => s !== null && !/allow-scripts/.test(s)), JSON.stringify(after));
    await shot('xss-thread-after-clicks');
  }

  // Assertions over everything that happened.
  check('no dialog (alert/confirm/prompt) on any page or popup', sink.dialogs.length === 0, sink.dialogs.join(' | '));
  // A popup opened by clicking a link of the mail and heading for that link's host is the user
  // following a link, not an attack; it is listed, and aborted like everything else.
  const cspBlocked = sink.requests.filter((r) => r.failure === 'csp' || /BLOCKED_BY_CSP/.test(r.failure || ''));
  const followed = sink.requests.filter((r) => !cspBlocked.includes(r) && r.kind === 'popup' && r.nav && /^(https?|mailto):/i.test(r.url));
  const leaks = sink.requests.filter((r) => !cspBlocked.includes(r) && !followed.includes(r));
  check('no request for another host (images, CSS, fetch, forms, frame navigations)', leaks.length === 0,
    leaks.slice(0, 15).map((r) => `${r.type}${r.nav ? '(nav)' : ''} ${r.url} from ${r.kind} [${r.failure || 'no failure'}]`).join(' | '));
  console.log(`note: ${sink.requests.length} foreign request(s) seen: ${cspBlocked.length} refused by the frame's CSP inside the browser, `
    + `${followed.length} link(s) followed in popups, ${leaks.length} other (aborted by the test)`);
  if (cspBlocked.length) console.log(`note: refused by CSP, e.g. ${[...new Set(cspBlocked.map((r) => r.url))].slice(0, 6).join(' ')}`);
  if (followed.length) console.log(`note: ${followed.length} link(s) followed in popups (aborted): ${followed.slice(0, 8).map((r) => r.url).join(' ')}`);
  const popupUrls = sink.popups.flatMap((p) => p.urls);
  const badPopups = popupUrls.filter((u) => /^(javascript|vbscript|data):/i.test(u));
  check('no popup on a javascript:/vbscript:/data: URL', badPopups.length === 0, badPopups.join(' '));
  console.log(`note: ${sink.popups.length} popup(s) opened and closed${sink.popups.length ? `: ${[...new Set(popupUrls)].slice(0, 8).join(' ')}` : ''}`);
  const strayMain = mainUrls.filter((u) => !u.startsWith(BASE + '/'));
  check('the main page never left BASE_URL', strayMain.length === 0 && page.url().startsWith(BASE + '/'),
    `${strayMain.join(' ')} now ${page.url()}`);
  const cspViolations = await page.evaluate(() => window.__cspViolations || ['(listener lost: the page was reloaded)']).catch((e) => [`(${e.message})`]);
  // The main page's frame-src stops a message frame from being navigated to another host (a mail
  // link without target=_blank that was clicked): the defence works, but the link did not open.
  const frameNavs = cspViolations.filter((v) => /^(frame-src|child-src) /.test(v) && isForeign(v.split(' ')[1]));
  const otherViolations = cspViolations.filter((v) => !frameNavs.includes(v));
  check('no CSP violation in the main document', otherViolations.length === 0, otherViolations.join(' | '));
  check('clicked mail links never try to load another host inside the message frame (they open a new window)',
    frameNavs.length === 0, `${frameNavs.length} frame navigation(s) blocked by the page's frame-src: ${[...new Set(frameNavs)].slice(0, 8).join(' | ')}`);
  if (frameSameOrigin.size) console.log(`note: the message frames also requested from our origin: ${[...frameSameOrigin].slice(0, 10).join(' ')}`);
  // "Blocked script execution" lines appear only once the test hovers/clicks: Playwright's own
  // pointer actions in a frame without allow-scripts, not the mail's content.
  if (frameConsole) console.log(`note: ${frameConsole} console lines from the message frames (sandbox/CSP at work; ${frameBlockedScripts} "Blocked script execution", from the test's own pointer actions), e.g. ${[...new Set(frameLines)].slice(0, 3).join(' / ')}`);
  check('no console errors or page errors of the main page', problems.length === 0, problems.slice(0, 10).join(' | '));
  check('no 5xx answer (page, frames, popups)', serverErrors.length === 0, serverErrors.slice(0, 10).join(' | '));

  // The page still works.
  await page.bringToFront();
  await page.locator(tid('nav-deals')).click();
  const works = await until(10_000, async () => page.url().endsWith('#/deals') && await page.locator(tid('deal-row')).first().isVisible());
  check('the main page still works afterwards (nav-deals → deal list)', works, page.url());

  // Control: the same detectors do fire on a page that really runs a payload.
  const ctl = await browser.newContext();
  const ctlPage = await ctl.newPage();
  const ctlSink = {};
  await instrument(ctl, ctlSink, ctlPage);
  await ctlPage.setContent('<img src=x onerror="alert(1)"><img src="http://control.invalid/pixel.png">');
  await until(5_000, async () => ctlSink.dialogs.length > 0 && ctlSink.requests.length > 0);
  check('control: the dialog detector fires on <img onerror=alert(1)>', ctlSink.dialogs.length === 1 && /alert "1"/.test(ctlSink.dialogs[0]),
    JSON.stringify(ctlSink.dialogs));
  check('control: the foreign-request detector fires on a remote image', ctlSink.requests.some((r) => r.url.startsWith('http://control.invalid/')),
    JSON.stringify(ctlSink.requests));
  await ctl.close();
}

try {
  await main();
} catch (e) {
  check('test ran to the end', false, e && e.stack ? e.stack : String(e));
  await shot('xss-error');
}
try { if (browser) await browser.close(); } catch (e) { /* ignore */ }
console.log(`${summary()} (${Math.round((Date.now() - started) / 1000)} s)`);
clearTimeout(timer);
process.exit(tally.failed > 0 ? 1 : 0);
