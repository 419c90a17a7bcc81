// #/login: the login form. A rate-limited login counts down to the next try; the page
// the session expired on (sessionStorage crm-return) is shown again after the login.
//
// Stable test selectors (data-testid):
//   login-form            the login form
//   login-email           email input on #/login
//   login-password        password input on #/login
//   login-submit          login button
//   login-error           the login error message (wrong password, rate limited, ...)

import { h, append, api, state, onLeave, go, loadMe, refreshUnsortedCount } from '../core.js';
import { t } from '../i18n.js';

export function viewLogin(main) {
  document.title = `${t('Log in')} · CRM Mail`;
  if (state.me) { go('#/deals'); return; }
  const email = h('input', { type: 'email', id: 'login-email', name: 'email', required: true,
    maxlength: 254, autocomplete: 'username', testid: 'login-email', autofocus: true });
  const password = h('input', { type: 'password', id: 'login-password', name: 'password',
    required: true, maxlength: 1024, autocomplete: 'current-password', testid: 'login-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'login-submit' }, t('Log in'));
  const error = h('p', { class: 'form-error', testid: 'login-error', role: 'alert', hidden: true });
  let countdown = null;
  onLeave(() => clearInterval(countdown));

  const form = h('form', { class: 'login-card', testid: 'login-form', novalidate: true },
    h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '✉'), 'CRM Mail'),
    h('p', { class: 'login-sub' }, t('Log in with your CRM account.')),
    h('label', { for: 'login-email' }, t('Email')), email,
    h('label', { for: 'login-password' }, t('Password')), password,
    error, submit);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    if (!email.value.trim() || !password.value) {
      error.textContent = t('Enter your email and password.');
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = t('Logging in…');
    try {
      await api('POST', '/auth/login', { email: email.value.trim(), password: password.value });
      await loadMe();
      const back = sessionStorage.getItem('crm-return');
      sessionStorage.removeItem('crm-return');
      sessionStorage.removeItem('crm-deal-filter');
      refreshUnsortedCount();
      go(back && !back.startsWith('#/login') ? back : '#/deals');
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = t('Log in');
      if (e.status === 401) { password.value = ''; password.focus(); }
      if (e.status === 429 && e.retryAfter) {
        let left = Math.min(e.retryAfter, 3600);
        submit.disabled = true;
        submit.textContent = t('Try again in {seconds} s', { seconds: left });
        clearInterval(countdown);
        countdown = setInterval(() => {
          left -= 1;
          if (left <= 0) {
            clearInterval(countdown);
            submit.disabled = false;
            submit.textContent = t('Log in');
          } else {
            submit.textContent = t('Try again in {seconds} s', { seconds: left });
          }
        }, 1000);
      }
    }
  });
  append(main, h('div', { class: 'login-wrap' }, form));
  email.focus();
}
