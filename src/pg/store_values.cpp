#include "store_values.hpp"

#include <charconv>

#include <fmt/format.h>

#include "crm/blob/codec.hpp"
#include "crm/core/utf8.hpp"
#include "crm/pg/pipeline.hpp"

namespace crm::pg::detail {

std::string text_array(std::span<const std::string> values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i)
            out += ',';
        out += '"';
        for (char ch : values[i]) {
            if (ch == '"' || ch == '\\')
                out += '\\';
            out += ch;
        }
        out += '"';
    }
    return out + "}";
}

std::string int_array(std::span<const std::int64_t> values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i)
            out += ',';
        out += std::to_string(values[i]);
    }
    return out + "}";
}

std::string optional_int_array(std::span<const std::optional<std::int64_t>> values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i)
            out += ',';
        out += values[i] ? std::to_string(*values[i]) : std::string("NULL");
    }
    return out + "}";
}

Result<std::optional<std::string>> read_raw_message(Connection& c, std::int64_t message) {
    auto r = c.exec("SELECT b.codec, b.size, b.data FROM messages m JOIN blobs b ON b.sha256 = "
                    "m.raw_sha256 WHERE m.id = $1::bigint",
                    message);
    if (!r)
        return std::unexpected(in_context("reading a raw message", std::move(r).error()));
    if (r->rows() == 0)
        return std::nullopt;
    auto codec = r->get<std::string>(0, 0);
    auto size = r->get<std::int64_t>(0, 1);
    auto data = r->get<Bytea>(0, 2);
    if (!codec || !size || !data)
        return std::unexpected(!codec ? codec.error() : !size ? size.error() : data.error());
    auto raw = blob::unpack_blob(*codec, data->bytes, static_cast<std::size_t>(*size));
    if (!raw)
        return std::unexpected(raw.error());
    return std::optional<std::string>(std::move(*raw));
}

std::vector<std::int64_t> parse_int_array(std::string_view text) {
    std::vector<std::int64_t> out;
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
        if (*p == '-' || (*p >= '0' && *p <= '9')) {
            std::int64_t v = 0;
            auto r = std::from_chars(p, end, v);
            if (r.ec != std::errc())
                break;
            out.push_back(v);
            p = r.ptr;
        } else {
            ++p;
        }
    }
    return out;
}

Result<void> check_text(std::string_view what, std::string_view field, std::string_view value) {
    if (auto nul = value.find('\0'); nul != std::string_view::npos)
        return fail("pg.text",
                    fmt::format("{}: {} has a NUL byte at byte {}, which PostgreSQL text cannot "
                                "hold; nothing was written",
                                what, field, nul),
                    ErrorScope::Message, Retry::Never);
    if (!is_valid_utf8(value)) {
        std::size_t at = 0;
        while (at < value.size()) {
            const auto c = decode_utf8_at(value, at);
            if (!c.valid)
                break;
            at += c.size;
        }
        return fail("pg.text",
                    fmt::format("{}: {} is not valid UTF-8 (byte {} of {}), which PostgreSQL text "
                                "cannot hold; nothing was written",
                                what, field, at, value.size()),
                    ErrorScope::Message, Retry::Never);
    }
    return {};
}

Error in_context(std::string_view what, Error e) {
    e.detail = fmt::format("{}: {}", what, e.detail);
    return e;
}

} // namespace crm::pg::detail

namespace crm::pg::detail {

void Statements::defer(std::size_t checked, const Error& if_no_row) {
    for (std::size_t i = 0; i < items_.size(); ++i) {
        std::vector<Param> owned;
        owned.reserve(items_[i].params.size());
        for (const auto& p : items_[i].params)
            owned.push_back(p.owned());
        c_.defer(std::move(items_[i].sql), std::move(owned),
                 i == checked ? std::optional<Error>(if_no_row) : std::nullopt);
    }
    items_.clear();
}

Result<std::vector<ResultSet>> Statements::run() {
    std::vector<ResultSet> out;
    if (items_.empty())
        return out;
    if (!pipeline_) {
        out.reserve(items_.size());
        for (const auto& it : items_) {
            auto r = c_.exec(it.sql, std::span<const Param>(it.params));
            if (!r)
                return std::unexpected(r.error());
            out.push_back(std::move(*r));
        }
        items_.clear();
        return out;
    }
    auto p = Pipeline::enter(c_);
    if (!p)
        return std::unexpected(p.error());
    for (const auto& it : items_)
        if (auto a = p->add(it.sql, std::span<const Param>(it.params)); !a)
            return std::unexpected(a.error());
    items_.clear();
    return p->sync();
}

} // namespace crm::pg::detail
