// Romanian strings of the page (web/i18n.js): the shell (index.html, core.js) and the Settings
// page.
export default {
  // index.html
  'Search mail': 'Caută în e-mail',
  Main: 'Principal',
  Deals: 'Tranzacții',
  Unsorted: 'Nesortate',
  'Follow up': 'De urmărit',
  Outbox: 'Căsuța de ieșire',
  Settings: 'Setări',
  Admin: 'Administrare',
  'Log out': 'Deconectare',
  'Loading…': 'Se încarcă…',

  // core.js
  'just now': 'chiar acum',
  '1 min ago': 'acum 1 min',
  '{n} min ago': 'acum {n} min',
  '{n} h ago': 'acum {n} h',
  yesterday: 'ieri',
  '{n} days ago': { one: 'acum o zi', few: 'acum {n} zile', other: 'acum {n} de zile' },
  '{n} B': '{n} B',
  '{n} KB': '{n} KB',
  '{n} MB': '{n} MB',
  'Not found': 'Nu a fost găsit',
  'Could not load this page': 'Pagina nu a putut fi încărcată',
  Retry: 'Încearcă din nou',
  open: 'deschisă',
  won: 'câștigată',
  lost: 'pierdută',
  '{n} unread messages': { one: '{n} mesaj necitit', few: '{n} mesaje necitite', other: '{n} de mesaje necitite' },
  'Choose a deal…': 'Alege o tranzacție…',
  Open: 'Deschise',
  Won: 'Câștigate',
  Lost: 'Pierdute',
  'Cannot reach the server. Check your connection and try again.':
    'Serverul nu poate fi contactat. Verifică conexiunea și încearcă din nou.',
  'The server answered {status} {text}': 'Serverul a răspuns {status} {text}',
  '{title} · CRM Mail': '{title} · CRM Mail',

  // views/settings.js
  'As the browser ({language})': 'Ca în browser ({language})',
  'As the browser ({zone})': 'Ca în browser ({zone})',
  Save: 'Salvează',
  'Language and time zone': 'Limba și fusul orar',
  Language: 'Limba',
  'Time zone': 'Fusul orar',
  'Dates, times and numbers follow the language; times are shown in the time zone.':
    'Datele, orele și numerele urmează limba; orele sunt afișate în fusul orar ales.',
  'Settings saved': 'Setările au fost salvate',
  'Your name\nYour title, company\nPhone': 'Numele tău\nFuncția, compania\nTelefon',
  Signature: 'Semnătura',
  'Added under your new mail and replies when "Add my signature" is ticked.':
    'Se adaugă sub mesajele noi și răspunsurile tale când este bifat „Adaugă semnătura mea”.',
  'Signature saved': 'Semnătura a fost salvată',
  'Signature removed': 'Semnătura a fost ștearsă',
};
