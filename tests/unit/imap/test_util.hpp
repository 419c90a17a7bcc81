#pragma once
// Shared helpers for imap tests: Value/Response builders and a split-feeding driver.

#include <string>
#include <string_view>
#include <vector>

#include "crm/imap/protocol.hpp"

namespace crm::imap::test {

inline Value A(std::string s) { return Value::atom(std::move(s)); }
inline Value N(std::uint64_t n) { return Value::num(n); }
inline Value S(std::string s) { return Value::string(std::move(s)); }
inline Value Lit(std::string s) { return Value::string(std::move(s), true); }
inline Value L(std::vector<Value> v) { return Value::make_list(std::move(v)); }
inline Value Nil() { return Value::nil(); }

inline Response tagged(std::string tag, std::string status, std::string text,
                       std::string code = {}, std::vector<Value> args = {}) {
    Response r;
    r.kind = Response::Kind::Tagged;
    r.tag = std::move(tag);
    r.status_or_keyword = std::move(status);
    r.text = std::move(text);
    r.code_atom = std::move(code);
    r.code_args = std::move(args);
    return r;
}

inline Response status(std::string st, std::string text, std::string code = {},
                       std::vector<Value> args = {}) {
    Response r = tagged({}, std::move(st), std::move(text), std::move(code), std::move(args));
    r.kind = Response::Kind::Untagged;
    return r;
}

inline Response data(std::string keyword, std::vector<Value> values,
                     std::optional<std::uint64_t> number = std::nullopt) {
    Response r;
    r.kind = Response::Kind::Untagged;
    r.status_or_keyword = std::move(keyword);
    r.data = std::move(values);
    r.number = number;
    return r;
}

inline Response cont(std::string text) {
    Response r;
    r.kind = Response::Kind::Continuation;
    r.text = std::move(text);
    return r;
}

// Outcome of parsing a stream: debug strings of the responses, then "ERROR" if it failed.
struct Outcome {
    std::vector<std::string> responses;
    bool failed = false;
    std::string error_detail;
    std::string error_code;
};

inline std::vector<std::string> debug_all(const std::vector<Response>& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs)
        out.push_back(debug_string(r));
    return out;
}

// Feeds the chunks in order, draining next() after each.
inline Outcome run_chunks(const std::vector<std::string_view>& chunks, ParserLimits limits = {}) {
    ResponseParser p(limits);
    Outcome o;
    for (auto c : chunks) {
        p.feed(c);
        while (!o.failed) {
            auto r = p.next();
            if (!r) {
                o.failed = true;
                o.error_code = r.error().code;
                o.error_detail = r.error().detail;
                break;
            }
            if (!*r)
                break;
            o.responses.push_back(debug_string(**r));
        }
    }
    return o;
}

inline Outcome run_whole(std::string_view in, ParserLimits limits = {}) {
    return run_chunks({in}, limits);
}

inline Outcome run_split(std::string_view in, std::size_t at, ParserLimits limits = {}) {
    return run_chunks({in.substr(0, at), in.substr(at)}, limits);
}

inline Outcome run_bytewise(std::string_view in, ParserLimits limits = {}) {
    std::vector<std::string_view> chunks;
    for (std::size_t k = 0; k < in.size(); ++k)
        chunks.push_back(in.substr(k, 1));
    return run_chunks(chunks, limits);
}

} // namespace crm::imap::test
