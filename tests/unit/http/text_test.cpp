#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "internal.hpp"

namespace crm::http {
namespace {

struct Case {
    const char* text;
    std::optional<std::size_t> expected; // code point offset of the quoted tail
};

TEST(QuotedTail, Table) {
    const Case cases[] = {
        {"Thanks, see you.\n", std::nullopt},
        {"Sounds good.\n\nOn Mon, 3 Feb 2025, Bob <b@x.com> wrote:\n> earlier\n", 14},
        {"Ok\n> quoted\n> more\n", 3},
        {"Ok\n> inline answer\nmy reply below\n", std::nullopt}, // interleaved: keep all
        {"> all quote\n", std::nullopt},                          // nothing above to keep
        {"Danke\nAm 3. Feb. 2025 schrieb Bob <b@x.com>:\n> x\n", 6},
        {"Noted:\n- one\n- two\n", std::nullopt}, // a colon alone is no attribution
        {"See below\nBob said:\n> x\n", 10},          // a line ending in ':' before a quote
        {"Danke\nAm 3. Feb. 2025 um 10:00 schrieb Bob:\n> x\n", 6},
        {"Hi\n-----Original Message-----\nFrom: x\n", 3},
        {"Grüße €\n> q\n", 8}, // code points, not bytes: ü, ß and € are one each
        {"😀\n> q\n", 2},       // so is an emoji
    };
    for (const auto& c : cases)
        EXPECT_EQ(quoted_tail_offset(c.text), c.expected) << c.text;
}

// Code points of UTF-8 text (what the page counts).
std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (char c : s)
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

// Attributions and separators in the languages customers write in (issue 20): each reply is
// `answer` then `tail`, and the tail must fold from its first line. Lines marked "corpus" are
// taken from ../shared/corpora (ponymail-asf maven-dev 2017-11/12, sling-mail-archive
// hadoop-common-dev 2012-02, mime4j rlug); the others are the formats Gmail, Apple Mail,
// Thunderbird and Outlook write in those languages.
TEST(QuotedTail, AttributionsInTwelveLanguages) {
    struct Example {
        const char* language;
        const char* answer;
        const char* tail;
    };
    const Example examples[] = {
        {"en", "Sounds good.\n",
         "On Mon, Feb 2, 2026 at 10:00 AM Bob Smith <bob@client.com> wrote:\n> q\n"},
        {"de corpus", "Danke!\n\n", "Am 2017-11-04 um 13:20 schrieb Stephen Connolly:\n> q\n"},
        {"de Outlook corpus", "Passt.\n\n",
         "Von: Mark Derricutt\nGesendet: Sonntag, 5. November 2017 22:20\nAn: Maven Developers "
         "List\nBetreff: Re: Maven 4.0.0\n\nText\n"},
        {"fr corpus", "Merci.\n\n",
         "Le dimanche 31 décembre 2017, 11:49:59 CET Hervé BOUTEMY a écrit :\n> q\n"},
        {"fr Outlook", "D'accord.\n\n",
         "De : Jean Dupont\nEnvoyé : lundi 2 février 2026 10:00\nÀ : Ana\nObjet : "
         "Offre\n\nTexte\n"},
        {"fr Outlook, no-break spaces from HTML", "Oui.\n\n",
         "De\u00A0: Jean Dupont\nEnvoyé\u00A0: lundi 2 février 2026 10:00\nObjet\u00A0: "
         "Offre\n\nTexte\n"},
        {"es", "Gracias.\n\n",
         "El lun, 2 feb 2026 a las 10:00, Juan Pérez (<juan@cliente.es>) escribió:\n> q\n"},
        {"es Outlook", "Vale.\n\n",
         "De: Juan Pérez\nEnviado el: lunes, 2 de febrero de 2026 10:00\nPara: Ana\nAsunto: "
         "Oferta\n\nTexto\n"},
        {"it corpus", "Grazie.\n\n",
         "Il dom 3 dic 2017, 13:21 Tibor Digana <tibordigana@apache.org> ha scritto:\n> q\n"},
        {"it corpus", "Ok.\n\n",
         "Il giorno 17/feb/2012, alle ore 15:06, Harsh J ha scritto:\n\n> q\n"},
        {"pt", "Obrigado.\n\n",
         "Em seg., 2 de fev. de 2026 às 10:00, João Silva <joao@cliente.pt> escreveu:\n> q\n"},
        {"nl", "Bedankt.\n\n",
         "Op ma 2 feb 2026 om 10:00 schreef Jan de Vries <jan@klant.nl>:\n> q\n"},
        {"pl", "Dziękuję.\n\n",
         "W dniu pon., 2 lut 2026 o 10:00 Jan Kowalski <jan@klient.pl> napisał(a):\n> q\n"},
        {"ro", "Mulțumesc.\n\n",
         "În lun., 2 feb. 2026 la 10:00, Ion Popescu <ion@client.ro> a scris:\n> q\n"},
        {"ro corpus", "Da.\n\n", "Daniel Pavel a scris, in 2/7/03 4:09 PM:\n> q\n"},
        {"ro Outlook", "Bine.\n\n",
         "De la: Ion Popescu\nTrimis: luni, 2 februarie 2026 10:00\nCătre: Ana\nSubiect: "
         "Ofertă\n\nText\n"},
        {"ro separator", "Bine.\n\n", "-----Mesaj original-----\nDe la: Ion\n"},
        {"ru Thunderbird", "Спасибо.\n\n", "02.02.2026 10:00, Иван Петров пишет:\n> q\n"},
        {"ru Gmail", "Спасибо.\n\n",
         "пн, 2 февр. 2026 г. в 10:00, Иван Петров <ivan@client.ru>:\n> q\n"},
        {"ru Outlook", "Хорошо.\n\n",
         "От: Иван Петров\nОтправлено: 2 февраля 2026 г. 10:00\nКому: Ана\nТема: "
         "Предложение\n\nТекст\n"},
        {"zh Gmail", "谢谢。\n\n", "张伟 <zhang@client.cn> 于2026年2月2日周一 10:00写道：\n> q\n"},
        {"zh Outlook", "好的。\n\n",
         "发件人: 张伟 <zhang@client.cn>\n发送时间: 2026年2月2日 10:00\n收件人: Ana\n主题: "
         "报价\n\n正文\n"},
        {"ja Gmail", "ありがとうございます。\n\n",
         "2026年2月2日(月) 10:00 山田太郎 <yamada@client.jp>:\n> q\n"},
        {"ja Apple Mail", "承知しました。\n\n",
         "2026/02/02 10:00、山田太郎 <yamada@client.jp>のメール:\n> q\n"},
        {"ja Outlook", "承知しました。\n\n",
         "差出人: 山田太郎\n送信日時: 2026年2月2日 10:00\n宛先: Ana\n件名: 見積もり\n\n本文\n"},
    };
    for (const auto& e : examples) {
        const std::string text = std::string(e.answer) + e.tail;
        EXPECT_EQ(quoted_tail_offset(text), code_points(e.answer)) << e.language << ": " << text;
    }
    // Not attributions, and the customer's text stays in view: a verb without a date or an
    // address; a verb and a date in an ordinary sentence with no quote below; a verb inside
    // another word; a Japanese sentence about an earlier mail; a date and an address with no
    // quote below; From/To/Date lines of a shipping request (no Subject, in English and in
    // Romanian); a forwarded message.
    for (const char* text : {
             "Here is what he wrote:\nwe agree\n",
             "Betreff:\nVon: uns\nalles gut\n",
             "Call me at 10:00, Ivan <ivan@client.ru>:\nfine\n",
             "Hello,\nAs I wrote on 3 March, the prices are:\n- 10 EUR a pallet\n",
             "Hallo,\nwie in Punkt 2 beschrieben:\nwir liefern am Montag.\n",
             "Jak napisałem 3 marca:\nceny bez zmian.\n",
             "山田様\n2月2日のメールの件、以下の通りです：\n価格は変わりません。\n",
             "Hello,\nFrom: Hamburg\nTo: Rotterdam\nDate: 3 April\n\nPlease quote 40 pallets.\n",
             "Bună,\nDe la: București\nPână la: Cluj\nData: 12 martie\n\nVă rog o ofertă.\n",
             "FYI\n\n---------- Forwarded message ---------\nFrom: Carol <carol@client.example>\n"
             "Date: Mon, 2 Feb 2026 at 10:00\nSubject: Order\nTo: Ana <ana@sales.example>\n\n"
             "We order 40 pallets.\n",
         })
        EXPECT_EQ(quoted_tail_offset(text), std::nullopt) << text;
}

} // namespace
} // namespace crm::http
