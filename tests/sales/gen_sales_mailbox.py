#!/usr/bin/env python3
"""Generate a realistic, labelled salesperson mailbox (deterministic for a seed and a count).

Usage: gen_sales_mailbox.py --out DIR --seed N [--count M]     (M defaults to 3000)

Writes DIR/Maildir/{cur,new,tmp} (one file per message), DIR/crm/{users,companies,contacts,
deals}.csv, DIR/truth.tsv and DIR/owner_id.  The same seed and count give byte-identical output.
Python 3 standard library only.

The world
---------
* Our company is Northwind Systems, domain northwind-sales.example.  The mailbox belongs to user 1
  (a salesperson).  Seven colleagues (users 2-8, salespeople and admins) share the domain.
  sales@northwind-sales.example is a team address on our domain and is NOT a user.
* Customer companies (about 40 for 3000 messages, more for larger mailboxes) in English, German,
  French, Polish, Spanish, Dutch and Swedish, each with 1-5 contacts; about one in five has a
  second domain.  A few companies are partners/resellers with an open deal of their own.
  Company domains are all under .example and never free-mail domains.
* Free-mail customers (gmail.com, web.de, wp.pl, ...) are contacts without a company; their deals
  name them in contact_ids and have no company.  A few company contacts also have a private
  free-mail address listed as a second email in the CRM, and sometimes write from it.
* Deals: most customers have exactly one open deal; some have two or three (every contact of such
  a company is on all of them and one user owns all of them, so only the subject tells them
  apart); some have only won/lost deals.  Deals have no dates in the CRM, so "open at the time
  of the message" means status open.  Most deals are owned by user 1, some by colleagues.

What a conversation is (truth.tsv column 2)
-------------------------------------------
A conversation is the set of messages a person would read as one exchange: a first message and
every message written in answer to one of its messages, whatever headers survived.  In detail:
* a reply belongs to the conversation of the message it answers, whether it carries
  References/In-Reply-To, only an RFC 822 style In-Reply-To, only an Outlook Thread-Index, or
  nothing but "Re: <subject>" (subject-only reply, also months later), and also when its subject
  was changed;
* an automatic reply (out of office) belongs to the conversation of the message it answers;
* a forward ("FW:"/"Fwd:") written by the owner to somebody else starts a NEW conversation
  (the forward and the answers to it), even though it repeats the subject;
* unrelated exchanges with the same subject ("Meeting", "Offer", "Oferta", ...) are different
  conversations, also when they run in the same weeks;
* every newsletter issue / notification is a conversation of its own.
Every message of the mailbox has the owner (user 1) in From, To or Cc, or came to the team
address; a reply is always dated after the message it answers.

The deal of a conversation (truth.tsv column 3)
-----------------------------------------------
The open deal the conversation is about, or "-":
* a conversation with a customer contact (or a person not in the CRM writing from the company's
  domain) whose customer has one open deal is about that deal;
* a customer with several open deals: the deal the conversation is about; most such
  conversations name the deal in the subject, some do not (tag deal_unnamed; the right system
  answer is then "unsorted", which only costs coverage; these are < 5 % of deal messages);
* a conversation with several companies (a customer and a partner who has an open deal of its
  own) is about the customer's deal;
* "-" when the customer has no open deal (only won/lost), when nobody outside our domain who is
  known to the CRM takes part (internal mail, a forward to a colleague), for newsletters, bulk
  mail and notifications (even from a customer's domain), and for senders unknown to the CRM at
  unknown domains;
* all messages of a conversation have the same deal.

Trap tags (truth.tsv column 4, comma separated, "-" for none)
-------------------------------------------------------------
Conversation tags (on every message of the conversation):
  generic_subject      the subject is one of the common ones reused by unrelated conversations
                       ("Meeting", "Invoice", "Offer", "Quick question", "Follow-up", "Partnership
                       terms", "Pricing", "Angebot für Lieferung – Rückfrage", "Rendez-vous",
                       "Oferta", ...), started by different people in the same weeks
  multi_open_deals     the customer has several open deals
  deal_unnamed         ... and the subject does not name the deal (true deal still given)
  no_open_deal         the customer has only won/lost deals (deal "-")
  multi_company        a partner/reseller contact (whose company has its own open deal) is in Cc
  gmail_no_company     the customer is a free-mail contact without a company
  freemail_alias       a company contact writes from the private free-mail address in the CRM
  newsletter           newsletter, notification, tracker or bulk mail (deal "-")
  customer_newsletter  ... sent from a customer's own domain
  unknown_sender       first contact from a person unknown to the CRM at an unknown domain
  unknown_contact      a person not in the CRM writing from a known company domain
  internal_only        only our own addresses take part (deal "-")
  colleague_thread     a colleague talks to the customer, the owner is in Cc
  forward_new_conversation  the conversation is a forward by the owner to another person
  team_address         the first message went to sales@ (our domain, not a user)
Message tags:
  subject_only_reply   a reply without References and In-Reply-To, only "Re:"/"AW:"/"SV:"/...
  thread_index_only    an Outlook reply with Thread-Index/Thread-Topic but no References or
                       In-Reply-To; its Thread-Index is that of the message it answers plus 5 bytes
  references_trimmed   References trimmed to the first id and the last three
  rfc822_in_reply_to   In-Reply-To in the old style ('Your message of "date" <id>' or
                       '<id> (Name's message of "date")'), no References
  subject_change       a reply with a new subject but intact References
  late_reply           a subject-only reply more than 30 days after the message it answers
  auto_reply           an out-of-office reply (Auto-Submitted: auto-replied)
"""
import argparse
import base64
import csv
import html
import os
import quopri
import random
import re
import sys
import unicodedata
from datetime import datetime, timezone
from email.header import Header
from email.utils import formataddr

OUR_DOMAIN = "northwind-sales.example"
OUR_COMPANY = "Northwind Systems"
TEAM_ADDR = "sales@" + OUR_DOMAIN
FREEMAIL_DOMAINS = {
    "en": ["gmail.com", "gmail.com", "outlook.com", "yahoo.com"],
    "de": ["gmail.com", "web.de", "gmx.de"],
    "fr": ["gmail.com", "orange.fr", "laposte.net"],
    "pl": ["gmail.com", "wp.pl", "o2.pl"],
    "es": ["gmail.com", "hotmail.es"],
    "nl": ["gmail.com", "ziggo.nl"],
    "sv": ["gmail.com", "telia.com"],
}
ALL_FREEMAIL = sorted({d for v in FREEMAIL_DOMAINS.values() for d in v})

DAY = 86400
P_START = int(datetime(2026, 1, 5, 7, 0, tzinfo=timezone.utc).timestamp())
P_END = int(datetime(2026, 6, 26, 18, 0, tzinfo=timezone.utc).timestamp())
EU_DST = (int(datetime(2026, 3, 29, 1, tzinfo=timezone.utc).timestamp()),
          int(datetime(2026, 10, 25, 1, tzinfo=timezone.utc).timestamp()))
US_DST = (int(datetime(2026, 3, 8, 8, tzinfo=timezone.utc).timestamp()),
          int(datetime(2026, 11, 1, 7, tzinfo=timezone.utc).timestamp()))

WD_EN = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MON_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEKDAYS = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
    "pl": ["poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela"],
}
MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"],
    "pl": ["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
           "września", "października", "listopada", "grudnia"],
}
CITIES = {
    "en": ["Leeds", "Bristol", "Chicago", "Dublin", "Manchester", "Denver"],
    "de": ["Hamburg", "München", "Köln", "Leipzig", "Düsseldorf", "Nürnberg"],
    "fr": ["Lyon", "Lille", "Nantes", "Bordeaux", "Orléans"],
    "es": ["Valencia", "Sevilla", "Bilbao", "Zaragoza", "Málaga"],
    "pl": ["Kraków", "Gdańsk", "Wrocław", "Poznań", "Łódź"],
}
PRODUCTS = ["Fleet Tracker", "NW Scanner X2", "Route Planner Pro", "Cold Chain Sensors",
            "Dock Scheduler", "Warehouse Suite", "Yard Manager", "Driver App"]

FIRST = {
    "en": ["James", "Emily", "Oliver", "Charlotte", "Michael", "Sarah", "Daniel", "Hannah",
           "Robert", "Grace", "Thomas", "Olivia", "William", "Megan", "George", "Lucy"],
    "de": ["Jürgen", "Katrin", "Stefan", "Anja", "Matthias", "Sabine", "Andreas", "Jörg",
           "Björn", "Ute", "Klaus", "Birgit", "Lena", "Tobias", "Günther", "Jana"],
    "fr": ["François", "Hélène", "Julien", "Amélie", "Sébastien", "Céline", "Nicolas",
           "Élodie", "Mathieu", "Camille", "Gaëlle", "Jérôme"],
    "pl": ["Łukasz", "Agnieszka", "Paweł", "Małgorzata", "Krzysztof", "Ewa", "Tomasz",
           "Joanna", "Michał", "Żaneta", "Grzegorz", "Beata"],
    "es": ["José", "María", "Javier", "Lucía", "Álvaro", "Carmen", "Sergio", "Inés", "Raúl",
           "Elena", "Begoña", "Íñigo"],
    "nl": ["Jeroen", "Sanne", "Pieter", "Anouk", "Bram", "Femke", "Joris", "Lotte"],
    "sv": ["Åsa", "Erik", "Linnéa", "Johan", "Karin", "Björn", "Maja", "Anders"],
}
LAST = {
    "en": ["Smith", "Walker", "Hughes", "Bennett", "Carter", "Foster", "Hayes", "Murphy",
           "Parker", "Reed", "Turner", "Wright", "O'Brien", "Collins"],
    "de": ["Müller", "Schröder", "Weiß", "Fischer", "Köhler", "Hoffmann", "Krüger", "Schäfer",
           "Wagner", "Becker", "Groß", "Löwe", "Zimmermann", "Braun"],
    "fr": ["Lefèvre", "Dubois", "Moreau", "Girard", "Lambert", "Rousseau", "Fontaine",
           "Chevalier", "Bérenger", "Faure", "Mercier", "Gauthier"],
    "pl": ["Wójcik", "Kowalczyk", "Nowicki", "Zieliński", "Wiśniewski", "Dąbrowski", "Kamiński",
           "Lewandowski", "Szymański", "Woźniak", "Mazur", "Krawczyk"],
    "es": ["García", "Martínez", "Rodríguez", "López", "Sánchez", "Pérez", "Gómez",
           "Fernández", "Jiménez", "Muñoz", "Ibáñez", "Ortiz"],
    "nl": ["de Vries", "Jansen", "van Dijk", "Bakker", "Visser", "Smit", "de Boer", "Mulder"],
    "sv": ["Andersson", "Johansson", "Lindqvist", "Nilsson", "Eriksson", "Larsson",
           "Bergström", "Öberg"],
}
TITLES = {
    "en": ["Purchasing Manager", "Head of Operations", "IT Director", "Procurement Lead", "CFO",
           "Logistics Coordinator", "Fleet Manager"],
    "de": ["Einkaufsleiter", "Leitung Logistik", "IT-Leiter", "Geschäftsführer", "Einkauf",
           "Fuhrparkleitung"],
    "fr": ["Responsable achats", "Directeur logistique", "DSI", "Acheteuse", "Directeur général"],
    "es": ["Director de compras", "Responsable de logística", "Jefa de IT", "Gerente"],
    "pl": ["Kierownik zakupów", "Dyrektor logistyki", "Specjalista ds. zakupów", "Prezes zarządu"],
}
PHONE_PREFIX = {"en": "+44 20 7946 ", "de": "+49 40 5550 ", "fr": "+33 1 70 36 ",
                "pl": "+48 22 555 ", "es": "+34 91 555 ", "nl": "+31 20 555 ", "sv": "+46 8 555 "}

COMPANY_STEMS = {
    "en": ["Harbor", "Bluefield", "Crestline", "Ironbridge", "Oakridge", "Summit", "Redwood",
           "Silverline", "Northgate", "Brightwater", "Kingsley", "Westbrook", "Ashford",
           "Fairhaven", "Greystone", "Lakeside"],
    "de": ["Bergmann", "Rheinland", "Alpenblick", "Weißenfels", "Nordstern", "Hofmann",
           "Köhler", "Sonnenberg", "Eichwald", "Mühlheim", "Schwarzwald", "Lindenhof"],
    "fr": ["Beaulieu", "Rivière", "Château-Blanc", "Mercier", "Garnier", "Bonnard", "Vallée",
           "Bréval", "Montfort"],
    "pl": ["Mazowsze", "Bałtyk", "Wisła", "Podhale", "Górski", "Śląsk", "Warmia", "Karkonosze"],
    "es": ["Iberia Norte", "Castellón", "Peñalara", "Andalucía Verde", "Galicia Sur",
           "Montaña Azul", "Valle Hermoso"],
    "nl": ["Hollandia", "Zeeland", "Van der Berg", "Dijkstra", "Noordzee"],
    "sv": ["Norrland", "Ångström", "Bergslagen", "Vänern", "Lindgren"],
}
COMPANY_FORMS = {
    "en": (["Logistics", "Foods", "Health", "Engineering", "Retail", "Freight", "Pharma"],
           ["Ltd", "Inc.", "plc", "LLC", "Group"]),
    "de": (["Maschinenbau", "Logistik", "Lebensmittel", "Bau", "Elektrotechnik", "Spedition"],
           ["GmbH", "AG", "GmbH & Co. KG"]),
    "fr": (["Industries", "Transports", "Distribution", "Énergie", "Logistique"],
           ["SA", "SARL", "SAS"]),
    "pl": (["Logistyka", "Transport", "Budownictwo", "Energetyka", "Spedycja"],
           ["Sp. z o.o.", "S.A."]),
    "es": (["Distribuciones", "Logística", "Alimentación", "Energía", "Transportes"],
           ["S.L.", "S.A."]),
    "nl": (["Logistiek", "Transport", "Voeding", "Techniek"], ["B.V.", "N.V."]),
    "sv": (["Logistik", "Transport", "Livsmedel", "Teknik"], ["AB"]),
}
PARTNER_FORMS = {"en": "IT Solutions", "de": "Systemhaus", "fr": "Intégration",
                 "pl": "Systemy IT", "es": "Soluciones TI", "nl": "ICT", "sv": "IT-partner"}
LANG_WEIGHTS = [("en", 30), ("de", 25), ("fr", 14), ("pl", 11), ("es", 10), ("nl", 5), ("sv", 5)]
CURRENCY = {"en": "GBP", "de": "EUR", "fr": "EUR", "pl": "PLN", "es": "EUR", "nl": "EUR",
            "sv": "SEK"}

DEAL_NAMES = {
    "en": ["Fleet renewal {y}", "Service contract {y}", "Warehouse expansion {city}",
           "Framework agreement {y}", "Pilot {city}", "Support upgrade {tier}",
           "Rollout phase {k}", "Scanner refresh {y}", "Cold chain monitoring",
           "Yard management"],
    "de": ["Rahmenvertrag {y}", "Wartungsvertrag {y}", "Erweiterung Lager {city}",
           "Flottenerneuerung {y}", "Pilotprojekt {city}", "Rollout Werk {k}",
           "Kühlkettenüberwachung", "Scanner-Tausch {y}"],
    "fr": ["Contrat cadre {y}", "Extension entrepôt {city}", "Renouvellement flotte {y}",
           "Pilote {city}", "Maintenance {y}", "Déploiement phase {k}"],
    "es": ["Contrato marco {y}", "Ampliación almacén {city}", "Renovación de flota {y}",
           "Piloto {city}", "Mantenimiento {y}", "Despliegue fase {k}"],
    "pl": ["Umowa ramowa {y}", "Rozbudowa magazynu {city}", "Wymiana floty {y}",
           "Pilotaż {city}", "Serwis {y}", "Wdrożenie etap {k}"],
}
PARTNER_DEAL = {"en": "Reseller agreement 2026", "de": "Partnervertrag 2026",
                "fr": "Accord revendeur 2026", "pl": "Umowa partnerska 2026",
                "es": "Acuerdo de distribución 2026"}
OLD_DEALS = ["Initial licences 2024", "Scanner pilot 2025", "Support contract 2025",
             "Route planning trial 2025", "Handhelds 2024"]
OPEN_STAGES = ["qualification", "discovery", "proposal", "negotiation", "verbal"]

# Generic subjects: (subject, body topic).  Reused by unrelated conversations.
GENERIC = {
    "en": [("Meeting", "meeting"), ("Invoice", "invoice"), ("Offer", "offer"),
           ("Quick question", "question"), ("Follow-up", "offer"),
           ("Partnership terms", "partnership"), ("Pricing", "offer")],
    "de": [("Angebot für Lieferung – Rückfrage", "delivery"), ("Termin", "meeting"),
           ("Angebot", "offer"), ("Rechnung", "invoice"), ("Kurze Frage", "question")],
    "fr": [("Rendez-vous", "meeting"), ("Devis", "offer"), ("Facture", "invoice"),
           ("Question rapide", "question"), ("Suivi", "offer")],
    "es": [("Oferta", "offer"), ("Reunión", "meeting"), ("Factura", "invoice"),
           ("Consulta", "question")],
    "pl": [("Oferta", "offer"), ("Spotkanie", "meeting"), ("Faktura", "invoice"),
           ("Pytanie", "question")],
}
GENERIC_SET = {s for v in GENERIC.values() for s, _ in v} | {"Offer", "Pricing", "Meeting"}

SUBJECTS = {
    "en": {"offer": ["Offer {num} – {product}", "Updated quote for {n} units",
                     "Pricing for {n} additional seats"],
           "meeting": ["Call on {weekday}?", "Demo of {product}", "Workshop in {city}"],
           "contract": ["Contract draft v{v}", "Comments on the MSA", "Signed agreement"],
           "invoice": ["Invoice {num}", "PO {po}", "Payment reminder {num}"],
           "question": ["Question about {product}", "SSO support?", "Trial extension"],
           "partnership": ["Reseller programme", "Partner agreement draft"],
           "delivery": ["Delivery date for PO {po}", "Shipment to {city}"]},
    "de": {"offer": ["Angebot {num} – {product}", "Aktualisiertes Angebot für {n} Stück"],
           "meeting": ["Termin am {weekday}?", "Vorführung {product}", "Workshop in {city}"],
           "contract": ["Vertragsentwurf v{v}", "Anmerkungen zum Rahmenvertrag"],
           "invoice": ["Rechnung {num}", "Bestellung {po}"],
           "question": ["Frage zu {product}", "Verlängerung der Testphase"],
           "partnership": ["Partnerprogramm", "Entwurf Partnervertrag"],
           "delivery": ["Liefertermin Bestellung {po}", "Lieferung nach {city}"]},
    "fr": {"offer": ["Devis {num} – {product}", "Devis mis à jour pour {n} unités"],
           "meeting": ["Appel {weekday} ?", "Démonstration {product}", "Atelier à {city}"],
           "contract": ["Projet de contrat v{v}", "Remarques sur le contrat cadre"],
           "invoice": ["Facture {num}", "Bon de commande {po}"],
           "question": ["Question sur {product}", "Prolongation de l'essai"],
           "partnership": ["Programme revendeurs", "Projet d'accord partenaire"],
           "delivery": ["Date de livraison commande {po}", "Livraison à {city}"]},
    "es": {"offer": ["Oferta {num} – {product}", "Presupuesto actualizado para {n} unidades"],
           "meeting": ["¿Llamada el {weekday}?", "Demostración de {product}",
                       "Taller en {city}"],
           "contract": ["Borrador de contrato v{v}", "Comentarios al contrato marco"],
           "invoice": ["Factura {num}", "Pedido {po}"],
           "question": ["Pregunta sobre {product}", "Ampliación del periodo de prueba"],
           "partnership": ["Programa de distribuidores", "Borrador del acuerdo de socio"],
           "delivery": ["Fecha de entrega del pedido {po}", "Envío a {city}"]},
    "pl": {"offer": ["Oferta {num} – {product}", "Zaktualizowana oferta na {n} szt."],
           "meeting": ["Termin spotkania", "Prezentacja {product}", "Warsztaty {product}"],
           "contract": ["Projekt umowy v{v}", "Uwagi do umowy ramowej"],
           "invoice": ["Faktura {num}", "Zamówienie {po}"],
           "question": ["Pytanie o {product}", "Przedłużenie okresu testowego"],
           "partnership": ["Program partnerski", "Projekt umowy partnerskiej"],
           "delivery": ["Termin dostawy zamówienia {po}", "Dostawa {po}"]},
}
DEAL_SUBJECTS = {
    "en": ["{deal} – revised quote", "{deal}: next steps", "{deal} – contract draft",
           "Questions on {deal}", "{deal} / timeline"],
    "de": ["{deal} – überarbeitetes Angebot", "{deal}: nächste Schritte",
           "Rückfragen zu {deal}"],
    "fr": ["{deal} – devis révisé", "{deal} : prochaines étapes", "Questions sur {deal}"],
    "es": ["{deal} – presupuesto revisado", "{deal}: próximos pasos", "Dudas sobre {deal}"],
    "pl": ["{deal} – poprawiona oferta", "{deal}: kolejne kroki", "Pytania dotyczące: {deal}"],
}
CHANGED_SUBJECTS = {
    "en": ["Revised delivery schedule", "Contract draft v{v}", "Updated pricing (was: {old})",
           "Next steps after our call"],
    "de": ["Neuer Liefertermin", "Vertragsentwurf v{v}", "Neue Preise (war: {old})"],
    "fr": ["Nouveau planning de livraison", "Projet de contrat v{v}",
           "Nouveaux tarifs (était : {old})"],
    "es": ["Nuevo calendario de entregas", "Borrador de contrato v{v}",
           "Precios actualizados (antes: {old})"],
    "pl": ["Nowy harmonogram dostaw", "Projekt umowy v{v}", "Nowe ceny (było: {old})"],
}
UNKNOWN_SUBJECTS = {
    "en": [("Inquiry about {product}", "question"), ("Request for quote", "offer"),
           ("Distribution partnership?", "partnership"), ("Introduction", "question")],
    "de": [("Anfrage {product}", "question"), ("Preisanfrage", "offer")],
    "fr": [("Demande de devis", "offer"), ("Demande d'information", "question")],
    "es": [("Solicitud de información", "question"), ("Petición de presupuesto", "offer")],
    "pl": [("Zapytanie ofertowe", "offer"), ("Prośba o informacje", "question")],
}
INTERNAL_SUBJECTS = ["Pipeline review", "Q2 forecast", "Discount approval – {company}",
                     "Holiday cover", "Demo on {weekday}", "Travel expenses {month}",
                     "New price list 2026", "Trade fair booth", "Handover {company}",
                     "Discount approval – {deal}"]
INTERNAL_GENERIC = ["Meeting", "Pricing", "Offer", "Follow-up"]

TEXT = {
    "en": {
        "greet": ["Hi {first},", "Hello {first},", "Dear {first},", "Good morning {first},"],
        "close": ["Best regards,", "Kind regards,", "Thanks,", "Best,", "Cheers,"],
        "offer": ["please find attached our offer for {product}.",
                  "As discussed, here is the pricing for {n} units.",
                  "The offer is valid until the end of {month}.",
                  "Let me know if you need a different payment schedule."],
        "meeting": ["could we set up a short call next {weekday}?",
                    "I'd like to walk you through the rollout plan.",
                    "Would 10:30 or 14:00 work for you?",
                    "I can also come to your office in {city}."],
        "contract": ["our legal team has reviewed the draft.",
                     "We have a few comments on clause 7 (liability).",
                     "Could you send the signed copy by {weekday}?",
                     "The start date would be the 1st of {month}."],
        "invoice": ["we received invoice {num}, but the PO number is missing.",
                    "Could you resend it with our reference {po}?",
                    "Payment is scheduled for next week.",
                    "Please note our new billing address."],
        "question": ["quick question about {product}: does it support SSO?",
                     "How long does the onboarding usually take?",
                     "Is there an on-premise option?",
                     "Can we extend the trial by two weeks?"],
        "partnership": ["we'd like to discuss the partnership terms.",
                        "What margin do you offer resellers?",
                        "We could start with a pilot in {city}.",
                        "Please send the partner agreement draft."],
        "delivery": ["when can you deliver the {n} units?",
                     "Our warehouse in {city} needs them before {month}.",
                     "Partial delivery would be fine.",
                     "Please confirm the shipping date."],
        "reply_c": ["Thanks, that looks good.",
                    "We need to check this internally and will come back to you.",
                    "Could you lower the price a bit for {n} units?",
                    "Our CFO wants to see the total cost over three years.",
                    "{weekday} works for us.", "Please send the updated version.",
                    "Sorry for the late answer, I was travelling.",
                    "We are fine with the terms, except the payment period.",
                    "Can you include training in the offer?",
                    "I have forwarded this to our procurement team."],
        "reply_o": ["Thanks for your quick reply.", "I've attached the updated offer.",
                    "I'll check with our product team and get back to you tomorrow.",
                    "We can offer a 5% discount if you sign before the end of {month}.",
                    "I've sent a calendar invite for {weekday}.",
                    "Happy to set up a call with our technical lead.",
                    "Training is included for up to {n} users.",
                    "Just following up on my last email - any news?"],
        "ooo": "Thank you for your message. I am out of the office until {date} with limited "
               "access to email. For urgent matters please contact {company} reception.",
        "iphone": "Sent from my iPhone",
    },
    "de": {
        "greet": ["Hallo {first},", "Guten Tag {first},", "Hallo zusammen,", "Moin {first},"],
        "close": ["Viele Grüße", "Mit freundlichen Grüßen", "Beste Grüße", "VG"],
        "offer": ["anbei unser Angebot für {product}.",
                  "Wie besprochen erhalten Sie die Preise für {n} Stück.",
                  "Das Angebot ist bis Ende {month} gültig.",
                  "Bei Fragen melden Sie sich gern jederzeit."],
        "meeting": ["können wir nächste Woche {weekday} kurz telefonieren?",
                    "Ich würde Ihnen gern den Rollout-Plan vorstellen.",
                    "Passt Ihnen 10:30 Uhr oder 14:00 Uhr?",
                    "Gern komme ich auch zu Ihnen nach {city}."],
        "contract": ["unsere Rechtsabteilung hat den Entwurf geprüft.",
                     "Zu Paragraph 7 (Haftung) haben wir noch Anmerkungen.",
                     "Könnten Sie uns das unterschriebene Exemplar bis {weekday} schicken?",
                     "Vertragsbeginn wäre der 1. {month}."],
        "invoice": ["wir haben die Rechnung {num} erhalten, aber die Bestellnummer fehlt.",
                    "Könnten Sie sie mit unserer Referenz {po} erneut senden?",
                    "Die Zahlung ist für nächste Woche eingeplant.",
                    "Bitte beachten Sie unsere neue Rechnungsadresse."],
        "question": ["kurze Frage zu {product}: wird Single Sign-On unterstützt?",
                     "Wie lange dauert die Einführung normalerweise?",
                     "Gibt es auch eine On-Premise-Variante?",
                     "Können wir die Testphase um zwei Wochen verlängern?"],
        "partnership": ["wir würden gern über die Partnerkonditionen sprechen.",
                        "Welche Marge bieten Sie Wiederverkäufern?",
                        "Wir könnten mit einem Pilotprojekt in {city} starten.",
                        "Bitte schicken Sie uns den Entwurf des Partnervertrags."],
        "delivery": ["wann können Sie die {n} Geräte liefern?",
                     "Unser Lager in {city} braucht sie vor {month}.",
                     "Eine Teillieferung wäre in Ordnung.",
                     "Bitte bestätigen Sie den Liefertermin."],
        "reply_c": ["Danke, das sieht gut aus.",
                    "Wir müssen das intern abstimmen und melden uns.",
                    "Ist beim Preis für {n} Stück noch etwas möglich?",
                    "Unser Geschäftsführer möchte die Gesamtkosten über drei Jahre sehen.",
                    "{weekday} passt uns gut.", "Bitte schicken Sie uns die aktualisierte Version.",
                    "Entschuldigung für die späte Antwort, ich war auf Dienstreise.",
                    "Mit den Bedingungen sind wir einverstanden, bis auf das Zahlungsziel.",
                    "Können Sie die Schulung mit ins Angebot aufnehmen?",
                    "Ich habe das an unseren Einkauf weitergeleitet."],
        "reply_o": ["Vielen Dank für Ihre schnelle Rückmeldung.",
                    "Anbei das aktualisierte Angebot.",
                    "Ich kläre das mit unserem Produktteam und melde mich morgen.",
                    "Bei Unterschrift bis Ende {month} können wir 5 % Rabatt anbieten.",
                    "Ich habe Ihnen eine Einladung für {weekday} geschickt.",
                    "Gern organisiere ich einen Termin mit unserem Techniker.",
                    "Die Schulung ist für bis zu {n} Nutzer enthalten.",
                    "Ich wollte kurz nachhaken – gibt es schon Neuigkeiten?"],
        "ooo": "Vielen Dank für Ihre Nachricht. Ich bin bis {date} nicht im Büro und habe nur "
               "eingeschränkten Zugriff auf E-Mails. In dringenden Fällen wenden Sie sich bitte "
               "an die Zentrale der {company}.",
        "iphone": "Von meinem iPhone gesendet",
    },
    "fr": {
        "greet": ["Bonjour {first},", "Bonjour,", "Madame, Monsieur,", "Bonsoir {first},"],
        "close": ["Cordialement,", "Bien cordialement,", "Bonne journée,", "Merci d'avance,"],
        "offer": ["veuillez trouver ci-joint notre devis pour {product}.",
                  "Comme convenu, voici nos tarifs pour {n} unités.",
                  "L'offre est valable jusqu'à fin {month}.",
                  "N'hésitez pas à revenir vers moi pour toute question."],
        "meeting": ["pourrions-nous prévoir un court appel {weekday} prochain ?",
                    "J'aimerais vous présenter le planning de déploiement.",
                    "Est-ce que 10h30 ou 14h00 vous conviendrait ?",
                    "Je peux aussi passer dans vos bureaux à {city}."],
        "contract": ["notre service juridique a relu le projet de contrat.",
                     "Nous avons quelques remarques sur l'article 7 (responsabilité).",
                     "Pourriez-vous nous renvoyer l'exemplaire signé d'ici {weekday} ?",
                     "Le contrat débuterait le 1er {month}."],
        "invoice": ["nous avons bien reçu la facture {num}, mais le numéro de commande manque.",
                    "Pourriez-vous la renvoyer avec notre référence {po} ?",
                    "Le paiement est prévu la semaine prochaine.",
                    "Merci de noter notre nouvelle adresse de facturation."],
        "question": ["petite question sur {product} : le SSO est-il pris en charge ?",
                     "Combien de temps dure la mise en place en général ?",
                     "Existe-t-il une version sur site ?",
                     "Peut-on prolonger l'essai de deux semaines ?"],
        "partnership": ["nous souhaiterions discuter des conditions de partenariat.",
                        "Quelle marge proposez-vous aux revendeurs ?",
                        "Nous pourrions commencer par un pilote à {city}.",
                        "Merci de nous envoyer le projet d'accord partenaire."],
        "delivery": ["quand pouvez-vous livrer les {n} appareils ?",
                     "Notre entrepôt de {city} en a besoin avant {month}.",
                     "Une livraison partielle nous irait.",
                     "Merci de confirmer la date d'expédition."],
        "reply_c": ["Merci, cela nous convient.",
                    "Nous devons en discuter en interne et revenons vers vous.",
                    "Une remise est-elle possible pour {n} unités ?",
                    "Notre directeur financier souhaite voir le coût total sur trois ans.",
                    "{weekday} nous convient.", "Pouvez-vous nous envoyer la version mise à jour ?",
                    "Désolé pour le retard, j'étais en déplacement.",
                    "Les conditions nous conviennent, sauf le délai de paiement.",
                    "Pouvez-vous inclure la formation dans l'offre ?",
                    "J'ai transmis à notre service achats."],
        "reply_o": ["Merci pour votre retour rapide.",
                    "Vous trouverez ci-joint le devis mis à jour.",
                    "Je vérifie avec notre équipe produit et je reviens vers vous demain.",
                    "Nous pouvons proposer 5 % de remise pour une signature avant fin {month}.",
                    "Je vous ai envoyé une invitation pour {weekday}.",
                    "Je peux organiser un appel avec notre responsable technique.",
                    "La formation est incluse jusqu'à {n} utilisateurs.",
                    "Je me permets de revenir vers vous – avez-vous des nouvelles ?"],
        "ooo": "Merci pour votre message. Je suis absent(e) jusqu'au {date} avec un accès limité "
               "à mes e-mails. En cas d'urgence, merci de contacter l'accueil de {company}.",
        "iphone": "Envoyé de mon iPhone",
    },
    "es": {
        "greet": ["Hola {first},", "Buenos días, {first}:", "Estimado/a {first}:", "Hola:"],
        "close": ["Un saludo,", "Saludos cordiales,", "Gracias,", "Atentamente,"],
        "offer": ["adjunto nuestra propuesta para {product}.",
                  "Como acordamos, le envío los precios para {n} unidades.",
                  "La oferta es válida hasta finales de {month}.",
                  "Quedo a su disposición para cualquier duda."],
        "meeting": ["¿podríamos tener una llamada breve el próximo {weekday}?",
                    "Me gustaría presentarle el plan de implantación.",
                    "¿Le vendría bien a las 10:30 o a las 14:00?",
                    "También puedo ir a su oficina en {city}."],
        "contract": ["nuestro departamento jurídico ha revisado el borrador.",
                     "Tenemos algunos comentarios sobre la cláusula 7 (responsabilidad).",
                     "¿Podría enviarnos la copia firmada antes del {weekday}?",
                     "El contrato empezaría el 1 de {month}."],
        "invoice": ["hemos recibido la factura {num}, pero falta el número de pedido.",
                    "¿Podría reenviarla con nuestra referencia {po}?",
                    "El pago está previsto para la semana que viene.",
                    "Tenga en cuenta nuestra nueva dirección de facturación."],
        "question": ["una pregunta rápida sobre {product}: ¿admite inicio de sesión único?",
                     "¿Cuánto suele durar la implantación?", "¿Existe una versión local?",
                     "¿Podemos ampliar la prueba dos semanas?"],
        "partnership": ["nos gustaría hablar de las condiciones de colaboración.",
                        "¿Qué margen ofrecen a los distribuidores?",
                        "Podríamos empezar con un piloto en {city}.",
                        "Envíenos el borrador del acuerdo de socio, por favor."],
        "delivery": ["¿cuándo pueden entregar las {n} unidades?",
                     "Nuestro almacén de {city} las necesita antes de {month}.",
                     "Una entrega parcial nos serviría.",
                     "Por favor, confirme la fecha de envío."],
        "reply_c": ["Gracias, nos parece bien.",
                    "Tenemos que revisarlo internamente y le contestamos.",
                    "¿Sería posible mejorar el precio para {n} unidades?",
                    "Nuestro director financiero quiere ver el coste total a tres años.",
                    "El {weekday} nos va bien.", "Envíenos la versión actualizada, por favor.",
                    "Perdone el retraso, estaba de viaje.",
                    "Estamos de acuerdo con las condiciones, salvo el plazo de pago.",
                    "¿Pueden incluir la formación en la oferta?",
                    "Lo he reenviado a nuestro departamento de compras."],
        "reply_o": ["Gracias por su rápida respuesta.", "Adjunto la oferta actualizada.",
                    "Lo consulto con nuestro equipo de producto y le digo algo mañana.",
                    "Podemos ofrecer un 5 % de descuento si firman antes de finales de {month}.",
                    "Le he enviado una invitación para el {weekday}.",
                    "Con gusto organizo una llamada con nuestro responsable técnico.",
                    "La formación está incluida para hasta {n} usuarios.",
                    "Le escribo para hacer seguimiento – ¿hay novedades?"],
        "ooo": "Gracias por su mensaje. Estaré fuera de la oficina hasta el {date} con acceso "
               "limitado al correo. Para asuntos urgentes, contacte con la recepción de {company}.",
        "iphone": "Enviado desde mi iPhone",
    },
    "pl": {
        "greet": ["Dzień dobry,", "Witam,", "Dzień dobry Panie {first},", "Cześć {first},"],
        "close": ["Pozdrawiam,", "Z poważaniem,", "Serdecznie pozdrawiam,", "Dziękuję,"],
        "offer": ["w załączeniu przesyłam ofertę na {product}.",
                  "Zgodnie z ustaleniami przesyłam ceny dla {n} sztuk.",
                  "Oferta jest ważna do końca miesiąca.",
                  "W razie pytań proszę o kontakt."],
        "meeting": ["czy możemy umówić krótką rozmowę w przyszłym tygodniu?",
                    "Chciałbym przedstawić plan wdrożenia.",
                    "Czy pasuje Panu godzina 10:30 lub 14:00?",
                    "Mogę też przyjechać do Państwa biura."],
        "contract": ["nasz dział prawny przejrzał projekt umowy.",
                     "Mamy kilka uwag do paragrafu 7 (odpowiedzialność).",
                     "Czy mogą Państwo odesłać podpisany egzemplarz do końca tygodnia?",
                     "Umowa zaczęłaby obowiązywać od 1 {month}."],
        "invoice": ["otrzymaliśmy fakturę {num}, ale brakuje numeru zamówienia.",
                    "Czy mogą Państwo przesłać ją ponownie z naszym numerem {po}?",
                    "Płatność jest zaplanowana na przyszły tydzień.",
                    "Prosimy o uwzględnienie nowego adresu do faktur."],
        "question": ["krótkie pytanie o {product}: czy obsługuje logowanie SSO?",
                     "Ile zwykle trwa wdrożenie?", "Czy jest wersja instalowana lokalnie?",
                     "Czy możemy przedłużyć okres testowy o dwa tygodnie?"],
        "partnership": ["chcielibyśmy omówić warunki współpracy partnerskiej.",
                        "Jaką marżę oferują Państwo resellerom?",
                        "Moglibyśmy zacząć od pilotażu.",
                        "Proszę o przesłanie projektu umowy partnerskiej."],
        "delivery": ["kiedy mogą Państwo dostarczyć {n} urządzeń?",
                     "Nasz magazyn potrzebuje ich przed końcem miesiąca.",
                     "Dostawa częściowa jest w porządku.",
                     "Proszę o potwierdzenie terminu wysyłki."],
        "reply_c": ["Dziękuję, wygląda dobrze.",
                    "Musimy to omówić wewnętrznie, wrócimy z odpowiedzią.",
                    "Czy możliwa jest niższa cena przy {n} sztukach?",
                    "Nasz dyrektor finansowy chce zobaczyć całkowity koszt w ciągu trzech lat.",
                    "Termin nam pasuje.", "Proszę o przesłanie zaktualizowanej wersji.",
                    "Przepraszam za późną odpowiedź, byłem w podróży.",
                    "Warunki są w porządku, poza terminem płatności.",
                    "Czy mogą Państwo uwzględnić szkolenie w ofercie?",
                    "Przekazałem to do naszego działu zakupów."],
        "reply_o": ["Dziękuję za szybką odpowiedź.", "W załączeniu zaktualizowana oferta.",
                    "Sprawdzę to z zespołem produktowym i odezwę się jutro.",
                    "Przy podpisaniu do końca miesiąca możemy zaoferować 5% rabatu.",
                    "Wysłałem zaproszenie na spotkanie.",
                    "Chętnie zorganizuję rozmowę z naszym specjalistą technicznym.",
                    "Szkolenie jest wliczone dla maksymalnie {n} użytkowników.",
                    "Uprzejmie przypominam o mojej poprzedniej wiadomości – czy są jakieś "
                    "nowości?"],
        "ooo": "Dziękuję za wiadomość. Jestem poza biurem do {date} z ograniczonym dostępem "
               "do poczty. W pilnych sprawach proszę kontaktować się z recepcją {company}.",
        "iphone": "Wysłane z iPhone'a",
    },
}
INTERNAL_TEXT = {
    "open": ["Can you review the discount for {company} before I send it?",
             "The pipeline review moved to {weekday} 9:00.",
             "Who covers my accounts while I'm on holiday?", "Forecast for Q2 attached.",
             "Finance needs the signed PO for {company}.",
             "Can someone join the demo on {weekday}?",
             "Please update the CRM stages before Friday."],
    "reply": ["Looks fine to me.", "Approved up to 10 %.", "I can cover, send me the list.",
              "Thanks, noted.", "I'll join.", "Let's discuss it in the team meeting.",
              "Done, updated."],
}
# First messages written by our side on topics the customer usually opens, and a customer's
# request for an offer.
OURS_FIRST = {
    "en": {"invoice": ["please find attached invoice {num} for PO {po}.",
                       "Payment terms are 30 days net.",
                       "Let me know if you need it addressed differently."],
           "question": ["I wanted to check whether you had any questions about {product}.",
                        "Happy to arrange a short demo for your team.",
                        "We also have a new SSO option that might interest you."],
           "partnership": ["I'd like to discuss the partnership terms for next year.",
                           "We can offer resellers a tiered margin.",
                           "Could we start with a pilot in {city}?"],
           "delivery": ["your {n} units are ready for shipping.",
                        "Could you confirm the delivery address in {city}?",
                        "Partial delivery is possible if needed."]},
    "de": {"invoice": ["anbei die Rechnung {num} zu Ihrer Bestellung {po}.",
                       "Das Zahlungsziel beträgt 30 Tage netto.",
                       "Bitte geben Sie Bescheid, falls Sie eine andere Rechnungsadresse "
                       "benötigen."],
           "question": ["ich wollte nachfragen, ob Sie noch Fragen zu {product} haben.",
                        "Gern zeige ich Ihrem Team das System in einer kurzen Demo.",
                        "Wir bieten jetzt auch Single Sign-On an."],
           "partnership": ["ich würde gern über die Partnerkonditionen für nächstes Jahr "
                           "sprechen.", "Für Wiederverkäufer bieten wir eine gestaffelte Marge.",
                           "Wollen wir mit einem Pilotprojekt in {city} starten?"],
           "delivery": ["Ihre {n} Geräte sind versandbereit.",
                        "Können Sie uns die Lieferadresse in {city} bestätigen?",
                        "Eine Teillieferung ist bei Bedarf möglich."]},
    "fr": {"invoice": ["veuillez trouver ci-joint la facture {num} relative à votre commande "
                       "{po}.", "Le délai de paiement est de 30 jours net.",
                       "N'hésitez pas à me dire s'il faut modifier l'adresse de facturation."],
           "question": ["je voulais savoir si vous aviez des questions sur {product}.",
                        "Je peux organiser une courte démonstration pour votre équipe.",
                        "Nous proposons désormais aussi le SSO."],
           "partnership": ["j'aimerais discuter des conditions de partenariat pour l'année "
                           "prochaine.", "Nous proposons une marge progressive aux revendeurs.",
                           "Pourrions-nous commencer par un pilote à {city} ?"],
           "delivery": ["vos {n} appareils sont prêts à être expédiés.",
                        "Pouvez-vous confirmer l'adresse de livraison à {city} ?",
                        "Une livraison partielle est possible si besoin."]},
    "es": {"invoice": ["adjunto la factura {num} correspondiente a su pedido {po}.",
                       "El plazo de pago es de 30 días.",
                       "Avíseme si necesita otra dirección de facturación."],
           "question": ["quería saber si tiene alguna pregunta sobre {product}.",
                        "Puedo organizar una breve demostración para su equipo.",
                        "Ahora también ofrecemos inicio de sesión único."],
           "partnership": ["me gustaría hablar de las condiciones de colaboración para el "
                           "próximo año.", "Ofrecemos a los distribuidores un margen escalonado.",
                           "¿Empezamos con un piloto en {city}?"],
           "delivery": ["sus {n} unidades están listas para el envío.",
                        "¿Puede confirmar la dirección de entrega en {city}?",
                        "Si lo necesitan, es posible una entrega parcial."]},
    "pl": {"invoice": ["w załączeniu przesyłam fakturę {num} do zamówienia {po}.",
                       "Termin płatności wynosi 30 dni.",
                       "Proszę dać znać, jeśli potrzebny jest inny adres do faktury."],
           "question": ["chciałem zapytać, czy mają Państwo pytania dotyczące {product}.",
                        "Chętnie zorganizuję krótką prezentację dla Państwa zespołu.",
                        "Oferujemy teraz także logowanie SSO."],
           "partnership": ["chciałbym omówić warunki współpracy partnerskiej na przyszły rok.",
                           "Resellerom oferujemy marżę progową.",
                           "Czy możemy zacząć od pilotażu?"],
           "delivery": ["Państwa {n} urządzeń jest gotowych do wysyłki.",
                        "Czy mogą Państwo potwierdzić adres dostawy?",
                        "W razie potrzeby możliwa jest dostawa częściowa."]},
}
CUST_OFFER = {
    "en": ["could you send us an offer for {n} units of {product}?",
           "We would need it before the end of {month}.",
           "Please include installation and support."],
    "de": ["könnten Sie uns ein Angebot über {n} Stück {product} schicken?",
           "Wir bräuchten es bis Ende {month}.", "Bitte Installation und Support mit aufnehmen."],
    "fr": ["pourriez-vous nous envoyer un devis pour {n} unités de {product} ?",
           "Nous en aurions besoin avant fin {month}.",
           "Merci d'inclure l'installation et le support."],
    "es": ["¿podrían enviarnos una oferta para {n} unidades de {product}?",
           "La necesitaríamos antes de finales de {month}.",
           "Por favor, incluyan instalación y soporte."],
    "pl": ["czy mogą Państwo przesłać ofertę na {n} szt. {product}?",
           "Potrzebujemy jej do końca miesiąca.", "Proszę uwzględnić instalację i wsparcie."],
}
OUTLOOK_SENT = {
    "en": "{Wd}, {Mon} {d}, {Y} {h12}:{M} {ampm}",
    "de": "{wd_l}, {d}. {mon_l} {Y} {H}:{M}",
    "fr": "{wd_l} {d} {mon_l} {Y} {H}:{M}",
    "es": "{wd_l}, {d} de {mon_l} de {Y} {H}:{M}",
    "pl": "{wd_l}, {d} {mon_l} {Y} {H}:{M}",
}
GREET0 = {"en": "Hello,", "de": "Guten Tag,", "fr": "Bonjour,", "es": "Hola:",
          "pl": "Dzień dobry,"}
REPLY_PREFIX_OUTLOOK = {"en": "RE: ", "de": "AW: ", "fr": "RE : ", "es": "RE: ", "pl": "ODP: ",
                        "nl": "Antw: ", "sv": "SV: "}
FWD_PREFIX_OUTLOOK = {"en": "FW: ", "de": "WG: ", "fr": "TR : ", "es": "RV: ", "pl": "PD: ",
                      "nl": "Doorst: ", "sv": "VB: "}
AUTO_PREFIX = {"en": "Automatic reply: ", "de": "Automatische Antwort: ",
               "fr": "Réponse automatique : ", "es": "Respuesta automática: ",
               "pl": "Automatyczna odpowiedź: ", "nl": "Automatisch antwoord: ",
               "sv": "Automatiskt svar: "}
PREFIX_RE = re.compile(r"^\s*((re|aw|sv|antw|odp|fwd?|wg|tr|rv|pd|vb|doorst|automatic reply|"
                       r"automatische antwort)\s*(\[\d+\])?\s*:\s*)+", re.I)

OUTLOOK_SERVERS = {"eu": ["DB7PR", "AM0PR", "VI1PR", "PA4PR", "DU0PR", "GV1PR", "AS8PR"],
                   "de": ["FR3P281", "BE1P281", "FR2P281"],
                   "us": ["BN6PR", "SN7PR", "CH3PR", "MW4PR", "BY5PR"]}
GMAIL_ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+="
HEX = "0123456789abcdef"

QUOTE_HDR_GMAIL = {
    "en": "On {wd3}, {mon3} {d}, {Y} at {h12}:{M} {ampm} {name} <{email}> wrote:",
    "de": "Am {wd_l}, {d}. {mon_l} {Y} um {H}:{M} Uhr schrieb {name} <{email}>:",
    "fr": "Le {wd_l} {d} {mon_l} {Y} à {H}:{M}, {name} <{email}> a écrit :",
    "es": "El {wd_l}, {d} {mon_l} {Y} a las {H}:{M}, {name} (<{email}>) escribió:",
    "pl": "{wd_l}, {d} {mon_l} {Y} o {H}:{M} {name} <{email}> napisał(a):",
    "nl": "Op {d}-{m}-{Y} om {H}:{M} schreef {name} <{email}>:",
    "sv": "Den {Y}-{m}-{dd} kl. {H}:{M} skrev {name} <{email}>:",
}
QUOTE_HDR_TB = {
    "en": "On {dd}/{m}/{Y} {H}:{M}, {name} wrote:",
    "de": "Am {dd}.{m}.{Y} um {H}:{M} schrieb {name}:",
    "fr": "Le {dd}/{m}/{Y} à {H}:{M}, {name} a écrit :",
    "es": "El {dd}/{m}/{Y} a las {H}:{M}, {name} escribió:",
    "pl": "W dniu {dd}.{m}.{Y} o {H}:{M}, {name} pisze:",
    "nl": "Op {dd}-{m}-{Y} om {H}:{M} schreef {name}:",
    "sv": "Den {Y}-{m}-{dd} kl. {H}:{M}, skrev {name}:",
}
OUTLOOK_BLOCK = {
    "en": ("-----Original Message-----", "From", "Sent", "To", "Subject"),
    "de": ("-----Ursprüngliche Nachricht-----", "Von", "Gesendet", "An", "Betreff"),
    "fr": ("-----Message d'origine-----", "De", "Envoyé", "À", "Objet"),
    "es": ("-----Mensaje original-----", "De", "Enviado el", "Para", "Asunto"),
    "pl": ("-----Wiadomość oryginalna-----", "Od", "Wysłano", "Do", "Temat"),
    "nl": ("-----Oorspronkelijk bericht-----", "Van", "Verzonden", "Aan", "Onderwerp"),
    "sv": ("-----Ursprungligt meddelande-----", "Från", "Skickat", "Till", "Ämne"),
}


def text_lang(lang):
    return lang if lang in TEXT else "en"


def slug(s):
    s = s.replace("ß", "ss").replace("ł", "l").replace("Ł", "L")
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue")):
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def ascii_fold(s):
    s = unicodedata.normalize("NFKD", s.replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in s if not unicodedata.combining(c) and c.isascii())


def norm_subject(s):
    return PREFIX_RE.sub("", s).strip()


class Person:
    def __init__(self, **kw):
        self.kind = "contact"
        self.user_id = None
        self.contact_id = None
        self.customer = None
        self.emails = []
        self.display = None
        self.iphone = False
        self.sig_dash = True
        self.trims = False
        self.__dict__.update(kw)
        if self.display is None:
            self.display = self.name

    @property
    def ours(self):
        return self.email.endswith("@" + OUR_DOMAIN)


class Customer:
    """A company of the CRM, or a free-mail contact without a company."""

    def __init__(self, **kw):
        self.contacts = []
        self.open_deals = []
        self.domains = []
        self.partner = False
        self.free = False
        self.company_id = None
        self.__dict__.update(kw)


class Deal:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Conv:
    def __init__(self, label, kind, deal, lang, tags):
        self.label, self.kind, self.deal, self.lang = label, kind, deal, lang
        self.tags = list(tags)
        self.msgs = []
        self.ctx = {}
        self.base = ""
        self.topic = "offer"


class Msg:
    __slots__ = ("seq", "conv", "parent", "sender", "to", "cc", "date", "subject", "mid",
                 "refs", "irt", "irt_ids", "ti", "topic_hdr", "tags", "lines", "extra",
                 "attach", "html", "auto", "fwd_of", "trimmed", "recv", "newdir")


class Gen:
    def __init__(self, seed, count):
        self.rng = random.Random(seed)
        self.seed = seed
        self.count = count
        self.msgs = []
        self.convs = []
        self.mids = set()
        self.guard = {}
        self.next_contact = 1000
        self.next_deal = 5000
        self.ext_convs = []

    # ------------------------------------------------------------------ world
    def person_name(self, lang):
        r = self.rng
        return r.choice(FIRST[lang]), r.choice(LAST[lang])

    def tz_for(self, lang):
        r = self.rng
        if lang == "en":
            return r.choice([(0, "eu"), (0, "eu"), (-300, "us"), (-360, "us"), (-480, "us")])
        return (60, "eu")

    def outlook_host(self, region):
        r = self.rng
        pre = r.choice(OUTLOOK_SERVERS[region])
        host = f"{pre}{r.randint(1, 10):02d}MB{r.randint(1000, 9999)}"
        reg = {"eu": f"eurprd{r.randint(1, 10):02d}", "de": "DEUP281",
               "us": f"namprd{r.randint(1, 19):02d}"}[region]
        return host, reg

    def make_person(self, first, last, email, lang, client, kind="contact", title=None,
                    org="", **kw):
        r = self.rng
        tz = kw.pop("tz", None) or self.tz_for(lang)
        p = Person(name=f"{first} {last}", first=first, email=email, lang=lang, client=client,
                   tz=tz, title=title or r.choice(TITLES[text_lang(lang)]), org=org, kind=kind,
                   phone=PHONE_PREFIX.get(lang, "+1 312 555 ") + f"{r.randint(1000, 9999)}",
                   **kw)
        p.emails = [email]
        if client in ("o365", "exchange"):
            region = "us" if tz[1] == "us" else ("de" if lang == "de" and r.random() < 0.4
                                                 else "eu")
            p.mid_host, p.mid_region = self.outlook_host(region)
            if lang in ("de", "nl") and r.random() < 0.3:
                p.display = f"{last}, {first}"
            p.sig_dash = False
            charset = "iso-8859-1" if lang in ("de", "fr", "es", "nl", "sv") and \
                r.random() < 0.4 else "utf-8"
            if lang == "pl" and r.random() < 0.4:
                charset = "iso-8859-2"
            p.charset = charset
        else:
            p.mid_host, p.mid_region = f"mail{r.randint(1, 9)}", ""
            p.charset = "utf-8"
            if client == "legacy":
                p.charset = "iso-8859-2" if lang == "pl" else "iso-8859-15"
                p.mid_host = r.choice(["pc", "ws", "lab"]) + str(r.randint(10, 99))
            p.sig_dash = client != "apple" or r.random() < 0.5
        p.iphone = client == "apple" and r.random() < 0.5
        p.trims = client in ("thunderbird", "gmail", "apple") and r.random() < 0.6
        return p

    def email_for(self, first, last, domain, style):
        f, l = slug(first).replace("-", ""), slug(last).replace("-", "")
        return {0: f"{f}.{l}", 1: f"{f[0]}.{l}", 2: f"{f}", 3: f"{f[0]}{l}"}[style] + "@" + domain

    def build_world(self):
        r = self.rng
        owner = self.make_person("Sophie", "Lindqvist", "sophie.lindqvist@" + OUR_DOMAIN, "en",
                                 "o365", kind="owner", title="Account Executive",
                                 org=OUR_COMPANY, user_id=1, tz=(60, "eu"))
        owner.charset = "utf-8"
        owner.phone = "+49 40 5550 1734"
        owner.display = owner.name
        self.owner = owner
        col_specs = [("Daniel", "Brooks", "salesperson", "en", "Account Executive"),
                     ("Katarzyna", "Nowak", "salesperson", "pl", "Account Executive CEE"),
                     ("Étienne", "Moreau", "salesperson", "fr", "Account Executive France"),
                     ("Laura", "Fischer", "salesperson", "de", "Sales Engineer"),
                     ("Miguel", "Ortega", "salesperson", "es", "Account Executive Iberia"),
                     ("Priya", "Raman", "admin", "en", "Sales Operations"),
                     ("Tom", "Hendricks", "admin", "en", "Finance & Billing")]
        self.colleagues = []
        for i, (fi, la, role, lang, title) in enumerate(col_specs):
            email = f"{slug(fi)}.{slug(la)}@{OUR_DOMAIN}"
            p = self.make_person(fi, la, email, lang, r.choice(["o365", "o365", "apple"]),
                                 kind="colleague", title=title, org=OUR_COMPANY, user_id=i + 2,
                                 role=role, tz=(60, "eu"))
            p.display = p.name
            self.colleagues.append(p)
        self.sales_col = {c.lang: c for c in self.colleagues if c.role == "salesperson"}
        self.team = Person(name="Northwind Sales", first="Sales", email=TEAM_ADDR, lang="en",
                           client="o365", tz=(60, "eu"), kind="team", title="", org="",
                           phone="")

        n_comp = max(40, min(360, round(self.count / 75)))
        self.customers = []
        used_names, used_domains = set(), set()
        langs = [l for l, w in LANG_WEIGHTS for _ in range(w)]
        n_partner = max(3, n_comp // 10)
        cid = 100
        for i in range(n_comp):
            lang = langs[(i * 37 + r.randrange(len(langs))) % len(langs)] if i >= 7 else \
                [l for l, _ in LANG_WEIGHTS][i]
            partner = i >= n_comp - n_partner
            for _ in range(200):
                stem = r.choice(COMPANY_STEMS[lang])
                inds, legals = COMPANY_FORMS[lang]
                ind = PARTNER_FORMS[lang] if partner else r.choice(inds)
                name = f"{stem} {ind} {r.choice(legals)}"
                dom = f"{slug(stem)}-{slug(ind)}.example"
                if name not in used_names and dom not in used_domains:
                    break
            else:
                dom = f"{slug(stem)}-{slug(ind)}-{i}.example"
                name = f"{name} {i}"
            used_names.add(name)
            used_domains.add(dom)
            domains = [dom]
            if r.random() < 0.2:
                d2 = r.choice([f"{slug(stem)}-group.example", f"{slug(stem)}-{lang}.example",
                               f"{slug(stem)}.{lang}.example"])
                if d2 not in used_domains:
                    used_domains.add(d2)
                    domains.append(d2)
            sysr = r.random()
            client = ("o365" if sysr < 0.42 else "gmail" if sysr < 0.65 else "thunderbird"
                      if sysr < 0.76 else "apple" if sysr < 0.86 else "exchange" if sysr < 0.95
                      else "legacy")
            c = Customer(key=f"co{cid}", company_id=cid, name=name, lang=lang, domains=domains,
                         partner=partner, client=client)
            cid += 1
            style = r.randrange(4)
            for _k in range(r.choices([1, 2, 3, 4, 5], [22, 30, 25, 13, 10])[0]):
                self.add_contact(c, style)
            self.customers.append(c)
        # categories
        regular = [c for c in self.customers if not c.partner]
        cats = []
        for i, c in enumerate(regular):
            x = r.random()
            cat = "multi" if (i in (1, 6) or (i > 8 and x < 0.14)) else \
                "none" if (i in (2, 9) or (i > 9 and x > 0.83)) else "single"
            cats.append(cat)
        for c, cat in zip(regular, cats):
            self.make_deals(c, cat)
        for c in self.customers:
            if c.partner:
                self.make_deals(c, "partner")
        # legacy mail clients (RFC 822 In-Reply-To): one technical contact at two companies
        for c in [c for c in regular if c.cat == "single"][2:4]:
            self.retarget_client(c.contacts[-1], "legacy")
        # free-mail customers
        n_free = max(14, n_comp // 3)
        self.free = []
        for i in range(n_free):
            lang = "en" if i < 3 else r.choice([l for l, w in LANG_WEIGHTS for _ in range(w)])
            fi, la = self.person_name(lang)
            dom = "gmail.com" if i < 4 else r.choice(FREEMAIL_DOMAINS[lang])
            local = r.choice([f"{slug(fi)}.{slug(la)}", f"{slug(fi)}{slug(la)}{r.randint(70, 99)}",
                              f"{slug(fi)[0]}{slug(la)}.{r.choice(['work', 'biz', 'pro'])}"])
            local = local.replace("-", "")
            c = Customer(key=f"free{i}", name=f"{fi} {la}", lang=lang, free=True, client="gmail")
            client = "gmail" if dom == "gmail.com" else r.choice(["apple", "thunderbird", "gmail"])
            p = self.make_person(fi, la, f"{local}@{dom}", lang, client, org="")
            p.contact_id = self.next_contact
            self.next_contact += 1
            p.customer = c
            c.contacts.append(p)
            cat = "single" if i < 4 else ("multi" if i == 5 else "none" if i in (6, 11) else
                                          r.choices(["single", "multi", "none"], [80, 7, 13])[0])
            self.make_deals(c, cat)
            self.free.append(c)
        self.all_customers = self.customers + self.free
        # private free-mail aliases of a few company contacts
        for c in self.customers:
            for p in c.contacts:
                if r.random() < 0.06:
                    dom = r.choice(FREEMAIL_DOMAINS[p.lang])
                    p.emails.append(f"{slug(p.first)}.{slug(p.name.split(' ', 1)[1])}"
                                    f"{r.randint(1, 99)}@{dom}".replace("-", ""))

    @property
    def crm_emails(self):
        if not hasattr(self, "_crm_emails"):
            self._crm_emails = {e for c in self.all_customers for p in c.contacts
                                for e in p.emails}
        return self._crm_emails

    def retarget_client(self, p, client):
        p.client = client
        p.charset = "iso-8859-2" if p.lang == "pl" else "iso-8859-15"
        p.mid_host = self.rng.choice(["pc", "ws", "lab"]) + str(self.rng.randint(10, 99))
        p.sig_dash, p.iphone, p.trims = True, False, False

    def add_contact(self, c, style):
        r = self.rng
        for _ in range(50):
            fi, la = self.person_name(c.lang)
            dom = c.domains[-1] if len(c.domains) > 1 and r.random() < 0.3 else c.domains[0]
            email = self.email_for(fi, la, dom, style)
            if all(email not in q.emails for q in c.contacts):
                break
        client = c.client if r.random() < 0.85 else r.choice(["apple", "o365", "gmail"])
        if client == "gmail" and c.client != "gmail":
            client = "apple"   # a company address is not sent through gmail.com
        p = self.make_person(fi, la, email, c.lang, client, org=c.name)
        p.contact_id = self.next_contact
        self.next_contact += 1
        p.customer = c
        if len(c.domains) > 1 and r.random() < 0.3:
            other = c.domains[1] if dom == c.domains[0] else c.domains[0]
            p.emails.append(email.split("@")[0] + "@" + other)
        c.contacts.append(p)
        return p

    def deal_name(self, lang, used):
        r = self.rng
        tl = lang if lang in DEAL_NAMES else "en"
        for _ in range(100):
            t = r.choice(DEAL_NAMES[tl])
            name = t.format(y=r.choice([2026, 2027]), city=r.choice(CITIES[tl]),
                            tier=r.choice(["Gold", "Platinum"]), k=r.randint(1, 3))
            if all(name not in u and u not in name for u in used):
                return name
        return f"{name} {len(used) + 1}"

    def new_deal(self, c, name, status, stage, contacts, owner_id):
        r = self.rng
        d = Deal(id=self.next_deal, name=name, customer=c, status=status, stage=stage,
                 contacts=contacts, owner_id=owner_id,
                 value=f"{r.randint(3, 400) * 250}.00" if r.random() < 0.5 else
                 str(r.randint(3, 400) * 250), currency=CURRENCY[c.lang])
        self.next_deal += 1
        self.deals.append(d)
        return d

    def make_deals(self, c, cat):
        r = self.rng
        if not hasattr(self, "deals"):
            self.deals = []
        col = self.sales_col.get(c.lang, self.colleagues[0])
        owner_id = 1 if r.random() < 0.72 else col.user_id
        if r.random() < 0.5 or cat == "none":
            for _ in range(r.randint(1, 2)):
                self.new_deal(c, r.choice(OLD_DEALS), r.choice(["won", "lost"]),
                              "closed", c.contacts[:1], r.choice([1, col.user_id]))
        if cat == "partner":
            d = self.new_deal(c, PARTNER_DEAL.get(c.lang, PARTNER_DEAL["en"]), "open",
                              r.choice(OPEN_STAGES), c.contacts[:2], owner_id)
            c.open_deals.append(d)
        elif cat == "single":
            k = 1 if len(c.contacts) == 1 else r.randint(1, 2)
            d = self.new_deal(c, self.deal_name(c.lang, []), "open", r.choice(OPEN_STAGES),
                              c.contacts[:k], owner_id)
            c.open_deals.append(d)
        elif cat == "multi":
            used = []
            for _ in range(r.choice([2, 2, 3])):
                name = self.deal_name(c.lang, used)
                used.append(name)
                # one account owner for all of them: nothing but the subject tells them apart
                d = self.new_deal(c, name, "open", r.choice(OPEN_STAGES), list(c.contacts),
                                  owner_id)
                c.open_deals.append(d)
        c.cat = cat

    # ------------------------------------------------------------------ time
    def tzoff(self, p, t):
        off, rule = p.tz
        if rule == "eu" and EU_DST[0] <= t < EU_DST[1]:
            off += 60
        elif rule == "us" and US_DST[0] <= t < US_DST[1]:
            off += 60
        return off

    def shape(self, t, p):
        """Move t (UTC epoch) forward into p's working hours, most of the time."""
        r = self.rng
        if r.random() < 0.12:
            return t
        off = self.tzoff(p, t) * 60
        lt = t + off
        day, sec = divmod(lt, DAY)
        wd = (day + 3) % 7
        if wd < 5 and 7 * 3600 <= sec <= 19 * 3600:
            return t
        day += 1 if sec > 7 * 3600 else 0
        while (day + 3) % 7 >= 5:
            day += 1
        return day * DAY + 7 * 3600 + 30 * 60 + r.randint(0, 3 * 3600) - off

    def delay(self, late=False):
        r = self.rng
        if late:
            return r.randint(31 * DAY, 52 * DAY)
        x = r.random()
        if x < 0.4:
            return r.randint(8 * 60, 3 * 3600)
        if x < 0.82:
            return r.randint(3 * 3600, 2 * DAY)
        return r.randint(2 * DAY, 8 * DAY)

    def start_time(self, p):
        return self.shape(self.rng.randint(P_START, P_END - 10 * DAY), p)

    def date_header(self, p, t):
        off = 0 if p.client == "o365" else self.tzoff(p, t)
        dt = datetime.fromtimestamp(t + off * 60, timezone.utc)
        sign = "+" if off >= 0 else "-"
        day = f"{dt.day}" if p.client in ("o365", "exchange", "gmail") else f"{dt.day:02d}"
        return (f"{WD_EN[dt.weekday()]}, {day} {MON_EN[dt.month - 1]} {dt.year} "
                f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} "
                f"{sign}{abs(off) // 60:02d}{abs(off) % 60:02d}")

    # ------------------------------------------------------------------ ids
    def rhex(self, n, upper=False):
        s = "".join(self.rng.choice(HEX) for _ in range(n))
        return s.upper() if upper else s

    def make_mid(self, p, t):
        r = self.rng
        while True:
            c = p.client
            dom = p.email.split("@")[1]
            if c == "o365":
                mid = f"{p.mid_host}{self.rhex(28, True)}@{p.mid_host}.{p.mid_region}" \
                      ".prod.outlook.com"
            elif c == "exchange":
                mid = f"{self.rhex(32)}@{r.choice(['EXCH01', 'EXCH02', 'MBX1', 'SRV-MAIL'])}.{dom}"
            elif c == "gmail":
                mid = "CA" + "".join(r.choice(GMAIL_ALPHA) for _ in range(r.randint(44, 56))) + \
                      "@mail.gmail.com"
            elif c == "thunderbird":
                h = self.rhex(32)
                mid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{r.choice('89ab')}{h[17:20]}-{h[20:]}@{dom}"
            elif c == "apple":
                h = self.rhex(32, True)
                mid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}@{dom}"
            elif c == "legacy":
                dt = datetime.fromtimestamp(t, timezone.utc)
                mid = f"{dt:%Y%m%d%H%M%S}.GA{r.randint(1000, 99999)}@{p.mid_host}.{dom}"
            else:  # bulk
                dt = datetime.fromtimestamp(t, timezone.utc)
                mid = f"{dt:%Y%m%d%H%M%S}.{self.rhex(16)}.{r.randint(10000, 99999)}@" \
                      f"{p.mid_host}.{dom}"
            if mid not in self.mids:
                self.mids.add(mid)
                return mid

    def ti_root(self, t):
        ft = (t + 11644473600) * 10_000_000 + self.rng.randrange(10_000_000)
        return ft.to_bytes(8, "big")[:6] + self.rng.randbytes(16)

    def ti_child(self, parent_ti, t):
        root_ft = int.from_bytes(parent_ti[:6] + b"\0\0", "big")
        delta = max(0, (t + 11644473600) * 10_000_000 - root_ft)
        if delta < (1 << 49):
            code = (delta >> 18) & 0x7FFFFFFF
        else:
            code = 0x80000000 | ((delta >> 23) & 0x7FFFFFFF)
        return parent_ti + code.to_bytes(4, "big") + bytes([self.rng.randrange(256)])

    # ------------------------------------------------------------------ messages
    def reply_prefix(self, p):
        if p.client in ("o365", "exchange"):
            return REPLY_PREFIX_OUTLOOK.get(p.lang, "RE: ")
        return "Re: "

    def reply_subject(self, p, subj):
        pre = self.reply_prefix(p)
        m = PREFIX_RE.match(subj)
        if m:
            first = m.group(2).lower()
            if first == pre.strip(" :").lower() or self.rng.random() < 0.7:
                return subj if first == pre.strip(" :").lower() else pre + norm_subject(subj)
            return pre + subj
        return pre + subj

    def new_msg(self, conv, sender, to, cc, t, subject, parent=None, mode="new", tags=(),
                lines=None, extra=None, auto=False, fwd_of=None, trim=False):
        m = Msg()
        m.seq = len(self.msgs)
        m.conv, m.parent, m.sender, m.to, m.cc, m.date = conv, parent, sender, to, cc, t
        m.subject = subject
        m.mid = self.make_mid(sender, t)
        m.tags = list(tags)
        m.refs, m.irt, m.irt_ids, m.ti, m.trimmed = [], None, [], None, False
        m.extra = extra or []
        m.auto, m.fwd_of, m.attach, m.html = auto, fwd_of, False, False
        m.lines = lines or []
        if parent is not None and mode in ("normal", "auto"):
            base = parent.refs if parent.refs else list(parent.irt_ids)
            refs = base + [parent.mid]
            if sender.trims and len(refs) >= 5 and (trim or self.rng.random() < 0.6):
                refs = [refs[0]] + refs[-3:]
                m.trimmed = True
            elif parent.trimmed and parent.refs:
                m.trimmed = True
            m.refs = refs
            m.irt = "<" + parent.mid + ">"
            m.irt_ids = [parent.mid]
            if m.trimmed:
                m.tags.append("references_trimmed")
        elif parent is not None and mode == "rfc822":
            pd = self.date_header(parent.sender, parent.date)
            if self.rng.random() < 0.5:
                m.irt = f'Your message of "{pd}"\n\t<{parent.mid}>'
            else:
                m.irt = f'<{parent.mid}> ({ascii_fold(parent.sender.first)}\'s message of "{pd}")'
            m.irt_ids = [parent.mid]
            m.tags.append("rfc822_in_reply_to")
        if sender.client in ("o365", "exchange"):
            if parent is not None and parent.ti and mode in ("normal", "ti_only", "auto"):
                m.ti = self.ti_child(parent.ti, t)
            else:
                m.ti = self.ti_root(t)
            m.topic_hdr = norm_subject(subject)
        else:
            m.topic_hdr = None
        if mode == "ti_only":
            m.tags.append("thread_index_only")
        if mode == "subject_only":
            m.tags.append("subject_only_reply")
        incoming = sender is not self.owner
        m.recv = t + (self.rng.randint(2, 90) if incoming else 0)
        m.newdir = incoming and (self.rng.random() < 0.1 or m.recv > P_END - 10 * DAY and
                                 self.rng.random() < 0.4)
        r = self.rng
        if not auto and sender.kind != "vendor":
            m.html = sender.client in ("o365", "gmail", "apple", "exchange") and r.random() < 0.35
            m.attach = conv.kind not in ("newsletter",) and r.random() < 0.038
        conv.msgs.append(m)
        self.msgs.append(m)
        return m

    def fill(self, conv, s, extra=None):
        r = self.rng
        tl = text_lang(conv.lang)
        ctx = dict(conv.ctx)
        ctx["weekday"] = r.choice(WEEKDAYS[tl][:5])
        ctx["month"] = r.choice(MONTHS[tl][2:9])
        if extra:
            ctx.update(extra)
        return s.format(**ctx)

    def compose(self, conv, sender, recipient, kind):
        """Own text lines of a message: greeting, content, closing, signature."""
        r = self.rng
        tl = text_lang(conv.lang)
        T = TEXT[tl]
        first = recipient.first if recipient is not None else ""
        lines = []
        if kind == "first" or r.random() < 0.6:
            g = r.choice(T["greet"]).format(first=first) if first else GREET0[tl]
            lines += [g, ""]
        if kind == "first":
            sents = T[conv.topic]
            if sender.ours and conv.topic in OURS_FIRST[tl]:
                sents = OURS_FIRST[tl][conv.topic]
            elif not sender.ours and conv.topic == "offer":
                sents = CUST_OFFER[tl]
            k = r.randint(2, 4)
            body = [self.fill(conv, s) for s in sents[:k]]
            if tl == "en" or not lines:
                body[0] = body[0][0].upper() + body[0][1:]
        else:
            pool = T["reply_o"] if sender.ours else T["reply_c"]
            body = [self.fill(conv, s) for s in r.sample(pool, r.randint(1, 2))]
        lines += [" ".join(body) if r.random() < 0.5 else "\n".join(body), ""]
        lines += [r.choice(T["close"]), sender.first if r.random() < 0.5 else sender.name]
        lines += self.signature(sender)
        return "\n".join(lines).split("\n")

    def signature(self, p):
        if p.iphone and self.rng.random() < 0.6:
            return ["", TEXT[text_lang(p.lang)]["iphone"]]
        sig = [""] + (["-- "] if p.sig_dash else [])
        sig += [p.name, p.title]
        if p.org:
            sig.append(p.org)
        if p.phone:
            sig.append(p.phone)
        return sig

    def quote_lines(self, sender, parent):
        """The quoted previous message, as the sender's mail client writes it."""
        lang = sender.lang if sender.lang in QUOTE_HDR_GMAIL else "en"
        pp = parent.sender
        off = self.tzoff(sender, parent.date)
        dt = datetime.fromtimestamp(parent.date + off * 60, timezone.utc)
        tl = text_lang(lang)
        vals = dict(wd3=WD_EN[dt.weekday()], mon3=MON_EN[dt.month - 1], d=dt.day, Y=dt.year,
                    h12=(dt.hour - 1) % 12 + 1, M=f"{dt.minute:02d}",
                    ampm="AM" if dt.hour < 12 else "PM", H=f"{dt.hour:02d}",
                    m=f"{dt.month:02d}", dd=f"{dt.day:02d}", name=pp.name, email=pp.email,
                    wd_l=WEEKDAYS[tl][dt.weekday()], mon_l=MONTHS[tl][dt.month - 1])
        if sender.client in ("o365", "exchange"):
            blk = OUTLOOK_BLOCK[lang]
            tos = "; ".join(f"{q.name} <{q.email}>" for q in parent.to)
            sent = OUTLOOK_SENT[tl].format(Wd=WEEKDAYS["en"][dt.weekday()],
                                           Mon=MONTHS["en"][dt.month - 1], **vals)
            head = ["", "________________________________" if self.rng.random() < 0.5
                    else blk[0],
                    f"{blk[1]}: {pp.name} <{pp.email}>", f"{blk[2]}: {sent}",
                    f"{blk[3]}: {tos}", f"{blk[4]}: {parent.subject}", ""]
            return head + parent.lines
        if sender.client == "gmail":
            h = QUOTE_HDR_GMAIL[lang].format(**vals)
        elif sender.client == "apple":
            h = f"On {dt.day} {MON_EN[dt.month - 1]} {dt.year}, at {vals['H']}:{vals['M']}, " \
                f"{pp.name} <{pp.email}> wrote:"
        elif sender.client == "legacy":
            h = f"{pp.name} wrote:"
        else:
            h = QUOTE_HDR_TB[lang].format(**vals)
        return ["", h] + [("> " + l) if l else ">" for l in parent.lines]

    # ------------------------------------------------------------------ conversations
    def new_conv(self, kind, deal, lang, tags):
        c = Conv(f"c{len(self.convs) + 1:05d}", kind, deal, lang, tags)
        self.convs.append(c)
        return c

    def remaining(self):
        return self.count - len(self.msgs)

    def guard_ok(self, key, subj, start):
        ns = norm_subject(subj).lower()
        for s, t in self.guard.get(key, ()):
            if s == ns and abs(t - start) < 100 * DAY:
                return False
        return True

    def guard_add(self, key, subj, start):
        self.guard.setdefault(key, []).append((norm_subject(subj).lower(), start))

    def pick_subject(self, conv, keys, start, generic_p, topic=None, deal_named=None,
                     pool=None, sender=None, topics=None):
        """Choose the first subject of conv (and its body topic)."""
        r = self.rng
        tl = text_lang(conv.lang)
        conv.ctx = {"product": r.choice(PRODUCTS), "n": r.choice([12, 25, 40, 60, 120, 250]),
                    "num": f"{r.choice(['Q', 'AN', 'OF', ''])}2026-{r.randint(100, 9999):04d}",
                    "po": f"PO-{r.randint(40000, 99999)}", "city": r.choice(CITIES[tl]),
                    "v": r.randint(2, 5), "company": "", "deal": ""}
        if deal_named is not None:
            conv.ctx["deal"] = deal_named
            for i in range(40):
                if i < 8:
                    s = r.choice(DEAL_SUBJECTS[tl]).format(deal=deal_named)
                    tp = topic or r.choice(["offer", "contract", "meeting"])
                else:
                    tp = r.choice(list(SUBJECTS[tl]))
                    s = deal_named + r.choice([" – ", ": ", " / "]) + \
                        self.fill(conv, r.choice(SUBJECTS[tl][tp]))
                if all(self.guard_ok(k, s, start) for k in keys):
                    return s, tp, start
            return f"{s} ({conv.ctx['num']})", tp, start
        if pool is None and r.random() < generic_p:
            gl = GENERIC[tl] + (GENERIC["en"] if tl != "en" and r.random() < 0.3 else [])
            gl = [g for g in gl if topics is None or g[1] in topics]
            for _ in range(6 if gl else 0):
                s, tp = r.choice(gl)
                st = self.shape(max(P_START, self.generic_start(s)), sender)
                if all(self.guard_ok(k, s, st) for k in keys):
                    conv.tags.append("generic_subject")
                    return s, tp, st
        for _ in range(20):
            if pool is not None:
                s, tp = r.choice(pool)
            else:
                tp = topic or r.choice(topics or list(SUBJECTS[tl]))
                s = r.choice(SUBJECTS[tl][tp])
            s = self.fill(conv, s)
            if all(self.guard_ok(k, s, start) for k in keys):
                return s, tp, start
        return s + f" ({conv.ctx['num']})", tp, start

    def generic_start(self, subj):
        """Generic subjects come in waves: several customers use them in the same weeks."""
        r = self.rng
        waves = self.waves.setdefault(subj, sorted(r.randint(P_START, P_END - 20 * DAY)
                                                   for _ in range(3)))
        return r.choice(waves) + r.randint(-3 * DAY, 6 * DAY)

    def dialogue(self, conv, n, start, ours, custs, first_from="customer", cc_first=(),
                 to_team=False, partner=None, owner_cc=False, force=(), so_rate=0.055,
                 allow_so=True, keys=()):
        """Messages between our speaker `ours` and the customer people `custs` (custs[0] is the
        main correspondent).  force: traps to place at the first eligible reply."""
        r = self.rng
        force = list(force)
        owner = self.owner
        msgs = conv.msgs
        t = start
        n = min(n, self.remaining())
        if n <= 0:
            return
        if conv.kind != "internal" and "generic_subject" in conv.tags:
            so_rate = 0.16
        for i in range(n):
            if i == 0:
                if first_from == "customer":
                    sender, to = custs[0], [self.team if to_team else ours]
                else:
                    sender, to = ours, [custs[0]]
                cc = [p for p in cc_first if p is not sender and p not in to]
                if owner_cc and owner not in to and owner not in cc and sender is not owner:
                    cc.append(owner)
                lines = self.compose(conv, sender, to[0] if not to[0].kind == "team" else None,
                                     "first")
                self.new_msg(conv, sender, to, cc, t, conv.base, lines=lines)
                continue
            last = msgs[-1]
            parent = last.parent if last.auto else last
            if last.auto:
                side = "c"
            elif parent.sender.ours and r.random() < 0.1 and i < n - 1:
                side = "o"
            else:
                side = "c" if parent.sender.ours else "o"
            # out-of-office answer to the owner's message (it goes to the owner only)
            if side == "c" and not last.auto and parent.sender is owner and \
                    ("auto" in force or r.random() < 0.012) and \
                    custs[0].client in ("o365", "exchange", "gmail") and i < n - 1:
                if "auto" in force:
                    force.remove("auto")
                self.auto_reply(conv, custs[0], parent, keys)
                continue
            # who writes
            other_contact = False
            if side == "o":
                sender = ours
                if owner_cc and ours is not owner and r.random() < 0.15:
                    sender = owner
            else:
                sender = custs[0] if r.random() < 0.8 else r.choice(custs)
                if partner is not None and r.random() < 0.12:
                    sender = partner
            # header mode
            mode = "normal"
            late = False
            so_ok = allow_so and sender.kind not in ("colleague",) and \
                (side == "c" or sender is owner) and sender is not partner
            ti_ok = sender.client in ("o365", "exchange") and parent.ti is not None and \
                sender is not owner
            if "late" in force and so_ok and side == "c" and i == n - 1:
                mode, late = "subject_only", True
                force.remove("late")
            elif "rfc822" in force and sender.client == "legacy":
                mode = "rfc822"
                force.remove("rfc822")
            elif "so_other" in force and so_ok and side == "c" and i >= 1:
                mode, other_contact = "subject_only", True
                force.remove("so_other")
            elif "so" in force and so_ok and side == "c" and i >= 1:
                mode = "subject_only"
                force.remove("so")
            elif "ti" in force and ti_ok:
                mode = "ti_only"
                force.remove("ti")
            elif sender.client == "legacy" and r.random() < 0.7:
                mode = "rfc822"
            elif so_ok and r.random() < so_rate:
                mode = "subject_only"
                if side == "c" and r.random() < 0.3:
                    other_contact = True
                if i == n - 1 and r.random() < 0.08 and so_ok and side == "c":
                    late = True
            elif ti_ok and r.random() < 0.16:
                mode = "ti_only"
            if other_contact:
                cust = custs[0].customer
                pool = [p for p in (cust.contacts if cust and not cust.free else [])
                        if p is not custs[0]]
                if pool:
                    sender = r.choice(pool)
            # recipients
            if mode == "subject_only":
                counterpart = parent.sender if parent.sender.ours != sender.ours else \
                    (ours if not sender.ours else custs[0])
                if counterpart.kind == "team":
                    counterpart = owner
                to, cc = [counterpart], []
                if owner is not sender and owner is not counterpart:
                    cc = [owner]
            else:
                to = [parent.sender] if parent.sender is not sender else list(parent.to)
                cc = []
                for p in parent.to + parent.cc:
                    if p is not sender and p not in to and p not in cc and p.kind != "team":
                        cc.append(p)
                to = [owner if p.kind == "team" else p for p in to]
                if owner is not sender and owner not in to and owner not in cc:
                    cc.append(owner)
            t = self.shape(parent.date + self.delay(late), sender)
            if t <= msgs[-1].date:
                t = msgs[-1].date + r.randint(300, 4 * 3600)
            # subject
            tags = ["late_reply"] if late else []
            changed = None
            if mode == "normal" and i >= 2 and ("subject_change" in force or r.random() < 0.025):
                # a new subject, not one this customer used in another conversation lately
                tl = text_lang(conv.lang)
                for _ in range(10):
                    cand = self.fill(conv, r.choice(CHANGED_SUBJECTS[tl]), {"old": conv.base})
                    if cand != conv.base and cand != norm_subject(parent.subject) and \
                            all(self.guard_ok(k, cand, t) for k in keys):
                        changed = cand
                        break
            if changed is not None:
                if "subject_change" in force:
                    force.remove("subject_change")
                subj = conv.base = changed
                for k in keys:
                    self.guard_add(k, subj, t)
                tags.append("subject_change")
            elif mode == "subject_only":
                subj = self.reply_prefix(sender) + conv.base
            else:
                subj = self.reply_subject(sender, parent.subject)
            rec = to[0]
            lines = self.compose(conv, sender, rec, "reply")
            if mode != "subject_only" or r.random() < 0.5:
                if r.random() < 0.85:
                    lines = lines + self.quote_lines(sender, parent)
            self.new_msg(conv, sender, to, cc, t, subj, parent, mode, tags, lines,
                         trim="trim" in force)

    def auto_reply(self, conv, p, parent, keys):
        r = self.rng
        tl = text_lang(p.lang)
        back = datetime.fromtimestamp(parent.date + r.randint(2, 12) * DAY, timezone.utc)
        txt = TEXT[tl]["ooo"].format(date=f"{back.day:02d}.{back.month:02d}.{back.year}",
                                     company=p.org or p.name)
        lines = [txt, ""] + self.signature(p)
        t = parent.date + r.randint(5, 90)
        subj = AUTO_PREFIX.get(p.lang, AUTO_PREFIX["en"]) + norm_subject(parent.subject)
        extra = [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]
        self.new_msg(conv, p, [parent.sender], [], t, subj, parent, "auto", ["auto_reply"],
                     lines, extra=extra, auto=True)

    def length(self, kind):
        r = self.rng
        if kind == "deal":
            return r.choices(range(1, 13), [10, 18, 16, 13, 10, 8, 6, 5, 4, 4, 3, 3])[0]
        if kind == "short":
            return r.choices(range(1, 7), [20, 30, 22, 14, 8, 6])[0]
        return r.choices(range(1, 5), [35, 35, 20, 10])[0]

    def cc_colleague(self, topic):
        r = self.rng
        if r.random() < 0.3:
            if topic == "invoice":
                return [self.colleagues[6]]
            return [r.choice(self.colleagues)]
        return []

    def customer_conv(self, cust, deal, tags, kind="deal", force=(), n=None, start=None,
                      subject=None, people=None, ours=None, owner_cc=False, partner=None,
                      named=None, generic_p=0.14, first_from=None, so_rate=0.055):
        """A conversation with a customer (company or free-mail contact)."""
        r = self.rng
        conv = self.new_conv(kind, deal, cust.lang if cust else "en", tags)
        people = people or [r.choice(cust.contacts)]
        if cust and not cust.free and len(cust.contacts) > 1 and r.random() < 0.2:
            extra = [p for p in cust.contacts if p is not people[0]]
            people = people + [r.choice(extra)]
        ours = ours or self.owner
        keys = [cust.key if cust else people[0].email]
        if partner is not None:
            keys.append(partner.customer.key)
        first_from = first_from or ("customer" if r.random() < 0.55 else "ours")
        sp = people[0] if first_from == "customer" else ours
        if start is None:
            start = self.start_time(sp)
        if subject is not None:
            conv.base, conv.topic = subject
            conv.ctx = {"product": r.choice(PRODUCTS), "n": r.choice([12, 25, 40, 120]),
                        "num": f"2026-{r.randint(100, 9999):04d}",
                        "po": f"PO-{r.randint(40000, 99999)}",
                        "city": r.choice(CITIES[text_lang(conv.lang)]), "v": 2, "company": "",
                        "deal": ""}
            if subject[0] in GENERIC_SET and "generic_subject" not in conv.tags:
                conv.tags.append("generic_subject")
        else:
            # with a partner in Cc the talk is about the customer's purchase, not a partnership
            topics = ["offer", "meeting", "contract", "invoice", "question", "delivery"] \
                if partner is not None else None
            conv.base, conv.topic, start = self.pick_subject(conv, keys, start, generic_p,
                                                             deal_named=named, sender=sp,
                                                             topics=topics)
        for k in keys:
            self.guard_add(k, conv.base, start)
        cc = self.cc_colleague(conv.topic) + people[1:]
        if partner is not None:
            cc.append(partner)
        to_team = first_from == "customer" and ours is self.owner and r.random() < 0.06
        if to_team:
            conv.tags.append("team_address")
        if n is None:
            n = self.length("deal" if kind != "no_open" else "short")
        self.dialogue(conv, n, start, ours, people, first_from=first_from, cc_first=cc,
                      to_team=to_team, partner=partner, owner_cc=owner_cc, force=force,
                      keys=keys, so_rate=so_rate)
        if deal is not None and conv.msgs:
            self.ext_convs.append(conv)
        return conv

    def pick_cust(self, cat, free=None, lang=None, client=None):
        r = self.rng
        pool = [c for c in self.all_customers if getattr(c, "cat", None) == cat and
                (free is None or c.free == free) and (lang is None or c.lang == lang) and
                (client is None or any(p.client == client for p in c.contacts))]
        if not pool and lang is not None:
            return self.pick_cust(cat, free, None, client)
        return r.choice(pool) if pool else None

    def deal_conv(self, force=(), cust=None, people=None, alias=False, **kw):
        r = self.rng
        if alias:
            pool = [c for c in self.customers if getattr(c, "cat", "") == "single" and
                    any(len(p.emails) > 1 and p.emails[1].split("@")[1] in ALL_FREEMAIL
                        for p in c.contacts)]
            cust = r.choice(pool) if pool else cust
        cust = cust or self.pick_cust(("single", "single", "single", "single", "single",
                                       "single", "single", "single", "single", "partner")
                                      [r.randrange(10)], free=False)
        tags = []
        if cust.free:
            tags.append("gmail_no_company")
        elif people is None and (alias or r.random() < 0.08):
            alias = [p for p in cust.contacts if len(p.emails) > 1 and
                     p.emails[1].split("@")[1] in ALL_FREEMAIL]
            if alias:
                p = alias[0]
                q = self.make_person(p.first, p.name.split(" ", 1)[1], p.emails[1], p.lang,
                                     "gmail", org=p.org, tz=p.tz)
                q.contact_id, q.customer, q.title = p.contact_id, p.customer, p.title
                q.display = p.display if p.display == p.name else p.name
                people = [q]
                tags.append("freemail_alias")
        named = None
        if r.random() < 0.12:
            named = cust.open_deals[0].name
        return self.customer_conv(cust, cust.open_deals[0].id, tags, force=force, people=people,
                                  named=named, **kw)

    def multi_open_conv(self, named=None, force=(), cust=None):
        r = self.rng
        cust = cust or self.pick_cust("multi")
        deal = r.choice(cust.open_deals)
        if named is None:
            named = r.random() < 0.8
        tags = ["multi_open_deals"] + ([] if named else ["deal_unnamed"])
        if cust.free:
            tags.append("gmail_no_company")
        c = self.customer_conv(cust, deal.id, tags, force=force,
                               named=deal.name if named else None,
                               generic_p=0.0 if named else 0.2)
        return c

    def no_open_conv(self, force=()):
        cust = self.pick_cust("none")
        tags = ["no_open_deal"] + (["gmail_no_company"] if cust.free else [])
        return self.customer_conv(cust, None, tags, kind="no_open", force=force)

    def multi_company_conv(self, force=()):
        r = self.rng
        cust = self.pick_cust("single", free=False)
        partners = [c for c in self.customers if c.partner]
        pc = r.choice(partners)
        partner = r.choice(pc.contacts)
        return self.customer_conv(cust, cust.open_deals[0].id, ["multi_company"], force=force,
                                  partner=partner, first_from=r.choice(["customer", "ours"]))

    def colleague_conv(self, force=()):
        r = self.rng
        pool = [c for c in self.all_customers if getattr(c, "cat", None) == "single" and
                c.open_deals[0].owner_id != 1]
        cust = r.choice(pool) if pool else self.pick_cust("single")
        owner_id = cust.open_deals[0].owner_id
        col = next((c for c in self.colleagues if c.user_id == owner_id),
                   self.sales_col.get(cust.lang, self.colleagues[0]))
        tags = ["colleague_thread"] + (["gmail_no_company"] if cust.free else [])
        n = self.rng.randint(2, 8)
        return self.customer_conv(cust, cust.open_deals[0].id, tags, force=force, ours=col,
                                  owner_cc=True, n=n)

    def unknown_person(self, dom=None, lang=None, org=""):
        r = self.rng
        lang = lang or r.choice([l for l, w in LANG_WEIGHTS for _ in range(w)])
        fi, la = self.person_name(lang)
        if dom is None:
            if r.random() < 0.3:
                dom = r.choice(FREEMAIL_DOMAINS[lang])
            else:
                stem = r.choice(COMPANY_STEMS[lang]) + "-" + r.choice(
                    ["consulting", "trading", "digital", "works", "partners", "labs"])
                dom = f"{slug(stem)}{r.randint(1, 99) if r.random() < 0.3 else ''}.example"
                known = {d for c in self.customers for d in c.domains}
                if dom in known:
                    dom = "new-" + dom
                org = org or stem.replace("-", " ").title()
        client = "gmail" if dom in ALL_FREEMAIL and dom.startswith("gmail") else \
            r.choice(["o365", "gmail", "thunderbird", "apple"]) if dom not in ALL_FREEMAIL \
            else "apple"
        if client == "gmail" and not dom.startswith("gmail"):
            client = "apple"
        email = self.email_for(fi, la, dom, r.randrange(4))
        while email in self.crm_emails:     # not in the CRM, by definition
            email = email.replace("@", f"{r.randint(1, 9)}@", 1)
        p = self.make_person(fi, la, email, lang, client, kind="unknown", org=org)
        return p

    def unknown_sender_conv(self, force=()):
        r = self.rng
        p = self.unknown_person()
        conv = self.new_conv("unknown_sender", None, p.lang, ["unknown_sender"])
        tl = text_lang(p.lang)
        start = self.start_time(p)
        if r.random() < 0.25:
            gl = GENERIC[tl]
            s, tp = r.choice([g for g in gl if g[1] in ("question", "offer")] or gl)
            conv.tags.append("generic_subject")
            start = self.shape(max(P_START, self.generic_start(s)), p)
            conv.base, conv.topic = s, tp
            conv.ctx = {"product": r.choice(PRODUCTS), "n": 25, "num": "", "po": "",
                        "city": r.choice(CITIES[tl]), "v": 2, "company": "", "deal": ""}
        else:
            conv.base, conv.topic, start = self.pick_subject(conv, [p.email], start, 0.0,
                                                             pool=UNKNOWN_SUBJECTS[tl], sender=p)
        self.guard_add(p.email, conv.base, start)
        to_team = r.random() < 0.35
        if to_team:
            conv.tags.append("team_address")
        self.dialogue(conv, self.length("few"), start, self.owner, [p], to_team=to_team,
                      force=force, keys=[p.email])
        return conv

    def unknown_contact_conv(self, force=()):
        cust = self.pick_cust("single", free=False)
        p = self.unknown_person(dom=cust.domains[-1 if self.rng.random() < 0.3 else 0],
                                lang=cust.lang, org=cust.name)
        p.customer = cust
        return self.customer_conv(cust, cust.open_deals[0].id, ["unknown_contact"],
                                  force=force, people=[p], first_from="customer",
                                  n=self.length("short"))

    def internal_conv(self, start=None):
        r = self.rng
        conv = self.new_conv("internal", None, "en", ["internal_only"])
        cols = r.sample(self.colleagues, r.randint(1, 3))
        cust = r.choice(self.customers)
        deal = cust.open_deals[0].name if cust.open_deals else cust.name
        if r.random() < 0.2:
            s = r.choice(INTERNAL_GENERIC)
            conv.tags.append("generic_subject")
        else:
            s = r.choice(INTERNAL_SUBJECTS)
        conv.ctx = {"company": cust.name, "deal": deal, "product": r.choice(PRODUCTS)}
        conv.base = self.fill(conv, s)
        first = self.owner if r.random() < 0.5 else cols[0]
        team = r.random() < 0.15
        start = start or self.start_time(first)
        if "generic_subject" in conv.tags:
            start = self.shape(max(P_START, self.generic_start(conv.base)), first)
        n = min(self.length("short"), self.remaining())
        people = [self.owner] + cols
        t = start
        for i in range(n):
            if i == 0:
                sender = first
                to = [p for p in people if p is not sender][:1]
                cc = [p for p in people if p is not sender and p not in to]
                if team:
                    cc.append(self.team)
                    conv.tags.append("team_address")
                lines = [f"Hi {to[0].first},", "", self.fill(conv, r.choice(INTERNAL_TEXT["open"])),
                         "", "Thanks,", sender.first]
                self.new_msg(conv, sender, to, cc, t, conv.base, lines=lines)
                continue
            parent = conv.msgs[-1] if r.random() < 0.85 else r.choice(conv.msgs)
            sender = r.choice([p for p in people if p is not parent.sender])
            to = [parent.sender]
            cc = [p for p in parent.to + parent.cc if p is not sender and p not in to]
            if self.owner is not sender and self.owner not in to and self.owner not in cc:
                cc.append(self.owner)
            t = max(self.shape(parent.date + self.delay(), sender), conv.msgs[-1].date + 60)
            lines = [f"{r.choice(INTERNAL_TEXT['reply'])}", "", sender.first]
            if r.random() < 0.7:
                lines += self.quote_lines(sender, parent)
            self.new_msg(conv, sender, to, cc, t, self.reply_subject(sender, parent.subject),
                         parent, "normal", lines=lines)
        return conv

    def forward_conv(self, src, external=None):
        """The owner forwards a message of conversation src to a colleague or a partner."""
        r = self.rng
        if self.remaining() <= 0 or not src.msgs:
            return None
        m = r.choice(src.msgs)
        if external is None:
            external = r.random() < 0.45
        if external:
            pool = [c for c in self.customers if c.partner or getattr(c, "cat", "") == "single"]
            srccust = src.msgs[0].sender.customer or (src.msgs[0].to[0].customer
                                                      if src.msgs[0].to else None)
            pool = [c for c in pool if c is not srccust]
            for _ in range(10):   # a recipient who has no conversation of that subject lately
                cust = r.choice(pool)
                if self.guard_ok(cust.key, m.subject, m.date):
                    break
            rcpt = r.choice(cust.contacts)
            conv = self.new_conv("forward", cust.open_deals[0].id, rcpt.lang,
                                 ["forward_new_conversation"])
        else:
            rcpt = r.choice(self.colleagues)
            conv = self.new_conv("forward", None, "en",
                                 ["forward_new_conversation", "internal_only"])
        owner = self.owner
        conv.ctx = dict(src.ctx)
        conv.topic = src.topic
        subj = FWD_PREFIX_OUTLOOK["en"] + m.subject if r.random() < 0.7 else "Fwd: " + m.subject
        conv.base = subj
        t = self.shape(max(m.date, m.recv) + r.randint(20 * 60, 2 * DAY), owner)
        intro = (f"Hi {rcpt.first},\n\nFYI - could you have a look at the request below and "
                 f"let me know what you think?\n\nThanks,\nSophie" if not external else
                 f"Hi {rcpt.first},\n\nforwarding this from our side - could you prepare a "
                 f"local quote for it? Details below.\n\nBest regards,\nSophie")
        tos = "; ".join(f"{q.name} <{q.email}>" for q in m.to)
        head = ["", "________________________________",
                f"From: {m.sender.name} <{m.sender.email}>",
                f"Sent: {self.date_header(owner, m.date)}", f"To: {tos}",
                f"Subject: {m.subject}", ""]
        lines = intro.split("\n") + self.signature(owner) + head + m.lines
        self.new_msg(conv, owner, [rcpt], [], t, subj, None, "new", lines=lines, fwd_of=m)
        if external:
            self.guard_add(cust.key, subj, t)
        n = min(r.choice([0, 1, 1, 2, 3]), self.remaining())
        for i in range(n):
            parent = conv.msgs[-1]
            sender = rcpt if parent.sender is owner else owner
            t = self.shape(parent.date + self.delay(), sender)
            lines = self.compose(conv, sender, parent.sender, "reply") + \
                self.quote_lines(sender, parent)
            self.new_msg(conv, sender, [parent.sender], [], t,
                         self.reply_subject(sender, parent.subject), parent, "normal",
                         lines=lines)
        return conv

    # newsletters ---------------------------------------------------------
    def vendors(self):
        r = self.rng
        V = []

        def vend(name, addr, kind, subjects, lang="en"):
            p = Person(name=name, first=name, email=addr, lang=lang, client="bulk",
                       tz=(0, "eu"), kind="vendor", title="", org=name, phone="",
                       mid_host=r.choice(["mta", "mail", "bounce", "em"]) + str(r.randint(1, 40)))
            p.charset = "utf-8"
            V.append((p, kind, subjects))

        vend("SalesPulse", "news@salespulse.example", "newsletter",
             ["Your weekly sales digest – week {w}", "5 ways to shorten your sales cycle",
              "Webinar: closing enterprise deals in 2026", "🚀 New: pipeline benchmarks {month}"])
        vend("LogiTrade Magazin", "newsletter@logitrade-magazin.example", "newsletter",
             ["LogiTrade Newsletter {w}/2026: Lagerautomatisierung", "Einladung: Messe-Special",
              "Fachartikel: Kühlkette im Fokus"], "de")
        vend("Le Journal de la Supply Chain", "lettre@journal-supplychain.example", "newsletter",
             ["La lettre n°{w} : entrepôts connectés", "Invitation : petit-déjeuner logistique"],
             "fr")
        vend("Projecthub", "noreply@notify.projecthub.example", "notification",
             ["[Projecthub] Task assigned: Prepare offer for {company}",
              "[Projecthub] {colleague} commented on \"{subject}\"",
              "[Projecthub] Weekly summary"])
        vend("MailTrack", "noreply@mailtrack.example", "tracker",
             ["Opened: {subject}", "{contact} opened \"{subject}\""])
        vend("MeetSlot", "notifications@meetslot.example", "notification",
             ["New event: Meeting with {contact}", "Cancelled: Meeting with {contact}",
              "Meeting"])
        vend("CloudHost Billing", "billing@cloudhost.example", "billing",
             ["Invoice", "Invoice {w}-2026 is available", "Payment received"])
        vend("ProLink", "notifications@prolink.example", "notification",
             ["{contact} viewed your profile", "You appeared in {w} searches this week"])
        vend("DocuFlow", "no-reply@docuflow.example", "notification",
             ["Completed: {subject}", "Reminder: please sign \"{subject}\""])
        return V

    def newsletter(self):
        r = self.rng
        if not hasattr(self, "_vendors"):
            self._vendors = self.vendors()
        tags = ["newsletter"]
        ext = self.ext_convs
        if r.random() < 0.06:
            cust = r.choice(self.customers)
            dom = cust.domains[0]
            p = Person(name=cust.name, first=cust.name, email=f"newsletter@{dom}", lang=cust.lang,
                       client="bulk", tz=(60, "eu"), kind="vendor", title="", org=cust.name,
                       phone="", mid_host="news")
            p.charset = "utf-8"
            kind = "newsletter"
            subj = f"{cust.name} – News {r.choice(MONTHS['en'][:6])} 2026"
            tags.append("customer_newsletter")
        else:
            p, kind, subjects = r.choice(self._vendors)
            s = r.choice(subjects)
            src = r.choice(ext) if ext else None
            cust = r.choice(self.customers)
            subj = s.format(w=r.randint(2, 26), month=r.choice(MONTHS["en"][:6]),
                            company=cust.name, colleague=r.choice(self.colleagues).name,
                            subject=(src.msgs[0].subject if src else "Offer"),
                            contact=r.choice(cust.contacts).name)
        if subj in GENERIC_SET:
            tags.append("generic_subject")
        conv = self.new_conv("newsletter", None, p.lang, tags)
        conv.base = subj
        t = self.rng.randint(P_START, P_END)
        lines = [subj, "", "View this email in your browser: https://" +
                 p.email.split("@")[1] + "/v/" + self.rhex(12), "",
                 "You are receiving this email because you subscribed to our updates.",
                 "Unsubscribe: https://" + p.email.split("@")[1] + "/u/" + self.rhex(16)]
        dom = p.email.split("@")[1]
        extra = [("List-Id", f"{self.enc_header(p.name, 'utf-8')} <{self.rhex(8)}.list-id.{dom}>"),
                 ("List-Unsubscribe", f"<mailto:unsubscribe@{dom}?subject=unsubscribe>, "
                                      f"<https://{dom}/u/{self.rhex(20)}>"),
                 ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
        if kind in ("newsletter", "billing"):
            extra.append(("Precedence", "bulk"))
        else:
            extra = extra[1:2] if r.random() < 0.5 else []
            extra += [("Auto-Submitted", "auto-generated"), ("Precedence", "bulk")
                      if r.random() < 0.5 else ("X-Auto-Response-Suppress", "All")]
        extra.append(("Feedback-ID", f"{r.randint(100, 999)}:{kind}:{self.rhex(6)}"))
        m = self.new_msg(conv, p, [self.owner], [], t, subj, lines=lines, extra=extra)
        m.html = True
        return conv

    # ------------------------------------------------------------------ plan
    def plan(self):
        r = self.rng
        self.waves = {}
        gm = [c for c in self.free if c.cat == "single" and
              c.contacts[0].email.endswith("@gmail.com")]
        # Two Gmail users write "Partnership terms" in the same days.
        t0 = r.randint(P_START + 20 * DAY, P_START + 60 * DAY)
        for i, c in enumerate(gm[:2]):
            self.customer_conv(c, c.open_deals[0].id, ["gmail_no_company"], n=5,
                               start=self.shape(t0 + i * r.randint(3600, 2 * DAY),
                                                c.contacts[0]),
                               subject=("Partnership terms", "partnership"),
                               first_from="customer", force=("so",))
        # "Meeting" started by three customers in one week, subject-only replies in each.
        singles = [c for c in self.customers if getattr(c, "cat", "") == "single"]
        multi_contact = [c for c in singles if len(c.contacts) > 1]
        t1 = r.randint(P_START + 30 * DAY, P_END - 60 * DAY)
        picks = multi_contact[:1] + [c for c in singles if c not in multi_contact[:1]][:2]
        for i, c in enumerate(picks):
            self.customer_conv(c, c.open_deals[0].id, [], n=5, start=t1 + i * r.randint(
                2 * 3600, 2 * DAY), subject=("Meeting", "meeting"), first_from="customer",
                force=("so_other",) if i == 0 else ("so",))
        de = [c for c in singles if c.lang == "de"][:2] or singles[3:5]
        t2 = r.randint(P_START + 10 * DAY, P_END - 60 * DAY)
        for i, c in enumerate(de):
            self.customer_conv(c, c.open_deals[0].id, [], n=4, start=t2 + i * DAY,
                               subject=("Angebot für Lieferung – Rückfrage", "delivery"),
                               first_from="customer", force=("so",))
        o365 = [c for c in singles if c.contacts[0].client in ("o365", "exchange")]
        if o365:
            self.deal_conv(force=("ti",), cust=o365[0], n=5, people=o365[0].contacts[:1])
        tb = [c for c in singles if c.contacts[0].trims]
        if tb:
            self.deal_conv(cust=tb[0], n=10, force=("so", "trim"), people=tb[0].contacts[:1])
        legacy = [c for c in singles if any(p.client == "legacy" for p in c.contacts)]
        for c in legacy[:1]:
            p = [q for q in c.contacts if q.client == "legacy"][0]
            self.customer_conv(c, c.open_deals[0].id if c.open_deals else None,
                               [] if c.open_deals else ["no_open_deal"], n=4, people=[p],
                               first_from="ours", force=("rfc822",))
        self.deal_conv(force=("subject_change", "auto"), n=6, first_from="ours")
        self.multi_open_conv(named=True)
        self.multi_open_conv(named=False)
        self.no_open_conv()
        self.multi_company_conv()
        self.colleague_conv()
        self.unknown_sender_conv()
        self.unknown_contact_conv()
        self.internal_conv()
        src = self.deal_conv(n=3)
        self.forward_conv(src, external=False)
        self.forward_conv(src, external=True)
        self.deal_conv(n=2, force=("late",), first_from="ours")
        self.deal_conv(alias=True, first_from="customer")
        self.newsletter()

        kinds = [("deal", 47), ("deal_free", 5), ("multi_open", 8), ("multi_company", 3),
                 ("colleague", 5), ("unknown_contact", 2), ("no_open", 9),
                 ("unknown_sender", 8), ("internal", 9), ("newsletter", 50)]
        names = [k for k, _ in kinds]
        weights = [w for _, w in kinds]
        while self.remaining() > 0:
            k = r.choices(names, weights)[0]
            conv = None
            if k == "deal":
                conv = self.deal_conv()
            elif k == "deal_free":
                conv = self.deal_conv(cust=self.pick_cust("single", free=True))
            elif k == "multi_open":
                conv = self.multi_open_conv()
            elif k == "multi_company":
                conv = self.multi_company_conv()
            elif k == "colleague":
                conv = self.colleague_conv()
            elif k == "unknown_contact":
                conv = self.unknown_contact_conv()
            elif k == "no_open":
                conv = self.no_open_conv()
            elif k == "unknown_sender":
                conv = self.unknown_sender_conv()
            elif k == "internal":
                conv = self.internal_conv()
            else:
                conv = self.newsletter()
            if conv is not None and conv.deal is not None and conv.kind != "forward" and \
                    r.random() < 0.05:
                self.forward_conv(conv)
        self.convs = [c for c in self.convs if c.msgs]

    # ------------------------------------------------------------------ render
    def enc_header(self, s, charset):
        if s.isascii():
            return s
        try:
            s.encode(charset)
        except UnicodeEncodeError:
            charset = "utf-8"
        return Header(s, charset, maxlinelen=76).encode(linesep="\n")

    def addr(self, p, charset):
        name = p.display
        if name.isascii():
            return formataddr((name, p.email))
        try:
            name.encode(charset)
        except UnicodeEncodeError:
            charset = "utf-8"
        return formataddr((name, p.email), charset=charset)

    def addr_list(self, ps, charset):
        return ",\n ".join(self.addr(p, charset) for p in ps) if ps else ""

    def boundary(self, p):
        c = p.client
        if c == "gmail":
            return "000000000000" + self.rhex(12)
        if c in ("o365", "exchange"):
            return f"_000_{self.rhex(24, True)}_"
        if c == "apple":
            h = self.rhex(32, True)
            return f"Apple-Mail={h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        return "------------" + "".join(self.rng.choice(GMAIL_ALPHA[:62]) for _ in range(24))

    def text_part(self, text, charset, cte, subtype="plain"):
        try:
            raw = text.encode(charset)
        except UnicodeEncodeError:
            charset = "utf-8"
            raw = text.encode(charset)
        if raw.isascii() and cte != "base64":
            cte = "7bit"
        if cte == "quoted-printable":
            data = quopri.encodestring(raw)
        elif cte == "base64":
            data = base64.encodebytes(raw)
        else:
            data = raw
        if not data.endswith(b"\n"):
            data += b"\n"
        ctype = f'text/{subtype}; charset="{charset}"' if subtype == "html" or \
            self.rng.random() < 0.5 else f"text/{subtype}; charset={charset}"
        if subtype == "plain" and self.rng.random() < 0.3:
            ctype += "; format=flowed"
        head = f"Content-Type: {ctype}\nContent-Transfer-Encoding: {cte}\n\n".encode()
        return head, data

    def html_of(self, lines):
        """The HTML alternative: own text, then the quoted lines in a blockquote."""
        own, quoted = [], []
        for line in lines:
            (quoted if quoted or line.startswith(">") or line.startswith("-----") or
             line.startswith("_____") else own).append(line)
        h = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html\"></head>" \
            "<body><div dir=\"ltr\">" + "<br>\n".join(html.escape(x) for x in own) + "</div>"
        if quoted:
            h += "<blockquote style=\"margin:0 0 0 .8ex;border-left:1px solid #ccc;" \
                 "padding-left:1ex\">" + "<br>\n".join(html.escape(x.lstrip("> ")) for x in
                                                       quoted) + "</blockquote>"
        return h + "</body></html>\n"

    def render(self, m):
        r = self.rng
        p = m.sender
        cs = p.charset
        H = []
        incoming = p is not self.owner
        if incoming:
            H.append(("Return-Path", f"<{p.email}>"))
            H.append(("Delivered-To", self.owner.email))
            rdt = datetime.fromtimestamp(m.recv, timezone.utc)
            dom = p.email.split("@")[1]
            if p.client == "o365":
                relay = f"mail-{r.choice(['db8', 'am5', 'vi1', 'fr2', 'bn7'])}" \
                        f"{r.choice(['eur05', 'eur03', 'deu01', 'nam02'])}" \
                        f"on2{r.randint(100, 199)}.outbound.protection.outlook.com"
            elif p.client == "gmail" and dom.endswith("gmail.com"):
                relay = f"mail-{r.choice(['wr1', 'ej1', 'lf1', 'wm1'])}-f{r.randint(41, 199)}" \
                        ".google.com"
            elif p.client == "gmail":
                relay = f"mail-{r.choice(['wr1', 'ej1'])}-f{r.randint(41, 199)}.google.com"
            else:
                relay = f"{p.mid_host if p.client in ('bulk', 'legacy') else 'mail'}.{dom}"
            H.append(("Received", f"from {relay} ({relay} [198.51.100."
                                  f"{r.randint(2, 250)}])\n\tby mx1.{OUR_DOMAIN} (Postfix) with "
                                  f"ESMTPS id {self.rhex(10, True)}\n\tfor "
                                  f"<{self.owner.email}>; "
                                  f"{WD_EN[rdt.weekday()]}, {rdt.day:02d} "
                                  f"{MON_EN[rdt.month - 1]} {rdt.year} {rdt:%H:%M:%S} +0000"))
        frm = self.addr(p, cs)
        to = self.addr_list(m.to, cs) if m.to else "undisclosed-recipients:;"
        cc = self.addr_list(m.cc, cs)
        subj = self.enc_header(m.subject, cs)
        date = self.date_header(p, m.date)
        mid = f"<{m.mid}>"
        refs = "\n ".join(f"<{x}>" for x in m.refs) if m.refs else None
        irt = m.irt
        mailer = []
        if p.client == "exchange":
            mailer = [("X-Mailer", "Microsoft Outlook 16.0")]
        elif p.client == "thunderbird":
            mailer = [("User-Agent", "Mozilla Thunderbird")]
        elif p.client == "apple":
            mailer = [("X-Mailer", "iPhone Mail (21E236)" if p.iphone else
                       "Apple Mail (2.3774.500.171.1.1)")]
        elif p.client == "legacy":
            mailer = [("X-Mailer", r.choice(["Pegasus Mail for Windows (4.80)",
                                             "Mulberry/4.0.8 (Win32)"]))]
        body_head, body = self.body(m)
        if p.client in ("o365", "exchange"):
            H += [("From", frm), ("To", to)]
            if cc:
                H.append(("CC", cc))
            H += [("Subject", subj)]
            if m.ti is not None:
                H += [("Thread-Topic", self.enc_header(m.topic_hdr, cs)),
                      ("Thread-Index", base64.b64encode(m.ti).decode())]
            H += [("Date", date), ("Message-ID", mid)]
            if refs:
                H.append(("References", refs))
            if irt:
                H.append(("In-Reply-To", irt))
            H += [("Accept-Language", "en-US, " + {"de": "de-DE", "fr": "fr-FR", "es": "es-ES",
                                                   "pl": "pl-PL"}.get(p.lang, "en-GB")),
                  ("Content-Language", {"de": "de-DE", "fr": "fr-FR", "es": "es-ES",
                                        "pl": "pl-PL", "nl": "nl-NL", "sv": "sv-SE"}
                   .get(p.lang, "en-US")),
                  ("X-MS-Has-Attach", "yes" if m.attach else ""),
                  ("X-MS-TNEF-Correlator", "")] + mailer
            H += m.extra + body_head + [("MIME-Version", "1.0")]
        elif p.client in ("gmail", "bulk"):
            H += [("MIME-Version", "1.0"), ("Date", date)]
            if refs:
                H.append(("References", refs))
            if irt:
                H.append(("In-Reply-To", irt))
            H += [("Message-ID", mid), ("Subject", subj), ("From", frm), ("To", to)]
            if cc:
                H.append(("Cc", cc))
            H += m.extra + body_head
        else:
            H += [("Message-ID", mid), ("Date", date), ("MIME-Version", "1.0")] + mailer
            H += [("Subject", subj), ("From", frm), ("To", to)]
            if cc:
                H.append(("Cc", cc))
            if irt:
                H.append(("In-Reply-To", irt))
            if refs:
                H.append(("References", refs))
            if p.client == "thunderbird":
                H.append(("Content-Language", {"de": "de-DE", "fr": "fr", "es": "es-ES",
                                               "pl": "pl"}.get(p.lang, "en-US")))
            H += m.extra + body_head
        out = []
        for k, v in H:
            out.append(f"{k}: {v}\n" if v != "" else f"{k}: \n")
        return "".join(out).encode("ascii") + b"\n" + body

    def body(self, m):
        """(MIME headers of the top level, body bytes)."""
        r = self.rng
        p = m.sender
        cs = p.charset
        text = "\n".join(m.lines) + "\n"
        cte = {"gmail": "quoted-printable", "o365": "quoted-printable",
               "exchange": "quoted-printable", "thunderbird": "8bit", "apple": "quoted-printable",
               "legacy": "8bit", "bulk": "quoted-printable"}[p.client]
        if p.client == "gmail" and r.random() < 0.3:
            cte = "base64"
        tp = self.text_part(text, cs, cte)
        if m.html:
            h = self.html_of(m.lines)
            alt_b = self.boundary(p)
            hp = self.text_part(h, cs, "quoted-printable", "html")
            content = self.multipart("alternative", alt_b, [tp, hp])
        else:
            content = None
        if m.attach:
            mix_b = self.boundary(p)
            inner = content if content is not None else tp
            att = self.attachment(m)
            return self.split_top(self.multipart("mixed", mix_b, [inner, att]))
        if content is not None:
            return self.split_top(content)
        head, data = tp
        return self.split_top((head, data))

    def split_top(self, part):
        head, data = part
        hs = []
        for line in head.decode("ascii").split("\n"):
            if not line:
                continue
            if line.startswith((" ", "\t")) and hs:
                hs[-1] = (hs[-1][0], hs[-1][1] + "\n" + line)
                continue
            k, v = line.split(": ", 1)
            hs.append((k, v))
        return hs, data

    def multipart(self, sub, b, parts):
        chunks = []
        for head, data in parts:
            chunks.append(b"--" + b.encode() + b"\n" + head + data)
        body = b"".join(chunks) + b"--" + b.encode() + b"--\n"
        head = f'Content-Type: multipart/{sub};\n\tboundary="{b}"\n\n'.encode()
        return head, body

    def attachment(self, m):
        r = self.rng
        tl = text_lang(m.conv.lang)
        names = {"en": ["Offer_{num}.pdf", "Contract_draft_v2.pdf", "Price_list_2026.pdf"],
                 "de": ["Angebot_{num}.pdf", "Vertragsentwurf_v2.pdf", "Preisübersicht_2026.pdf"],
                 "fr": ["Devis_{num}.pdf", "Projet_de_contrat.pdf", "Grille_tarifaire_2026.pdf"],
                 "es": ["Oferta_{num}.pdf", "Borrador_contrato.pdf", "Tarifas_2026.pdf"],
                 "pl": ["Oferta_{num}.pdf", "Projekt_umowy.pdf", "Cennik_2026.pdf"]}[tl]
        fn = r.choice(names).format(num=m.conv.ctx.get("num", "2026") or "2026")
        size = r.randint(1500, 4500)
        data = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + r.randbytes(size) + b"\n%%EOF\n"
        if fn.isascii():
            disp = f'attachment; filename="{fn}"'
            ct = f'application/pdf; name="{fn}"'
        else:
            from urllib.parse import quote
            disp = f"attachment;\n\tfilename*=utf-8''{quote(fn)}"
            ct = f'application/pdf;\n\tname="{self.enc_header(fn, "utf-8")}"'
        head = (f"Content-Type: {ct}\nContent-Disposition: {disp}\n"
                f"Content-Transfer-Encoding: base64\n\n").encode()
        return head, base64.encodebytes(data)

    # ------------------------------------------------------------------ output
    def write(self, out):
        for sub in ("Maildir/cur", "Maildir/new", "Maildir/tmp", "crm"):
            os.makedirs(os.path.join(out, sub), exist_ok=True)
        order = sorted(self.msgs, key=lambda m: (m.recv, m.seq))
        truth = []
        for n, m in enumerate(order):
            data = self.render(m)
            if m.newdir:
                path = os.path.join(out, "Maildir", "new", f"{m.recv}.M{n}P1.gen")
            else:
                path = os.path.join(out, "Maildir", "cur", f"{m.recv}.M{n}P1.gen:2,S")
            with open(path, "wb") as f:
                f.write(data)
            tags = []
            for t in m.conv.tags + m.tags:
                if t not in tags:
                    tags.append(t)
            deal = str(m.conv.deal) if m.conv.deal is not None else "-"
            truth.append(f"{m.mid}\t{m.conv.label}\t{deal}\t{','.join(tags) or '-'}\n")
        with open(os.path.join(out, "truth.tsv"), "w", encoding="utf-8", newline="\n") as f:
            f.writelines(truth)
        with open(os.path.join(out, "owner_id"), "w") as f:
            f.write("1\n")
        self.write_csv(os.path.join(out, "crm"))

    def write_csv(self, d):
        def w(name, header, rows):
            with open(os.path.join(d, name), "w", encoding="utf-8", newline="") as f:
                cw = csv.writer(f, lineterminator="\n")
                cw.writerow(header)
                cw.writerows(rows)
        users = [(1, self.owner.name, self.owner.email, "salesperson")] + \
                [(c.user_id, c.name, c.email, c.role) for c in self.colleagues]
        w("users.csv", ["id", "name", "email", "role"], users)
        w("companies.csv", ["id", "name", "domains"],
          [(c.company_id, c.name, " ".join(c.domains)) for c in self.customers])
        rows = []
        for c in self.all_customers:
            for p in c.contacts:
                rows.append((p.contact_id, p.name, " ".join(p.emails),
                             "" if c.free else c.company_id))
        rows.sort()
        w("contacts.csv", ["id", "name", "emails", "company_id"], rows)
        w("deals.csv", ["id", "name", "company_id", "contact_ids", "owner_id", "stage", "status",
                        "value", "currency"],
          [(d.id, d.name, "" if d.customer.free else d.customer.company_id,
            " ".join(str(p.contact_id) for p in d.contacts), d.owner_id, d.stage, d.status,
            d.value, d.currency) for d in self.deals])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=3000)
    a = ap.parse_args(argv)
    if a.count < 1:
        ap.error("--count must be positive")
    g = Gen(a.seed, a.count)
    g.build_world()
    g.plan()
    g.write(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
