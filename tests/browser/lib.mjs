// Shared by the browser tests: environment, checks and their tally, polling, screenshots and the
// global timeout.
import fs from 'node:fs';
import path from 'node:path';

export function env(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    console.log(`FAIL: environment: ${name} is not set`);
    process.exit(1);
  }
  return v;
}

export const tally = { passed: 0, failed: 0 };
export function check(name, cond, detail) {
  if (cond) { tally.passed += 1; console.log(`ok: ${name}`); }
  else { tally.failed += 1; console.log(`FAIL: ${name}: ${detail === undefined ? '' : detail}`); }
  return Boolean(cond);
}
export const summary = () => `${tally.passed} passed, ${tally.failed} failed`;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
export const tid = (id) => `[data-testid="${id}"]`;

// Polls fn() until it returns a truthy value or `ms` passes; returns the last value.
export async function until(ms, fn, every = 250) {
  const end = Date.now() + ms;
  let v;
  for (;;) {
    try { v = await fn(); } catch (e) { v = undefined; }
    if (v || Date.now() >= end) return v;
    await sleep(every);
  }
}

// Opens the login page and logs in as `who` ({email, password}); resolves once the shell shows.
export async function loginAs(page, base, who) {
  await page.goto(`${base}/#/login`);
  await page.locator(tid('login-email')).fill(who.email);
  await page.locator(tid('login-password')).fill(who.password);
  await page.locator(tid('login-submit')).click();
  await page.locator(tid('nav-user')).waitFor({ state: 'visible' });
}

// A full-page screenshot of getPage() into dir/name.png (never fails the test).
export function screenshots(dir, getPage) {
  fs.mkdirSync(dir, { recursive: true });
  return async (name) => {
    const page = getPage();
    if (!page) return;
    try {
      // From the top: a full-page shot of a scrolled page paints the sticky header and sidebar mid-page.
      await page.evaluate(() => window.scrollTo(0, 0)).catch(() => {});
      await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
    } catch (e) { console.log(`note: screenshot ${name} failed: ${e.message}`); }
  };
}

// Fails the run (with a last screenshot) if it has not finished within `ms`.
export function globalTimeout(ms, shot) {
  const timer = setTimeout(async () => {
    check('global timeout', false, `the test did not finish within ${ms / 1000} s`);
    await shot('timeout');
    console.log(summary());
    process.exit(1);
  }, ms);
  timer.unref();
  return timer;
}
