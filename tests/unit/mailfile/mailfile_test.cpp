// Tests of the mailfile readers against third-party corpora (tests/data/corpora) whose expected
// results come from their MANIFESTs and expected files, plus generated mailboxes in temp dirs.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "crm/mailfile/reader.hpp"

namespace fs = std::filesystem;
using crm::mailfile::RawMessage;
using crm::mailfile::Walker;
using crm::mailfile::WalkerOptions;

namespace {

const fs::path kCorpora = fs::path(CRM_TEST_DATA_DIR) / "corpora";

std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

void spit(const fs::path& p, std::string_view bytes) {
    std::ofstream f(p, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void spit_gz(const fs::path& p, std::string_view bytes) {
    gzFile gz = gzopen(p.c_str(), "wb");
    ASSERT_NE(gz, nullptr);
    ASSERT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
    ASSERT_EQ(gzclose(gz), Z_OK);
}

struct Walked {
    std::vector<RawMessage> messages;
    std::vector<std::string> errors;
    std::uint64_t bytes_read = 0;
    std::uint64_t total = 0;
};

Walked walk(std::vector<fs::path> roots, WalkerOptions options = {}) {
    Walker w(std::move(roots), options);
    Walked r;
    r.total = w.total_bytes_hint();
    for (;;) {
        RawMessage m;
        auto more = w.next(m);
        EXPECT_TRUE(more.has_value());
        if (!more || !*more)
            break;
        r.messages.push_back(std::move(m));
    }
    r.errors = w.errors();
    r.bytes_read = w.bytes_read();
    return r;
}

// The unfolded value of the first header `name` in the header block of `msg`, trimmed.
std::optional<std::string> header(const std::string& msg, std::string_view name) {
    std::size_t pos = 0;
    std::optional<std::string> value;
    while (pos < msg.size()) {
        std::size_t eol = msg.find('\n', pos);
        if (eol == std::string::npos)
            eol = msg.size();
        std::string_view line(msg.data() + pos, eol - pos);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            break;
        if (value && (line[0] == ' ' || line[0] == '\t')) {
            *value += line;
        } else if (value) {
            break;
        } else if (line.size() > name.size() && line[name.size()] == ':' &&
                   std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
                       return std::tolower(static_cast<unsigned char>(a)) ==
                              std::tolower(static_cast<unsigned char>(b));
                   })) {
            value = std::string(line.substr(name.size() + 1));
        }
        pos = eol + 1;
    }
    if (value) {
        auto b = value->find_first_not_of(" \t");
        auto e = value->find_last_not_of(" \t");
        *value = b == std::string::npos ? std::string() : value->substr(b, e - b + 1);
    }
    return value;
}

// Message-ID without angle brackets, as notmuch stores it; empty when there is none.
std::string message_id(const std::string& msg) {
    auto v = header(msg, "Message-ID");
    if (!v)
        return {};
    std::string s = *v;
    auto lt = s.find('<');
    auto gt = s.find('>', lt == std::string::npos ? 0 : lt);
    if (lt != std::string::npos && gt != std::string::npos)
        return s.substr(lt + 1, gt - lt - 1);
    return s;
}

// Every Message-ID named in a notmuch-threads.txt expectation file.
std::set<std::string> notmuch_ids(const fs::path& p) {
    std::set<std::string> ids;
    std::istringstream in(slurp(p));
    std::string id;
    while (in >> id)
        ids.insert(id);
    return ids;
}

// Top-level messages of a MimeKit *-offsets.json: (beginOffset, endOffset). The top-level object
// of each message starts with "mboxMarkerOffset"; its own offsets are the first ones after it.
std::vector<std::pair<std::size_t, std::size_t>> mimekit_offsets(const fs::path& p) {
    std::string json = slurp(p);
    std::vector<std::pair<std::size_t, std::size_t>> out;
    auto number_after = [&](std::string_view key, std::size_t from) {
        std::size_t k = json.find(key, from);
        std::size_t colon = json.find(':', k);
        return std::pair{static_cast<std::size_t>(std::stoull(json.substr(colon + 1))), colon};
    };
    for (std::size_t pos = json.find("\"mboxMarkerOffset\""); pos != std::string::npos;
         pos = json.find("\"mboxMarkerOffset\"", pos + 1)) {
        auto [begin, at] = number_after("\"beginOffset\"", pos);
        auto [end, at2] = number_after("\"endOffset\"", at);
        out.emplace_back(begin, end);
    }
    return out;
}

class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "mailfile_test.XXXXXX").string();
        char* made = ::mkdtemp(tmpl.data());
        EXPECT_NE(made, nullptr);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

bool has_error(const Walked& w, std::string_view needle) {
    return std::any_of(w.errors.begin(), w.errors.end(),
                       [&](const std::string& e) { return e.find(needle) != std::string::npos; });
}

} // namespace

// --- sling-mail-archive: counts from its MANIFEST (Sling's Mime4jMboxParserImplCountTest) ---

TEST(MailfileCorpus, SlingMboxCountsMatchManifest) {
    const fs::path dir = kCorpora / "sling-mail-archive";
    const std::string manifest = slurp(dir / "MANIFEST.md");
    std::regex count_re("`((?:mbox/)?[a-z0-9_-]+\\.mbox)` (\\d+)");
    std::map<std::string, std::size_t> expected;
    for (auto it = std::sregex_iterator(manifest.begin(), manifest.end(), count_re);
         it != std::sregex_iterator(); ++it)
        expected.emplace((*it)[1].str(), std::stoul((*it)[2].str()));
    ASSERT_EQ(expected.size(), 6u) << "MANIFEST format changed";

    std::smatch m;
    ASSERT_TRUE(std::regex_search(manifest, m, std::regex("(\\d+) in all: (\\d+) distinct Message-IDs "
                                                          "plus one message without")));
    const std::size_t all = std::stoul(m[1].str());
    const std::size_t distinct = std::stoul(m[2].str());

    std::size_t total = 0, without_id = 0;
    std::set<std::string> ids;
    const auto known = notmuch_ids(dir / "expected" / "notmuch-threads.txt");
    for (const auto& [file, count] : expected) {
        auto w = walk({dir / file});
        EXPECT_TRUE(w.errors.empty()) << file << ": " << w.errors.front();
        EXPECT_EQ(w.messages.size(), count) << file;
        EXPECT_EQ(w.bytes_read, w.total) << file;
        for (std::size_t i = 0; i < w.messages.size(); ++i) {
            const auto& msg = w.messages[i];
            EXPECT_EQ(msg.origin, (dir / file).string() + "#" + std::to_string(i + 1));
            EXPECT_TRUE(msg.received.has_value()) << msg.origin; // ezmlm From_ lines carry dates
            std::string id = message_id(msg.bytes);
            if (id.empty()) {
                ++without_id;
                continue;
            }
            EXPECT_TRUE(known.contains(id)) << msg.origin << " " << id;
            ids.insert(id);
        }
        total += w.messages.size();
    }
    EXPECT_EQ(total, all);
    EXPECT_EQ(ids.size(), distinct);
    EXPECT_EQ(without_id, 1u);
}

// --- mime4j: mbox.rlug must split into mbox.rlug-0 ... -4 ---

TEST(MailfileCorpus, Mime4jSplitMatchesExpectedFiles) {
    const fs::path dir = kCorpora / "mime4j" / "mbox";
    auto w = walk({dir / "mbox.rlug"});
    ASSERT_TRUE(w.errors.empty());
    std::vector<std::string> expected;
    for (int i = 0; fs::exists(dir / ("mbox.rlug-" + std::to_string(i))); ++i)
        expected.push_back(slurp(dir / ("mbox.rlug-" + std::to_string(i))));
    ASSERT_EQ(w.messages.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        // mime4j keeps the blank line that precedes the next From_ line (and the final one) in
        // the message; we treat it as mbox framing (RFC 4155, as MimeKit and Python do).
        EXPECT_EQ(w.messages[i].bytes + "\n", expected[i]) << i;
        EXPECT_EQ(w.messages[i].received, crm::mailfile::parse_from_line_date(
                                              "From news@gmane.org Tue Mar 04 03:33:20 2003"));
    }
}

// --- mimekit: Content-Length mbox and plain mbox, exact byte ranges from *-offsets.json ---

class MimekitOffsets : public ::testing::TestWithParam<std::string> {};

TEST_P(MimekitOffsets, UnixAndDosOffsets) {
    const fs::path dir = kCorpora / "mimekit" / "mbox";
    const std::string name = GetParam();
    const std::string data = slurp(dir / (name + ".mbox.txt"));

    // Two convention differences with MimeKit, applied to its expected ranges:
    // - when no blank line precedes the next From_ line, MimeKit counts the last line break of a
    //   message as part of the marker; we keep it with the message (as Python's mailbox does)
    //   unless a fitting Content-Length ends the message before it;
    // - MimeKit never unquotes ">From "; we do in From_-split messages (Content-Length ones are
    //   kept exact), which matters for the dos variant where Content-Length no longer fits.
    auto check = [&](const fs::path& file, const std::string& bytes, const fs::path& offsets,
                     bool unquote) {
        const std::string eol = unquote ? "\r\n" : "\n";
        auto expected = mimekit_offsets(offsets);
        ASSERT_FALSE(expected.empty());
        auto w = walk({file});
        EXPECT_TRUE(w.errors.empty());
        ASSERT_EQ(w.messages.size(), expected.size()) << file;
        for (std::size_t i = 0; i < expected.size(); ++i) {
            auto [b, e] = expected[i];
            std::string want = bytes.substr(b, e - b);
            if (unquote)
                want = std::regex_replace(want, std::regex("(^|\n)>(>*From )"), "$1$2");
            const std::string& got = w.messages[i].bytes;
            if (!want.ends_with(eol) && bytes.compare(e, eol.size() + 5, eol + "From ") == 0 &&
                got == want + eol)
                continue; // From_-split: the line break stays with the message
            EXPECT_EQ(got, want) << file << " #" << i + 1;
        }
    };
    check(dir / (name + ".mbox.txt"), data, dir / (name + ".unix-offsets.json"), false);

    // MimeKit's dos variant is the same file with LF converted to CRLF. Content-Length values then
    // no longer fit, so this also exercises the fallback to From_ splitting on CRLF lines.
    TempDir tmp;
    std::string dos;
    for (char c : data) {
        if (c == '\n')
            dos += '\r';
        dos += c;
    }
    spit(tmp.path() / "dos.mbox", dos);
    check(tmp.path() / "dos.mbox", dos, dir / (name + ".dos-offsets.json"), true);
}

INSTANTIATE_TEST_SUITE_P(Mimekit, MimekitOffsets, ::testing::Values("content-length", "issue1189"));

TEST(MailfileCorpus, MimekitSummaryCountsAndSubjects) {
    const fs::path dir = kCorpora / "mimekit" / "mbox";
    for (std::string name : {"content-length", "issue1189"}) {
        // Each message's summary starts with its mbox marker line ("From ...") then From/To/Subject.
        std::istringstream in(slurp(dir / (name + "-summary.txt")));
        std::vector<std::string> subjects;
        std::string line;
        bool after_marker = false;
        while (std::getline(in, line)) {
            if (line.starts_with("From ")) {
                after_marker = true;
                subjects.emplace_back();
            } else if (after_marker && line.starts_with("Subject: ")) {
                subjects.back() = line.substr(9);
                after_marker = false;
            }
        }
        auto w = walk({dir / (name + ".mbox.txt")});
        ASSERT_EQ(w.messages.size(), subjects.size()) << name;
        for (std::size_t i = 0; i < subjects.size(); ++i) {
            auto s = header(w.messages[i].bytes, "Subject");
            ASSERT_TRUE(s.has_value()) << name << " #" << i + 1;
            // The summary shows decoded, unfolded subjects: compare plain ASCII ones only.
            if (s->find("=?") == std::string::npos && s->find('\t') == std::string::npos) {
                EXPECT_EQ(*s, subjects[i]) << name << " #" << i + 1;
            }
        }
    }
}

TEST(MailfileCorpus, MimekitUnmungedFromLinesWithBom) {
    // MimeKit's TestUnmungedFromLines expects 4 messages: without Content-Length, an unquoted
    // "From " line after a blank line is a message boundary (markers "From -", "From Russia...").
    auto w = walk({kCorpora / "mimekit" / "mbox" / "unmunged.mbox.txt"});
    ASSERT_EQ(w.messages.size(), 4u);
    EXPECT_TRUE(w.messages[0].bytes.starts_with("From: Jeffrey Stedfast")); // BOM skipped
    EXPECT_TRUE(w.messages[2].bytes.starts_with("From: Jeffrey Stedfast"));
    EXPECT_FALSE(w.messages[0].received.has_value()); // "From -" has no date
}

// --- ponymail-asf: per-mbox Message-ID lists from Pony Mail's own YAML expectations ---

TEST(MailfileCorpus, PonymailMessageIdsMatchYaml) {
    const fs::path dir = kCorpora / "ponymail-asf";
    std::size_t checked_files = 0;
    for (const auto& entry : fs::directory_iterator(dir / "yaml")) {
        std::istringstream in(slurp(entry.path()));
        std::string line;
        std::vector<std::string> waiting; // files listed before their (shared) message list
        std::map<std::string, std::vector<std::string>> expected;
        bool in_list = false;
        while (std::getline(in, line)) {
            if (line.starts_with("  corpus/") && line.ends_with(":")) {
                if (in_list)
                    waiting.clear();
                in_list = false;
                waiting.push_back(line.substr(2, line.size() - 3));
            } else if (line.starts_with("    message-id: ")) {
                in_list = true;
                std::string id = line.substr(16);
                if (id == "''")
                    id.clear();
                else if (id.size() >= 2 && id.front() == '<' && id.back() == '>')
                    id = id.substr(1, id.size() - 2);
                for (const auto& f : waiting)
                    expected[f].push_back(id);
            }
        }
        for (const auto& [file, ids] : expected) {
            auto w = walk({dir / file});
            EXPECT_TRUE(w.errors.empty()) << file;
            ASSERT_EQ(w.messages.size(), ids.size()) << file;
            for (std::size_t i = 0; i < ids.size(); ++i)
                EXPECT_EQ(message_id(w.messages[i].bytes), ids[i]) << file << " #" << i + 1;
            ++checked_files;
        }
    }
    EXPECT_GE(checked_files, 10u);

    // All mbox files of the corpus together: every Message-ID is one notmuch indexed.
    const auto known = notmuch_ids(dir / "expected" / "notmuch-threads.txt");
    auto all = walk({dir / "corpus"});
    EXPECT_TRUE(all.errors.empty());
    std::set<std::string> ids;
    for (const auto& m : all.messages)
        if (auto id = message_id(m.bytes); !id.empty())
            ids.insert(id);
    for (const auto& id : ids)
        EXPECT_TRUE(known.contains(id)) << id;
    std::smatch m;
    const std::string manifest = slurp(dir / "MANIFEST.md");
    ASSERT_TRUE(std::regex_search(manifest, m, std::regex("Messages: (\\d+): (\\d+) distinct "
                                                          "Message-IDs plus (\\d+) messages without")));
    EXPECT_EQ(all.messages.size(), std::stoul(m[1].str()));
    EXPECT_EQ(ids.size(), std::stoul(m[2].str()));
}

// --- notmuch-default: a Maildir tree with nested folders and loose files ---

TEST(MailfileCorpus, NotmuchDefaultMaildir) {
    const fs::path dir = kCorpora / "notmuch-default";
    // Expected: exactly the files inside cur/ and new/ folders (loose files in a Maildir, the
    // MANIFEST and expected/ are not messages), in name order per folder.
    std::size_t in_cur_new = 0, loose = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file())
            continue;
        auto parent = e.path().parent_path();
        auto rel = fs::relative(e.path(), dir).string();
        if (rel.starts_with("expected") || rel.starts_with("LICENSES") || rel == "MANIFEST.md")
            continue;
        if (parent.filename() == "cur" || parent.filename() == "new")
            ++in_cur_new;
        else
            ++loose;
    }
    const std::string manifest = slurp(dir / "MANIFEST.md");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(manifest, m, std::regex("Files: (\\d+); distinct messages: (\\d+)")));
    ASSERT_EQ(in_cur_new + loose, std::stoul(m[1].str())); // the tree is what the MANIFEST says

    auto w = walk({dir});
    EXPECT_TRUE(w.errors.empty());
    EXPECT_EQ(w.messages.size(), in_cur_new);
    const auto known = notmuch_ids(dir / "expected" / "notmuch-threads.txt");
    std::set<std::string> ids;
    for (const auto& msg : w.messages) {
        auto parent = fs::path(msg.origin).parent_path().filename();
        EXPECT_TRUE(parent == "cur" || parent == "new") << msg.origin;
        EXPECT_FALSE(msg.seen) << msg.origin; // names are "NN:2," without flags
        EXPECT_TRUE(msg.received.has_value());
        EXPECT_EQ(msg.bytes, slurp(msg.origin)); // Maildir files are passed through exactly
        std::string id = message_id(msg.bytes);
        EXPECT_TRUE(known.contains(id)) << msg.origin;
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), w.messages.size()); // the duplicate's second copy is a loose file
    EXPECT_TRUE(std::is_sorted(w.messages.begin(), w.messages.end(),
                               [](const RawMessage& a, const RawMessage& b) {
                                   return a.origin < b.origin;
                               }));

    // A loose file named as a root is read as one message; so is a plain folder of them.
    auto one = walk({dir / "01:2,"});
    ASSERT_EQ(one.messages.size(), 1u);
    EXPECT_EQ(one.messages[0].origin, (dir / "01:2,").string());
    EXPECT_EQ(one.bytes_read, one.total);
}

// --- fedora-devel-2010-01: gzip mbox ---

TEST(MailfileCorpus, FedoraGzipMbox) {
    const fs::path dir = kCorpora / "fedora-devel-2010-01";
    const std::string manifest = slurp(dir / "MANIFEST.md");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(manifest, m, std::regex("Messages: (\\d+) \\(`From ` separated")));
    const auto file = dir / "2010-January.txt.gz";
    auto w = walk({file});
    EXPECT_TRUE(w.errors.empty());
    ASSERT_EQ(w.messages.size(), std::stoul(m[1].str()));
    EXPECT_EQ(w.bytes_read, fs::file_size(file));
    EXPECT_EQ(w.total, fs::file_size(file));
    // notmuch indexed exactly these messages (every one has a Message-ID).
    const auto known = notmuch_ids(dir / "expected" / "notmuch-threads.txt");
    std::set<std::string> ids;
    for (const auto& msg : w.messages) {
        EXPECT_FALSE(msg.bytes.starts_with("From ")) << msg.origin;
        ids.insert(message_id(msg.bytes));
    }
    EXPECT_EQ(ids, known);
}

// --- generated mailboxes ---

namespace {
// mbox text in mboxrd style: From_ lines with dates, a quoted ">From " and ">>From " body line.
std::string sample_mbox(std::string_view eol) {
    std::string s;
    auto line = [&](std::string_view l) {
        s += l;
        s += eol;
    };
    line("From alice@example.com Wed Jan  6 12:34:56 2010");
    line("From: Alice <alice@example.com>");
    line("Subject: one");
    line("Status: RO");
    line("");
    line("Hello");
    line(">From the start");
    line(">>From twice");
    line("");
    line("From bob@example.com Thu Jan  7 00:00:00 2010");
    line("From: Bob <bob@example.com>");
    line("Subject: two");
    line("Status: O");
    line("");
    line("Not a From line: From x");
    line("From inside a paragraph is not a separator");
    line("");
    line("From carol@example.com Fri Jan  8 00:00:01 +0100 2010");
    line("Subject: three");
    line("X-Status: AR");
    line("");
    line("last");
    return s;
}
} // namespace

TEST(MailfileGenerated, GzipMboxLfAndCrlfWithBom) {
    TempDir tmp;
    for (std::string eol : {"\n", "\r\n"}) {
        const fs::path p = tmp.path() / (eol == "\n" ? "lf.mbox.gz" : "crlf");
        spit_gz(p, "\xEF\xBB\xBF" + eol + sample_mbox(eol) + eol);
        auto w = walk({p});
        EXPECT_TRUE(w.errors.empty());
        ASSERT_EQ(w.messages.size(), 3u);
        const auto& a = w.messages[0];
        EXPECT_EQ(a.bytes, "From: Alice <alice@example.com>" + eol + "Subject: one" + eol +
                               "Status: RO" + eol + eol + "Hello" + eol + "From the start" + eol +
                               ">From twice" + eol);
        EXPECT_TRUE(a.seen);
        EXPECT_EQ(a.origin, p.string() + "#1");
        EXPECT_EQ(a.received, std::int64_t{1262781296}); // 2010-01-06T12:34:56Z
        EXPECT_FALSE(w.messages[1].seen);
        EXPECT_NE(w.messages[1].bytes.find("From inside a paragraph"), std::string::npos);
        EXPECT_TRUE(w.messages[2].seen);
        EXPECT_EQ(w.messages[2].received, std::int64_t{1262908801 - 3600});
        EXPECT_EQ(w.messages[2].bytes, "Subject: three" + eol + "X-Status: AR" + eol + eol +
                                           "last" + eol);
        EXPECT_EQ(w.bytes_read, fs::file_size(p));
    }
}

TEST(MailfileGenerated, ContentLengthProtectsUnquotedFromLines) {
    TempDir tmp;
    const std::string body = "From hidden\n\nFrom also hidden\n>From kept as is\n";
    std::string mbox = "From a Sat Jan  2 00:00:00 2010\nSubject: cl\nContent-Length: " +
                       std::to_string(body.size()) + "\n\n" + body +
                       "\nFrom b Sat Jan  2 00:00:00 2010\nSubject: wrong length\n"
                       "Content-Length: 3\n\nabcdef\n\nFrom c Sat Jan  2 00:00:00 2010\n"
                       "Subject: last\nContent-Length: 5\n\nabcd\n";
    spit(tmp.path() / "cl.mbox", mbox);
    auto w = walk({tmp.path() / "cl.mbox"});
    ASSERT_EQ(w.messages.size(), 3u);
    EXPECT_EQ(w.messages[0].bytes, "Subject: cl\nContent-Length: " + std::to_string(body.size()) +
                                       "\n\n" + body);
    EXPECT_EQ(w.messages[1].bytes, "Subject: wrong length\nContent-Length: 3\n\nabcdef\n");
    EXPECT_EQ(w.messages[2].bytes, "Subject: last\nContent-Length: 5\n\nabcd\n");
}

TEST(MailfileGenerated, OversizedMessageIsSkippedAndReadingResumes) {
    TempDir tmp;
    std::string big(5000, 'x');
    std::string mbox = "From a Sat Jan  2 00:00:00 2010\nSubject: small\n\nok\n\n"
                       "From b Sat Jan  2 00:00:00 2010\nSubject: big\n\n" +
                       big + "\n" + big + "\n\nFrom c Sat Jan  2 00:00:00 2010\nSubject: after\n\nok\n";
    spit(tmp.path() / "big.mbox", mbox);
    spit(tmp.path() / "big.eml", "Subject: big\n\n" + big + big);
    WalkerOptions opt;
    opt.max_message_bytes = 4096;
    auto w = walk({tmp.path()}, opt);
    ASSERT_EQ(w.messages.size(), 2u);
    EXPECT_EQ(header(w.messages[0].bytes, "Subject"), "small");
    EXPECT_EQ(header(w.messages[1].bytes, "Subject"), "after");
    EXPECT_EQ(w.messages[1].origin, (tmp.path() / "big.mbox").string() + "#3");
    ASSERT_EQ(w.errors.size(), 2u);
    EXPECT_TRUE(w.errors[0].starts_with((tmp.path() / "big.eml").string() + ": "));
    EXPECT_TRUE(w.errors[1].starts_with((tmp.path() / "big.mbox").string() + "#2: "));
}

TEST(MailfileGenerated, MaildirFlagsSubfoldersAndOrder) {
    TempDir tmp;
    const fs::path md = tmp.path() / "Mail";
    for (auto sub : {"cur", "new", "tmp", ".Sent/cur", ".Sent/new", "Archive/2020/cur"})
        fs::create_directories(md / sub);
    spit(md / "cur" / "2.host:2,RS", "Subject: b\n\nseen\n");
    spit(md / "cur" / "1.host:2,F", "Subject: a\n\nflagged\n");
    spit(md / "new" / "3.host", "Subject: c\n\nnew\n");
    spit(md / "tmp" / "4.host", "Subject: tmp\n\nignored\n");
    spit(md / "dovecot-uidlist", "3 V1 N4\n");
    spit(md / "cur" / ".hidden", "Subject: hidden\n\n");
    spit(md / ".Sent" / "cur" / "5.host:2,S", "Subject: sent\n\n");
    spit(md / ".Sent" / "maildirfolder", "");
    spit(md / "Archive" / "2020" / "cur" / "6.host:2,", "From x Sat Jan  2 00:00:00 2010\nSubject: x\n\n");
    auto w = walk({md});
    EXPECT_TRUE(w.errors.empty()) << w.errors.front();
    std::vector<std::string> subjects;
    std::vector<bool> seen;
    for (const auto& m : w.messages) {
        subjects.push_back(header(m.bytes, "Subject").value_or("?"));
        seen.push_back(m.seen);
    }
    // ".Sent" < "Archive" < "cur" < "new" in byte order.
    EXPECT_EQ(subjects, (std::vector<std::string>{"sent", "x", "a", "b", "c"}));
    EXPECT_EQ(seen, (std::vector<bool>{true, false, false, true, false}));
    // In a Maildir, a file starting with "From " is still one message, bytes unchanged.
    EXPECT_TRUE(w.messages[1].bytes.starts_with("From x "));
    EXPECT_EQ(w.bytes_read, w.total);
}

TEST(MailfileGenerated, PlainDirectoryClassifiesFiles) {
    TempDir tmp;
    fs::create_directories(tmp.path() / "b");
    spit(tmp.path() / "a.eml", "Subject: eml\n\nbody\n");
    spit(tmp.path() / "b" / "box", sample_mbox("\n"));
    spit_gz(tmp.path() / "c.eml.gz", "Subject: gz eml\n\nbody\n");
    spit(tmp.path() / "d.empty", "");
    auto w = walk({tmp.path()});
    ASSERT_EQ(w.messages.size(), 5u);
    EXPECT_EQ(w.messages[0].origin, (tmp.path() / "a.eml").string());
    EXPECT_EQ(w.messages[1].origin, (tmp.path() / "b" / "box").string() + "#1");
    EXPECT_EQ(w.messages[4].bytes, "Subject: gz eml\n\nbody\n");
    ASSERT_EQ(w.errors.size(), 1u);
    EXPECT_TRUE(w.errors[0].starts_with((tmp.path() / "d.empty").string() + ": "));
}

// --- errors ---

TEST(MailfileErrors, MissingPathUnreadableFileAndTruncatedGzip) {
    TempDir tmp;
    const fs::path missing = tmp.path() / "no-such-file";
    const fs::path locked = tmp.path() / "locked.eml";
    spit(locked, "Subject: locked\n\n");
    fs::permissions(locked, fs::perms::none);

    std::string mbox;
    for (int i = 0; i < 2000; ++i)
        mbox += "From a Sat Jan  2 00:00:00 2010\nSubject: " + std::to_string(i) + "\n\n" +
                std::string(100, static_cast<char>('a' + i % 26)) + "\n\n";
    const fs::path full = tmp.path() / "full.gz";
    spit_gz(full, mbox);
    std::string gz = slurp(full);
    const fs::path truncated = tmp.path() / "truncated.mbox.gz";
    spit(truncated, gz.substr(0, gz.size() / 2));
    spit(tmp.path() / "ok.eml", "Subject: ok\n\n");

    auto w = walk({missing, locked, truncated, tmp.path() / "ok.eml"});
    EXPECT_TRUE(has_error(w, missing.string() + ": "));
    EXPECT_TRUE(has_error(w, truncated.string() + ": truncated gzip"));
    EXPECT_FALSE(w.messages.empty());
    EXPECT_LT(w.messages.size(), 2001u);
    EXPECT_EQ(w.messages.back().origin, (tmp.path() / "ok.eml").string());

    // Root ignores permission bits; the locked file only fails for other users.
    if (::access(locked.c_str(), R_OK) != 0) {
        EXPECT_TRUE(has_error(w, locked.string() + ": Permission denied"));
    }
}

TEST(MailfileErrors, ReadErrorIsRecordedEvenAsRoot) {
    // /proc/self/mem opens fine but reading offset 0 fails (EIO): a read error for any user.
    if (!fs::exists("/proc/self/mem"))
        GTEST_SKIP() << "no /proc";
    auto w = walk({"/proc/self/mem"});
    EXPECT_TRUE(w.messages.empty());
    EXPECT_TRUE(has_error(w, "/proc/self/mem: ")) << (w.errors.empty() ? "" : w.errors.front());
}

TEST(MailfileErrors, UnlistableDirectory) {
    TempDir tmp;
    const fs::path dir = tmp.path() / "closed";
    fs::create_directories(dir);
    spit(dir / "x.eml", "Subject: x\n\n");
    fs::permissions(dir, fs::perms::none);
    auto w = walk({tmp.path()});
    if (::access(dir.c_str(), R_OK) == 0)
        GTEST_SKIP() << "running with permission override (root)";
    EXPECT_TRUE(w.messages.empty());
    EXPECT_TRUE(has_error(w, dir.string() + ": "));
}

// --- helpers ---

TEST(MailfileHelpers, FromLineDates) {
    using crm::mailfile::parse_from_line_date;
    struct Case {
        std::string_view line;
        std::optional<std::int64_t> expected;
    };
    const Case cases[] = {
        {"From alice@example.com Wed Jan  6 12:34:56 2010", 1262781296},
        {"From alice@example.com Wed Jan  6 12:34:56 2010\r\n", 1262781296},
        {"From alice@example.com Wed Jan 06 12:34 2010", 1262781240},
        {"From a Wed Jan  6 12:34:56 +0100 2010", 1262781296 - 3600},
        {"From a Wed Jan  6 12:34:56 2010 -0500", 1262781296 + 5 * 3600},
        {"From a Wed Jan  6 12:34:56 UTC 2010", 1262781296},
        {"From Jan@example.com Thu Feb 29 00:00:00 2024", 1709164800},
        {"From -", std::nullopt},
        {"From - ", std::nullopt},
        {"From Russia with love", std::nullopt},
        {"From a Wed Jan 32 12:34:56 2010", std::nullopt},
        {"Subject: Wed Jan  6 12:34:56 2010", std::nullopt},
    };
    for (const auto& c : cases)
        EXPECT_EQ(parse_from_line_date(c.line), c.expected) << c.line;
}

TEST(MailfileHelpers, MaildirSeenFlag) {
    using crm::mailfile::maildir_name_seen;
    EXPECT_TRUE(maildir_name_seen("1382298587.001724:2,S"));
    EXPECT_TRUE(maildir_name_seen("1.host,S=123:2,FRS"));
    EXPECT_TRUE(maildir_name_seen("1.host!2,S"));
    EXPECT_FALSE(maildir_name_seen("01:2,"));
    EXPECT_FALSE(maildir_name_seen("1.host,S=123:2,F")); // the S= size field is not a flag
    EXPECT_FALSE(maildir_name_seen("1.host,S=123"));
}

TEST(MailfileGenerated, LongLinesAndProgress) {
    // A 2.5 MB line (longer than the reader's 1 MB line pieces) inside an mbox, then more messages
    // in a gzip file: bytes are kept exactly and progress grows to the total.
    TempDir tmp;
    std::string huge(2'500'000, 'q');
    huge[1'048'575] = '>'; // a piece boundary must not be taken for a line start
    huge.replace(1'048'576, 5, "From ");
    std::string mbox = "From a Sat Jan  2 00:00:00 2010\nSubject: long\n\n" + huge + "\n";
    for (int i = 0; i < 50; ++i)
        mbox += "\nFrom b Sat Jan  2 00:00:00 2010\nSubject: n" + std::to_string(i) + "\n\n" +
                std::string(20'000, 'z') + "\n";
    const fs::path p = tmp.path() / "long.gz";
    spit_gz(p, mbox);
    Walker w({p});
    RawMessage m;
    ASSERT_TRUE(w.next(m).value());
    EXPECT_EQ(m.bytes, "Subject: long\n\n" + huge + "\n");
    std::uint64_t progress = w.bytes_read();
    EXPECT_LE(progress, w.total_bytes_hint());
    std::size_t n = 1;
    while (w.next(m).value()) {
        EXPECT_GE(w.bytes_read(), progress);
        progress = w.bytes_read();
        ++n;
    }
    EXPECT_EQ(n, 51u);
    EXPECT_EQ(w.bytes_read(), w.total_bytes_hint());
    EXPECT_TRUE(w.errors().empty());
}
