// The HTML sanitiser: a table of inputs and exact outputs, properties over the XSS corpus
// (tests/data/xss), and the checker that the corpus test and the fuzzer rely on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crm/mime/sanitize.hpp"

namespace crm::mime {
namespace {

struct Case {
    const char* name;
    const char* input;
    const char* expected;
};

const Case kCases[] = {
    {"plain text", "hello <b>world</b>", "hello <b>world</b>"},
    {"full document: head dropped", "<html><head><title>T</title><style>p{}</style></head>"
                                     "<body><p>x</p></body></html>", "<p>x</p>"},
    {"script with content", "a<script>alert(1)</script>b", "ab"},
    {"event handler", "<p onclick=\"alert(1)\" title=\"t\">x</p>", "<p title=\"t\">x</p>"},
    {"javascript link", "<a href=\"javascript:alert(1)\">x</a>", "<a>x</a>"},
    {"entity-split javascript", "<a href=\"jav&#x09;ascript:alert(1)\">x</a>", "<a>x</a>"},
    {"whitespace before scheme", "<a href=\" \x01javascript:alert(1)\">x</a>", "<a>x</a>"},
    {"upper-case scheme", "<a href=\"JaVaScRiPt:alert(1)\">x</a>", "<a>x</a>"},
    {"http link gets target and rel", "<a href=\"https://example.com/?a=1&amp;b=2\">x</a>",
     "<a href=\"https://example.com/?a=1&amp;b=2\" target=\"_blank\" "
     "rel=\"noopener noreferrer\">x</a>"},
    {"mailto link", "<a href=\"mailto:a@b.example\">m</a>",
     "<a href=\"mailto:a@b.example\" target=\"_blank\" rel=\"noopener noreferrer\">m</a>"},
    {"relative link dropped", "<a href=\"/admin\">x</a>", "<a>x</a>"},
    {"remote image blocked", "<img src=\"https://t.example/p.gif\" alt=\"p\">x", "x"},
    {"data image kept", "<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
     "<img src=\"data:image/png;base64,iVBORw0KGgo=\">"},
    {"svg data image dropped", "<img src=\"data:image/svg+xml;base64,PHN2Zz4=\">", ""},
    {"html data link dropped", "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
     "<a>x</a>"},
    {"svg with content dropped", "a<svg><animate attributeName=\"href\" "
                                 "values=\"javascript:alert(1)\"/><text>t</text></svg>b", "ab"},
    {"math dropped", "a<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"
                     "</style></mglyph></table></mtext></math>b", "ab"},
    {"iframe srcdoc dropped", "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>x", "x"},
    {"form unwrapped, controls dropped", "<form action=\"https://evil.example\"><input "
                                         "name=q><button formaction=x>Go</button>Text</form>",
     "Text"},
    {"meta refresh dropped", "<meta http-equiv=\"refresh\" content=\"0;url=https://e.example\">x",
     "x"},
    {"base dropped", "<base href=\"https://evil.example/\"><a href=\"https://a.example\">x</a>",
     "<a href=\"https://a.example\" target=\"_blank\" rel=\"noopener noreferrer\">x</a>"},
    {"style attribute filtered", "<p style=\"color: red; background: url(https://t.example/x); "
                                 "position: fixed; font-weight: bold\">x</p>",
     "<p style=\"color: red; font-weight: bold\">x</p>"},
    {"css expression dropped", "<p style=\"width: expression(alert(1))\">x</p>", "<p>x</p>"},
    {"css escapes dropped", "<p style=\"color: \\72 ed\">x</p>", "<p>x</p>"},
    {"rgb kept", "<span style=\"color: rgb(1, 2, 3)\">x</span>",
     "<span style=\"color: rgb(1, 2, 3)\">x</span>"},
    {"display limited", "<div style=\"display: flex\">x</div><div style=\"display: none\">y</div>",
     "<div>x</div><div style=\"display: none\">y</div>"},
    {"table layout attributes", "<table border=\"0\" cellpadding=\"4\" width=\"100%\" "
                                "background=\"https://t.example/bg.png\"><tr><td "
                                "bgcolor=\"#ffffff\" align=\"CENTER\">c</td></tr></table>",
     "<table border=\"0\" cellpadding=\"4\" width=\"100%\"><tbody><tr><td bgcolor=\"#ffffff\" "
     "align=\"center\">c</td></tr></tbody></table>"},
    {"comments dropped", "a<!-- <script>alert(1)</script> -->b", "ab"},
    // A noscript before any content belongs to the head; its <p> ends it and starts the body:
    // the "tag" inside the attribute stays text, as in the browser.
    {"noscript in head", "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">"
                         "</noscript>x",
     "<p title=\"&lt;/noscript&gt;&lt;img src=x onerror=alert(1)&gt;\">x</p>"},
    {"noscript in body dropped", "a<noscript><img src=x onerror=alert(1)></noscript>b", "ab"},
    {"text escaped", "1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 &lt; 2 &amp;&amp; 3 &gt; 2"},
    {"attribute quotes escaped", "<p title='a\"b'>x</p>", "<p title=\"a&quot;b\">x</p>"},
    {"unknown element unwrapped", "<blink><marquee>m</marquee>t</blink>", "t"},
    // The parser drops the newline right after <pre>: one is written back so the text survives.
    {"pre keeps its leading newline", "<pre>\n\ncode</pre>", "<pre>\n\ncode</pre>"},
    {"leading whitespace trimmed", "\n  <p>x</p>", "<p>x</p>"},
    {"details open kept, ontoggle dropped", "<details open ontoggle=\"alert(1)\"><summary>s"
                                            "</summary>d</details>",
     "<details open=\"\"><summary>s</summary>d</details>"},
};

TEST(Sanitize, Table) {
    for (const auto& c : kCases) {
        auto out = sanitize_html(c.input);
        EXPECT_EQ(out.html, c.expected) << c.name;
        EXPECT_FALSE(unsafe_html_construct(out.html)) << c.name << ": "
                                                      << *unsafe_html_construct(out.html);
    }
}

TEST(Sanitize, Idempotent) {
    for (const auto& c : kCases) {
        auto once = sanitize_html(c.input).html;
        EXPECT_EQ(sanitize_html(once).html, once) << c.name;
    }
}

TEST(Sanitize, RemoteImagesCountedAndShownOnRequest) {
    const char* in = "<img src=\"https://a.example/1.png\"><img src=\"http://b.example/2.png\">";
    auto blocked = sanitize_html(in);
    EXPECT_EQ(blocked.remote_images, 2);
    EXPECT_EQ(blocked.html, "");
    SanitizeOptions o;
    o.allow_remote_images = true;
    auto shown = sanitize_html(in, o);
    EXPECT_EQ(shown.remote_images, 2);
    EXPECT_EQ(shown.html,
              "<img src=\"https://a.example/1.png\"><img src=\"http://b.example/2.png\">");
}

TEST(Sanitize, CidImagesGoThroughTheResolver) {
    SanitizeOptions o;
    std::vector<std::string> asked;
    o.resolve_cid = [&](std::string_view cid) -> std::optional<std::string> {
        asked.emplace_back(cid);
        if (cid == "logo@x")
            return std::string("/api/v1/messages/7/attachments/1?inline=1");
        if (cid == "evil@x")
            return std::string("javascript:alert(1)"); // a resolver's bad answer is refused too
        return std::nullopt;
    };
    auto out = sanitize_html("<img src=\"cid:logo@x\"><img src=\"cid:<evil@x>\">"
                             "<img src=\"cid:missing@x\">",
                             o);
    EXPECT_EQ(out.html, "<img src=\"/api/v1/messages/7/attachments/1?inline=1\">");
    EXPECT_EQ(asked, (std::vector<std::string>{"logo@x", "evil@x", "missing@x"}));
    EXPECT_EQ(out.remote_images, 0);
}

TEST(Sanitize, LimitsWarn) {
    SanitizeOptions o;
    o.max_input_bytes = 10;
    auto cut = sanitize_html("<p>0123456789abcdef</p>", o);
    EXPECT_EQ(cut.html, "<p>0123456</p>");
    ASSERT_EQ(cut.warnings.size(), 1u);
    std::string deep;
    for (int i = 0; i < 400; ++i)
        deep += "<div>";
    deep += "x";
    auto flat = sanitize_html(deep);
    EXPECT_NE(flat.html.find('x'), std::string::npos);
    EXPECT_EQ(flat.warnings.size(), 1u);
    EXPECT_FALSE(unsafe_html_construct(flat.html));
}

TEST(Sanitize, CheckerFindsWhatMustNotPass) {
    // The checker is what the corpus test and the fuzzer trust: it must see each of these.
    for (const char* bad :
         {"<script>x</script>", "<img src=x onerror=alert(1)>", "<a href=\"javascript:x\">a</a>",
          "<svg><a xlink:href=\"javascript:x\">a</a></svg>", "<iframe src=\"https://e\"></iframe>",
          "<p style=\"background:url(https://t.example/)\">x</p>", "<form><input></form>",
          "<img src=\"https://t.example/x.png\">", "<math><mi>x</mi></math>",
          "<object data=\"x\"></object>", "<meta http-equiv=refresh content=0>"})
        EXPECT_TRUE(unsafe_html_construct(bad)) << bad;
    EXPECT_FALSE(unsafe_html_construct("<img src=\"https://t.example/x.png\">", true));
    EXPECT_FALSE(unsafe_html_construct("<p>fine <a href=\"https://x.example\">x</a></p>"));
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(Sanitize, XssCorpusComesOutClean) {
    const auto dir = std::filesystem::path(CRM_TEST_DATA_DIR) / "xss";
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() != ".html")
            continue;
        ++files;
        const auto input = slurp(e.path());
        // The corpus is hostile on purpose: the raw file must trip the checker...
        EXPECT_TRUE(unsafe_html_construct(input)) << e.path() << " is not an attack";
        for (bool remote : {false, true}) {
            SanitizeOptions o;
            o.allow_remote_images = remote;
            auto out = sanitize_html(input, o);
            // ...and the sanitised one must not, blocked images or shown.
            auto problem = unsafe_html_construct(out.html, remote);
            EXPECT_FALSE(problem) << e.path() << ": " << problem.value_or("") << "\n" << out.html;
            EXPECT_EQ(sanitize_html(out.html, o).html, out.html) << e.path() << " not idempotent";
        }
    }
    EXPECT_GE(files, 20);
}

} // namespace
} // namespace crm::mime
