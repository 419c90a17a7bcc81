// Romanian strings of the page (web/i18n.js): deals.
// A deal is a "tranzacție" (feminine), its owner the "responsabil". A key used by several of
// these files is written once, under the first file that uses it.
export default {
  // views/deal.js
  '{n} min': '{n} min',
  '{n} h': '{n} h',
  '{n} days': '{n} zile',
  'Messages per week: {weeks}': 'Mesaje pe săptămână: {weeks}',
  '{week} {in} in, {out} out': '{week}: {in} primite, {out} trimise',
  'Week of {week}: {n} received': 'Săptămâna din {week}: {n} primite',
  'Week of {week}: {n} sent': 'Săptămâna din {week}: {n} trimise',
  '■ received': '■ primite',
  '▨ sent': '▨ trimise',
  'First response: {time}': 'Primul răspuns: {time}',
  'Average response: {time} ({answers})': 'Timp mediu de răspuns: {time} ({answers})',
  '{n} answers': { one: '{n} răspuns', few: '{n} răspunsuri', other: '{n} de răspunsuri' },
  'Last contact:': 'Ultimul contact:',
  'Open follow-ups: {n}': 'Urmăriri deschise: {n}',
  'Activity, last {n} weeks': {
    one: 'Activitatea din ultima săptămână',
    few: 'Activitatea din ultimele {n} săptămâni',
    other: 'Activitatea din ultimele {n} de săptămâni',
  },
  '{value} (default)': '{value} (implicit)',
  'Follow up: awaiting their reply after {days}; answer within {hours}':
    'Urmărire: răspunsul lor este așteptat {days}; răspundem în cel mult {hours}',
  '{n} business days': { one: '{n} zi lucrătoare', few: '{n} zile lucrătoare', other: '{n} de zile lucrătoare' },
  '{n} hours': { one: '{n} oră', few: '{n} ore', other: '{n} de ore' },
  'Business days without their answer': 'Zile lucrătoare fără răspunsul lor',
  'Hours their message may wait': 'Ore cât poate aștepta mesajul lor',
  'Follow-up periods saved': 'Termenele de urmărire au fost salvate',
  Save: 'Salvează',
  'Follow up: awaiting their reply after {days} business days; answer within {hours} hours':
    'Urmărire: răspunsul lor este așteptat {days} zile lucrătoare; răspundem în cel mult {hours} ore',
  'New mail': 'Mail nou',
  'Mail sent': 'Mailul a fost trimis',
  '← Deals': '← Tranzacții',
  'no stage': 'fără etapă',
  'Owner: {name}': 'Responsabil: {name}',
  nobody: 'nimeni',
  shared: 'partajată',
  '{n} conversations': { one: '{n} conversație', few: '{n} conversații', other: '{n} de conversații' },
  '{n} messages': { one: '{n} mesaj', few: '{n} mesaje', other: '{n} de mesaje' },
  'No conversations yet': 'Nicio conversație deocamdată',
  "Mail with this deal's contacts will appear here.":
    'Mailurile schimbate cu persoanele de contact ale acestei tranzacții vor apărea aici.',
  'More conversations': 'Mai multe conversații',
  '(no subject)': '(fără subiect)',
  Conversation: 'Conversație',
  Messages: 'Mesaje',
  Unread: 'Necitite',
  'Last message': 'Ultimul mesaj',

  // views/deals.js (also: Unread, shared, nobody above)
  'Filter deals…  ( / )': 'Filtrează tranzacțiile…  ( / )',
  'Filter deals': 'Filtrează tranzacțiile',
  Status: 'Stare',
  'All statuses': 'Toate stările',
  Open: 'Deschise',
  Won: 'Câștigate',
  Lost: 'Pierdute',
  Deals: 'Tranzacții',
  'Unread only': 'Doar necitite',
  'Loading deals…': 'Se încarcă tranzacțiile…',
  Deal: 'Tranzacție',
  Stage: 'Etapă',
  Owner: 'Responsabil',
  Threads: 'Conversații',
  'Last activity': 'Ultima activitate',
  'Shared with every salesperson': 'Partajată cu toți agenții de vânzări',
  'More deals': 'Mai multe tranzacții',
  'No deals match': 'Nicio tranzacție nu corespunde',
  'Try another filter.': 'Încearcă alt filtru.',
  'No deals yet': 'Nicio tranzacție deocamdată',
  'Deals you own or that are shared with you appear here.':
    'Aici apar tranzacțiile de care răspunzi și cele partajate cu tine.',
  '{n} deals': { one: '{n} tranzacție', few: '{n} tranzacții', other: '{n} de tranzacții' },
  '{shown} of {n} deals read so far': {
    one: '{shown} din {n} tranzacție încărcată până acum',
    few: '{shown} din {n} tranzacții încărcate până acum',
    other: '{shown} din {n} de tranzacții încărcate până acum',
  },
  '{shown} of {n} deals': {
    one: '{shown} din {n} tranzacție',
    few: '{shown} din {n} tranzacții',
    other: '{shown} din {n} de tranzacții',
  },

  // views/followups.js (also: {n} conversations, {n} business days, {n} hours, Conversation,
  // (no subject) above)
  'Awaiting their reply': 'Așteaptă răspunsul lor',
  'Needs our answer': 'Necesită răspunsul nostru',
  'Follow up today': 'De urmărit astăzi',
  'Conversations on your open deals where the customer has not answered our last message, or where their message waits for our reply.':
    'Conversațiile din tranzacțiile tale deschise în care clientul nu a răspuns la ultimul nostru mesaj '
    + 'sau în care mesajul lui așteaptă răspunsul nostru.',
  'Loading…': 'Se încarcă…',
  'Nothing to follow up today': 'Nimic de urmărit astăzi',
  'A conversation appears here when the customer has not answered for {days}, or their message has waited {hours} for ours (unless its deal sets other periods).':
    'O conversație apare aici când clientul nu a răspuns de {days} sau când mesajul lui așteaptă răspunsul nostru '
    + 'de {hours} (dacă tranzacția ei nu stabilește alte termene).',
  'Waiting for': 'Se așteaptă',
  Since: 'De când',
  'Snoozed "{subject}"': 'Conversația „{subject}” a fost amânată',
  Tomorrow: 'Amână până mâine',
  'A week': 'Amână o săptămână',
};
