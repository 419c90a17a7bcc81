// Romanian strings of the page (web/i18n.js): thread.
// A key used by several of these views is listed once, under the first file that uses it.
export default {
  // views/thread.js
  'Bounce': 'Mesaj returnat',
  'a mail server could not deliver our message; the Outbox shows which recipient and why.':
    'un server de e-mail nu a putut livra mesajul nostru; Căsuța de ieșire arată la care destinatar și de ce.',
  'Delivery delayed': 'Livrare întârziată',
  'a mail server is still trying to deliver our message.': 'un server de e-mail încă încearcă să livreze mesajul nostru.',
  'Delivery notice': 'Confirmare de livrare',
  'a mail server reports our message delivered.': 'un server de e-mail anunță că mesajul nostru a fost livrat.',
  'Auto-reply': 'Răspuns automat',
  'an automatic answer (out of office), not written by a person.':
    'un răspuns automat (absent de la birou), nescris de o persoană.',
  'Read receipt': 'Confirmare de citire',
  'their mail program reports our message was displayed; not an answer.':
    'programul lor de e-mail anunță că mesajul nostru a fost afișat; nu este un răspuns.',
  '(no subject)': '(fără subiect)',
  'Mark unread': 'Marchează ca necitit',
  'Mark read': 'Marchează ca citit',
  'Marked unread': 'Marcat ca necitit',
  'Marked read': 'Marcat ca citit',
  '← Deal': '← Tranzacție',
  '← Unsorted': '← Nesortate',
  'Deal:': 'Tranzacție:',
  'Linked by hand; the sorter leaves it alone': 'Asociată manual; sortarea automată nu o mai mută',
  'manual': 'manual',
  'Unsorted': 'Nesortate',
  'Deal': 'Tranzacție',
  'Link': 'Asociază',
  'Cancel': 'Anulează',
  'Change deal': 'Schimbă tranzacția',
  'Link to deal': 'Asociază cu o tranzacție',
  'Linked to {deal}': 'Asociată cu {deal}',
  'Linked to the deal': 'Asociată cu tranzacția',
  'Unlink': 'Elimină asocierea',
  'Unlinked: the conversation is back in Unsorted': 'Asociere eliminată: conversația a revenit în Nesortate',
  '{n} messages': { one: '{n} mesaj', few: '{n} mesaje', other: '{n} de mesaje' },
  'Show {n} older messages': {
    one: 'Arată {n} mesaj mai vechi', few: 'Arată {n} mesaje mai vechi', other: 'Arată {n} de mesaje mai vechi',
  },
  'Moved {n} messages to a new conversation (in Unsorted)': {
    one: '{n} mesaj a fost mutat într-o conversație nouă (în Nesortate)',
    few: '{n} mesaje au fost mutate într-o conversație nouă (în Nesortate)',
    other: '{n} de mesaje au fost mutate într-o conversație nouă (în Nesortate)',
  },
  'to': 'către',
  'cc': 'cc',
  'reply-to': 'răspuns către',
  '(unknown sender)': '(expeditor necunoscut)',
  'sent': 'trimis',
  'new': 'nou',
  'Gmail label': 'Etichetă Gmail',
  'Careful: this sender looks spoofed ({reason}). Replies never go to its From or Reply-To by default.':
    'Atenție: acest expeditor pare falsificat ({reason}). Implicit, răspunsurile nu ajung niciodată la adresa din From sau Reply-To.',
  'This message could not be fully parsed; the text below is a best effort.':
    'Acest mesaj nu a putut fi interpretat complet; textul de mai jos este cea mai bună aproximare.',
  '(no text)': '(fără text)',
  '··· show quoted text': '··· arată textul citat',
  '··· hide quoted text': '··· ascunde textul citat',
  'Text': 'Text',
  'HTML': 'HTML',
  'Show images': 'Arată imaginile',
  '{n} remote images blocked': {
    one: '{n} imagine externă blocată', few: '{n} imagini externe blocate', other: '{n} de imagini externe blocate',
  },
  'Remote images shown. The sender can see that you opened this message.':
    'Imaginile externe sunt afișate. Expeditorul poate vedea că ai deschis acest mesaj.',
  'Show as': 'Afișează ca',
  'Reply': 'Răspunde',
  'Move this message, and the replies to it, into a conversation of its own':
    'Mută acest mesaj și răspunsurile la el într-o conversație separată',
  'Not part of this conversation': 'Nu face parte din această conversație',
  'Move to a new conversation': 'Mută într-o conversație nouă',
  'This message and the replies to it leave this conversation.':
    'Acest mesaj și răspunsurile la el vor fi scoase din această conversație.',
  'attachment': 'atașament',
  'unknown type': 'tip necunoscut',
  'attachment {number}': 'atașamentul {number}',
  'Message (HTML)': 'Mesaj (HTML)',

  // views/reply.js
  'You have no mail account to send from. Ask an admin to add one for you.':
    'Nu ai niciun cont de e-mail din care să trimiți. Cere unui administrator să-ți adauge unul.',
  'Reply all': 'Răspunde tuturor',
  'Default: the sender (comma separated to change)':
    'Implicit: expeditorul (pentru alți destinatari, adrese separate prin virgulă)',
  'Default: everyone on the thread (comma separated to change)':
    'Implicit: toți participanții la conversație (pentru alți destinatari, adrese separate prin virgulă)',
  'Optional, comma separated': 'Opțional, separate prin virgulă',
  'Write your reply…  (Ctrl+Enter sends)': 'Scrie răspunsul…  (Ctrl+Enter trimite)',
  'Add my signature (set one under Settings)': 'Adaugă semnătura mea (configureaz-o în Setări)',
  'Add my signature': 'Adaugă semnătura mea',
  'Send': 'Trimite',
  'This message looks spoofed ({reason}): enter the recipients yourself.':
    'Acest mesaj pare falsificat ({reason}): introdu tu destinatarii.',
  'Replies go to {replyTo} (its Reply-To), not to the sender {from}: check before sending.':
    'Răspunsurile ajung la {replyTo} (adresa lui Reply-To), nu la expeditorul {from}: verifică înainte de a trimite.',
  'Replying to {who}, {date}': 'Răspuns către {who}, {date}',
  'Replying to the message, {date}': 'Răspuns la mesaj, {date}',
  'From': 'De la',
  'To': 'Către',
  'Cc': 'Cc',
  'Quote the original': 'Citează originalul',
  'Write something first.': 'Scrie mai întâi ceva.',
  'Not an email address: {address}': 'Nu este o adresă de e-mail: {address}',
  'Queuing…': 'Se pune în coadă…',

  // views/compose.js
  'Cannot read {file}': 'Nu se poate citi {file}',
  'Remove {file}': 'Elimină {file}',
  '{file} is {size}: the most one file may have is {limit}.':
    '{file} are {size}: un fișier poate avea cel mult {limit}.',
  '{file} would take the attachments over {limit}: send it in another mail.':
    '{file} ar duce atașamentele peste {limit}: trimite-l într-un alt e-mail.',
  'Attach files…': 'Atașează fișiere…',
  'Saving draft…': 'Se salvează ciorna…',
  'Draft saved {time}': 'Ciornă salvată {time}',
  'Draft not saved: {error}': 'Ciorna nu a fost salvată: {error}',
  'Draft restored': 'Ciornă restaurată',
  'Queued…': 'În coadă…',
  'Sending…': 'Se trimite…',
  'Sent ✓': 'Trimis ✓',
  'Failed: {error}': 'Eșuat: {error}',
  'unknown error': 'eroare necunoscută',
  'Unknown: the server may or may not have sent it ({error})':
    'Necunoscut: serverul poate să-l fi trimis sau nu ({error})',
  'Unknown: the server may or may not have sent it': 'Necunoscut: serverul poate să-l fi trimis sau nu',
  'Cancelled': 'Anulat',
  'Bounced: {error}': 'Returnat: {error}',
  'a delivery report came back': 'a sosit un raport de livrare',
  'New mail on {deal}': 'E-mail nou pentru {deal}',
  'Others (comma separated)': 'Alții (separați prin virgulă)',
  'Recipients (comma separated)': 'Destinatari (separați prin virgulă)',
  'Subject': 'Subiect',
  'To: pick a contact or type an address.': 'Către: alege un contact sau scrie o adresă.',
  'Subject: write one.': 'Subiect: scrie unul.',

  // views/unsorted.js
  'Conversations the sorter could not file with confidence. Assign each to its deal.':
    'Conversații pe care sortarea automată nu le-a putut încadra cu siguranță. Asociază-le pe fiecare cu tranzacția ei.',
  'Loading…': 'Se încarcă…',
  '{n} conversations': { one: '{n} conversație', few: '{n} conversații', other: '{n} de conversații' },
  'All sorted ✓': 'Totul e sortat ✓',
  'Nothing waits to be assigned.': 'Nimic nu așteaptă să fie asociat.',
  'More conversations': 'Mai multe conversații',
  '✓ Assigned “{subject}” to {deal}': '✓ Conversația „{subject}” a fost asociată cu {deal}',
  '✓ Assigned “{subject}” to the deal': '✓ Conversația „{subject}” a fost asociată cu tranzacția',
  'Assign to {deal}': 'Asociază cu {deal}',
  'Other deal': 'Altă tranzacție',
  'Other deal…': 'Altă tranzacție…',
  'Assign': 'Asociază',
  'no reason given': 'niciun motiv indicat',
  'No suggestion': 'Nicio sugestie',

  // views/search.js
  'Has attachments': 'Are atașamente',
  'To us from {sender}': 'Către noi de la {sender}',
  'deal': 'tranzacție',
  'Search mail': 'Caută în e-mailuri',
  'Search: words, "a phrase", from:, to:, deal:, has:attachment…':
    'Caută: cuvinte, "o expresie", from:, to:, deal:, has:attachment…',
  'Search': 'Caută',
  'Words and "phrases" · -word leaves out · from: to: subject: filename: · deal:1001 · has:attachment · after:/before:YYYY-MM-DD · is:unread · is:unsorted':
    'Cuvinte și "expresii" · -cuvânt exclude · from: to: subject: filename: · deal:1001 · has:attachment · after:/before:AAAA-LL-ZZ · is:unread · is:unsorted',
  'More results': 'Mai multe rezultate',
  'This query is not understood': 'Căutarea nu a fost înțeleasă',
  '{count}+ results': '{count}+ de rezultate',
  '{n} results': { one: '{n} rezultat', few: '{n} rezultate', other: '{n} de rezultate' },
  'Nothing found': 'Nu s-a găsit nimic',
  'Try fewer words, or leave out a filter.': 'Încearcă mai puține cuvinte sau renunță la un filtru.',
  'Discard draft': 'Renunță la ciornă',
};
