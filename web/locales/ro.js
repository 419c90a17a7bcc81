// Romanian: the catalogue of the page (web/i18n.js), one file per area under ro/.
import admin from './ro/admin.js';
import core from './ro/core.js';
import deals from './ro/deals.js';
import thread from './ro/thread.js';

export default { ...core, ...deals, ...thread, ...admin };
