#pragma once
// Text made safe as HTML text or as a double-quoted attribute value. Pure.

#include <string>
#include <string_view>

namespace crm {

// Appends `text` with & < > " escaped (the HTML sanitiser's writer and the server's own pages).
inline void append_html_escaped(std::string& out, std::string_view text) {
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out.push_back(c);
        }
    }
}

inline std::string html_escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_html_escaped(out, text);
    return out;
}

} // namespace crm
