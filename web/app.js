// CRM Mail web page: a single page over the HTTP API v1 (docs/api-contract.md, docs/openapi.yaml).
// No framework, no build step: the browser loads these ES modules as they are. Served with a
// strict CSP: no inline script or style, no eval. Mail content is hostile: the DOM is built with
// createElement/textContent only, never innerHTML, and HTML bodies are shown only through the
// server's sanitised document in a sandboxed iframe.
//
// This file is the entry point and the route table. core.js holds what the views share (API
// client, state, toast, shell, router, DOM and formatting helpers); views/*.js holds one module
// per page. A new page is a new module in views/ and a line here; the build embeds every file
// of web/ (src/http/CMakeLists.txt). Test selectors are listed at the top of the module that
// renders them.

import { start } from './core.js';
import { viewAdmin } from './views/admin.js';
import { viewDeal } from './views/deal.js';
import { viewDeals } from './views/deals.js';
import { viewFollowups } from './views/followups.js';
import { viewLogin } from './views/login.js';
import { viewOutbox } from './views/outbox.js';
import { viewSearch } from './views/search.js';
import { viewSettings } from './views/settings.js';
import { viewThread } from './views/thread.js';
import { viewUnsorted } from './views/unsorted.js';

start([
  { path: /^#\/login$/, view: viewLogin, nav: null, anonymous: true },
  { path: /^#\/deals(?:\?.*)?$/, view: viewDeals, nav: 'deals' },
  { path: /^#\/deals\/(\d+)$/, view: viewDeal, nav: 'deals' },
  { path: /^#\/threads\/(\d+)$/, view: viewThread, nav: 'deals' },
  { path: /^#\/unsorted(?:\?.*)?$/, view: viewUnsorted, nav: 'unsorted' },
  { path: /^#\/search(?:\?.*)?$/, view: viewSearch, nav: 'search' },
  { path: /^#\/followups$/, view: viewFollowups, nav: 'followups' },
  { path: /^#\/outbox(?:\?.*)?$/, view: viewOutbox, nav: 'outbox' },
  { path: /^#\/settings$/, view: viewSettings, nav: 'settings' },
  { path: /^#\/admin$/, view: viewAdmin, nav: 'admin' },
]);
