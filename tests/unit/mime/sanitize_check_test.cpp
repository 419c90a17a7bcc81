// The checker (unsafe_html_construct) and the XSS corpus through it: every corpus file is an
// attack before sanitising and harmless after, with remote images blocked and shown.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crm/mime/sanitize.hpp"

namespace crm::mime {
namespace {

TEST(SanitizeCheck, FindsWhatMustNotPass) {
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

TEST(SanitizeCheck, XssCorpusComesOutClean) {
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
    EXPECT_GE(files, 30);
}

} // namespace
} // namespace crm::mime
