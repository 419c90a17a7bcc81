#pragma once
// The web page's static files (web/), compiled into the binary at build time so an installed
// daemon serves exactly the page it was built with.
#include <string_view>

namespace crm::http {

struct Asset {
    std::string_view path; // "/index.html"
    std::string_view content_type;
    std::string_view data;
};

// nullptr when there is no such file.
const Asset* find_asset(std::string_view path);

} // namespace crm::http
