// Every file of tests/data/corpora through parse(): no crash, valid UTF-8 in every output
// string, limits respected. mbox files are split on "From " lines; .gz files are inflated.
// Also prints the parse throughput over the whole corpus.

#include <gtest/gtest.h>

#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "crm/mime/sanitize.hpp"
#include "test_util.hpp"

namespace crm::mime {
namespace {

namespace fs = std::filesystem;
using test::corpora;
using test::read_file;
using test::valid_utf8;

std::string gunzip(const fs::path &p) {
    std::string out;
    gzFile f = gzopen(p.c_str(), "rb");
    if (f == nullptr)
        return out;
    char buf[1 << 16];
    int n = 0;
    while ((n = gzread(f, buf, sizeof buf)) > 0)
        out.append(buf, static_cast<std::size_t>(n));
    gzclose(f);
    return out;
}

bool skipped(const fs::path &rel) {
    for (const auto &part : rel)
        if (part == "LICENSES" || part == "expected")
            return true;
    const auto name = rel.filename().string();
    const auto ext = rel.extension().string();
    return name == "MANIFEST.md" || name == "README.md" || ext == ".json" || ext == ".xml" ||
           ext == ".yaml" || ext == ".yml";
}

struct Sample {
    std::string name;
    std::string bytes;
};

std::vector<Sample> load_corpus() {
    std::vector<Sample> out;
    for (const auto &e : fs::recursive_directory_iterator(corpora())) {
        if (!e.is_regular_file())
            continue;
        const auto rel = fs::relative(e.path(), corpora());
        if (skipped(rel))
            continue;
        std::string data = e.path().extension() == ".gz" ? gunzip(e.path()) : read_file(e.path());
        const bool mbox =
            e.path().extension() == ".mbox" || e.path().filename().string().ends_with(".txt.gz");
        if (!mbox) {
            out.push_back({rel.string(), std::move(data)});
            continue;
        }
        // mbox: a message starts at each line beginning with "From ".
        std::size_t start = 0;
        std::size_t pos = 0;
        int index = 0;
        while (pos < data.size()) {
            std::size_t nl = data.find('\n', pos);
            nl = nl == std::string::npos ? data.size() : nl + 1;
            if (pos > start && data.compare(pos, 5, "From ") == 0) {
                out.push_back({rel.string() + "#" + std::to_string(index++),
                               data.substr(start, pos - start)});
                start = pos;
            }
            pos = nl;
        }
        if (start < data.size())
            out.push_back({rel.string() + "#" + std::to_string(index), data.substr(start)});
    }
    return out;
}

void check_message(const ParsedMessage &m, const ParseLimits &limits, const std::string &name) {
    SCOPED_TRACE(name);
    ASSERT_EQ(m.content_hash.size(), 64U);
    EXPECT_TRUE(valid_utf8(m.message_id));
    for (const auto &id : m.references)
        EXPECT_TRUE(valid_utf8(id));
    for (const auto &id : m.in_reply_to)
        EXPECT_TRUE(valid_utf8(id));
    EXPECT_TRUE(valid_utf8(m.subject));
    for (const auto *list : {&m.from, &m.sender, &m.reply_to, &m.to, &m.cc, &m.bcc})
        for (const auto &a : *list) {
            EXPECT_TRUE(valid_utf8(a.name));
            EXPECT_TRUE(valid_utf8(a.address));
            EXPECT_NE(a.address.find('@'), std::string::npos);
        }
    for (const auto &[k, v] : m.headers) {
        EXPECT_TRUE(valid_utf8(k));
        EXPECT_TRUE(valid_utf8(v));
    }
    EXPECT_TRUE(valid_utf8(m.text_body));
    EXPECT_TRUE(valid_utf8(m.html_body));
    EXPECT_LE(m.text_body.size(), limits.max_text_bytes);
    EXPECT_LE(m.html_body.size(), limits.max_text_bytes);
    std::size_t decoded = 0;
    EXPECT_LE(m.attachments.size(), limits.max_parts);
    for (const auto &a : m.attachments) {
        EXPECT_TRUE(valid_utf8(a.filename));
        EXPECT_TRUE(valid_utf8(a.content_type));
        EXPECT_TRUE(valid_utf8(a.content_id));
        EXPECT_EQ(a.size, a.content.size());
        EXPECT_EQ(a.sha256.size(), 64U);
        decoded += a.content.size();
    }
    EXPECT_LE(decoded, limits.max_decoded_bytes);
    EXPECT_TRUE(valid_utf8(m.thread_index));
    EXPECT_TRUE(valid_utf8(m.gmail_thread_id));
    EXPECT_TRUE(valid_utf8(m.list_id));
    for (const auto &w : m.warnings)
        EXPECT_TRUE(valid_utf8(w));
}

// Real HTML bodies sanitise to valid UTF-8, stably, without tripping the parser limits.
void check_html(const std::string &html, const std::string &name) {
    if (html.empty())
        return;
    SCOPED_TRACE(name);
    const auto r = sanitize_html(html);
    EXPECT_TRUE(valid_utf8(r.html));
    EXPECT_EQ(sanitize_html(r.html).html, r.html);
    for (const auto &w : r.warnings)
        EXPECT_EQ(w.find("plain text"), std::string::npos) << w;
}

TEST(Corpus, EveryFileDefaultLimits) {
    const auto samples = load_corpus();
    ASSERT_GT(samples.size(), 3000U);
    const ParseLimits limits;
    std::size_t bytes = 0;
    std::size_t unparsable = 0;
    std::chrono::steady_clock::duration parsing{};
    for (const auto &s : samples) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto m = parse(std::span<const char>(s.bytes.data(), s.bytes.size()), limits);
        parsing += std::chrono::steady_clock::now() - t0;
        bytes += s.bytes.size();
        unparsable += m.unparsable ? 1U : 0U;
        check_message(m, limits, s.name);
        check_html(m.html_body, s.name);
    }
    // Informational (not asserted: the machine is shared): parse() time only, checks excluded.
    const double secs = std::chrono::duration<double>(parsing).count();
    std::printf("corpus: %zu inputs, %.1f MB, parse %.3f s, %.1f MB/s, %zu unparsable\n",
                samples.size(), static_cast<double>(bytes) / 1e6, secs,
                static_cast<double>(bytes) / 1e6 / secs, unparsable);
}

TEST(Corpus, EveryFileTightLimits) {
    const auto samples = load_corpus();
    ParseLimits limits;
    limits.max_depth = 3;
    limits.max_parts = 8;
    limits.max_header_bytes = 4096;
    limits.max_decoded_bytes = 64 * 1024;
    limits.max_text_bytes = 2000;
    limits.fallback_charsets = {"koi8-r", "windows-1252"};
    for (const auto &s : samples)
        check_message(parse(std::span<const char>(s.bytes.data(), s.bytes.size()), limits), limits,
                      s.name);
}

TEST(Corpus, TortureMessagesHaveContent) {
    // Spot checks that the lenient path still yields something useful.
    const auto torture = parse(read_file(corpora() / "flanker" / "messages" / "torture.eml"));
    EXPECT_FALSE(torture.unparsable);
    EXPECT_FALSE(torture.attachments.empty());
    const auto big_header = read_file(corpora() / "flanker" / "messages" / "long-header.eml");
    ParseLimits small;
    small.max_header_bytes = 16 * 1024;
    const auto lh = parse(big_header, small);
    EXPECT_TRUE(test::has_warning(lh, "limit: header bytes"));
    const auto html = parse(read_file(corpora() / "mailparser" / "htmllargecallstack.eml"));
    EXPECT_TRUE(valid_utf8(html.text_body));
    const auto oom = parse(read_file(corpora() / "mailparser" / "outofmemory.eml"));
    EXPECT_TRUE(valid_utf8(oom.text_body));
}

} // namespace
} // namespace crm::mime
