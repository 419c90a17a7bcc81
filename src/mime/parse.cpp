// parse(): raw RFC 5322 bytes -> ParsedMessage with GMime, limits enforced, UTF-8 everywhere.

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>

#include "crm/mime/report.hpp"
#include "internal.hpp"

namespace crm::mime {
namespace {

using detail::ascii_lower;
using detail::GPtr;
using detail::repair_utf8;
using detail::trim;

// Where the header block ends: header_end = index after the last header line (excluding the
// empty line), body_start = first byte of the body; body_start == npos when no empty line.
struct Split {
    std::size_t header_end = 0;
    std::size_t body_start = std::string_view::npos;
};

Split split_header_body(std::string_view raw) {
    Split s;
    if (raw.starts_with("\n")) {
        s.body_start = 1;
        return s;
    }
    if (raw.starts_with("\r\n")) {
        s.body_start = 2;
        return s;
    }
    std::size_t pos = 0;
    while (pos < raw.size()) {
        const void *hit = std::memchr(raw.data() + pos, '\n', raw.size() - pos);
        if (hit == nullptr)
            break;
        const auto nl = static_cast<std::size_t>(static_cast<const char *>(hit) - raw.data());
        if (nl + 1 < raw.size() && raw[nl + 1] == '\n') {
            s.header_end = nl + 1;
            s.body_start = nl + 2;
            return s;
        }
        if (nl + 2 < raw.size() && raw[nl + 1] == '\r' && raw[nl + 2] == '\n') {
            s.header_end = nl + 1;
            s.body_start = nl + 3;
            return s;
        }
        pos = nl + 1;
    }
    s.header_end = raw.size();
    return s;
}

// "Name:" at the start: RFC 5322 §3.6.8 field-name = 1*ftext (printable ASCII except ':').
bool looks_like_field(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && i < 100) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == ':')
            return i > 0;
        if (c < 33 || c > 126)
            return false;
        ++i;
    }
    return false;
}

// The most of one delivery-status or returned-headers part classify_report reads.
constexpr std::size_t kReportPartBytes = 64 * 1024;

class Walker {
  public:
    Walker(const ParseLimits& limits, ParsedMessage& pm, detail::WarningSink& sink,
           ReportParts& report)
        : limits_(limits), pm_(pm), sink_(sink), report_(report) {}

    void walk(GMimeObject *root) {
        struct Node {
            GMimeObject *obj;
            std::size_t depth;
            std::string path;
            int alt_group; // nearest multipart/alternative ancestor, 0 if none
            bool in_related;
            bool attach_only;
        };
        std::vector<Node> stack;
        stack.push_back({root, 0, "body", 0, false, false});
        std::size_t parts = 0;
        while (!stack.empty()) {
            Node node = std::move(stack.back());
            stack.pop_back();
            if (node.obj == nullptr)
                continue;
            if (++parts > limits_.max_parts) {
                sink_.add("limit: more than " + std::to_string(limits_.max_parts) +
                          " MIME parts, rest ignored at part " + node.path);
                break;
            }
            if (node.depth > 0)
                check_part_headers(node.obj, node.path);
            if (GMIME_IS_MULTIPART(node.obj)) {
                auto *mp = reinterpret_cast<GMimeMultipart *>(node.obj);
                if (node.depth + 1 > limits_.max_depth) {
                    if (!depth_warned_) {
                        depth_warned_ = true;
                        sink_.add("limit: nesting depth exceeds " +
                                  std::to_string(limits_.max_depth) + " at part " + node.path);
                    }
                    continue;
                }
                GMimeContentType *ct = g_mime_object_get_content_type(node.obj);
                const char *st =
                    ct != nullptr ? g_mime_content_type_get_media_subtype(ct) : nullptr;
                const std::string subtype = ascii_lower(st != nullptr ? st : "mixed");
                const int count = g_mime_multipart_get_count(mp);
                if (count == 0 && !node.attach_only) {
                    // No part was found: the boundary is missing, cut short or never occurs.
                    // GMime keeps the whole content as the prologue; shown as it is, rather than
                    // an empty message.
                    const char* prologue = g_mime_multipart_get_prologue(mp);
                    if (prologue != nullptr && *prologue != '\0') {
                        std::string text(prologue);
                        if (!detail::is_valid_utf8(text))
                            text = detail::to_utf8(text, {}, limits_.fallback_charsets, nullptr);
                        detail::truncate_utf8(text, limits_.max_text_bytes);
                        sink_.add("multipart: no part found (boundary missing or wrong), its "
                                  "content kept as text at part " +
                                  node.path);
                        segments_.push_back({++groups_, false, std::move(text)});
                    }
                    continue;
                }
                const bool is_signed = GMIME_IS_MULTIPART_SIGNED(node.obj) || subtype == "signed";
                const bool encrypted =
                    GMIME_IS_MULTIPART_ENCRYPTED(node.obj) || subtype == "encrypted";
                // RFC 1847 §2.1: the first part of multipart/signed is the content, the second
                // the signature (not useful to a CRM, so left out).
                const int last = is_signed ? std::min(count, 1) : count;
                // An alternative nested in an alternative is another rendering of the same
                // content: it stays in the outer group.
                const int group =
                    subtype == "alternative" && node.alt_group == 0 ? ++groups_ : node.alt_group;
                for (int i = last - 1; i >= 0; --i) {
                    GMimeObject *child = g_mime_multipart_get_part(mp, i);
                    stack.push_back({child, node.depth + 1,
                                     node.depth == 0 ? std::to_string(i + 1)
                                                     : node.path + "." + std::to_string(i + 1),
                                     group, subtype == "related", node.attach_only || encrypted});
                }
                continue;
            }
            if (GMIME_IS_MESSAGE_PART(node.obj)) {
                attach_message(reinterpret_cast<GMimeMessagePart *>(node.obj), node.path,
                               node.in_related);
                continue;
            }
            if (GMIME_IS_PART(node.obj))
                leaf(reinterpret_cast<GMimePart *>(node.obj), node.path, node.alt_group,
                     node.in_related, node.attach_only);
        }
    }

    // Rewrites GMime's offset-located warnings as "... in message headers" / "in part 1.2".
    void locate_warnings(std::size_t header_end) {
        std::sort(part_offsets_.begin(), part_offsets_.end(),
                  [](const auto &a, const auto &b) { return a.first < b.first; });
        for (const auto &loc : sink_.located) {
            if (sink_.out == nullptr || loc.index >= sink_.out->size())
                continue;
            std::string &w = (*sink_.out)[loc.index];
            if (loc.offset < static_cast<gint64>(header_end)) {
                w += " in message headers";
                continue;
            }
            auto it = std::upper_bound(part_offsets_.begin(), part_offsets_.end(), loc.offset,
                                       [](gint64 off, const auto &p) { return off < p.first; });
            if (it == part_offsets_.begin()) {
                w += " in message body";
            } else {
                w += " in part ";
                w += std::prev(it)->second;
            }
        }
    }

    // Body choice over the collected text parts. Each multipart/alternative is one group (and
    // each text part outside any alternative its own group); per group the text/plain
    // rendering wins, else its HTML converted. Groups are joined in message order, so a
    // mailing-list footer after the main body is kept. html_body joins the HTML renderings.
    void finish() {
        // The walk is depth-first, so the segments of one group are contiguous: one linear pass
        // over runs of equal group (no quadratic rescans for messages with many text parts).
        std::string text;
        std::string html;
        std::size_t i = 0;
        while (i < segments_.size()) {
            const int g = segments_[i].group;
            Segment *plain = nullptr;
            Segment *rich = nullptr;
            for (; i < segments_.size() && segments_[i].group == g; ++i) {
                Segment &seg = segments_[i];
                if (!seg.html && plain == nullptr)
                    plain = &seg;
                if (seg.html && rich == nullptr)
                    rich = &seg;
            }
            if (plain != nullptr)
                append_capped(text, std::move(plain->text), "text");
            else if (rich != nullptr)
                append_capped(text, html_to_text(rich->text), "text");
            if (rich != nullptr)
                append_capped(html, std::move(rich->text), "html");
        }
        segments_.clear();
        pm_.text_body = std::move(text);
        pm_.html_body = std::move(html);
    }

  private:
    // ParseLimits::max_header_bytes for the headers of a body part. The top-level block is cut
    // before parsing; a part's block has already been read by GMime (bounded by the input),
    // so this only reports it.
    void check_part_headers(GMimeObject *obj, const std::string &path) {
        GMimeHeaderList *list = g_mime_object_get_header_list(obj);
        const int n = list != nullptr ? g_mime_header_list_get_count(list) : 0;
        if (n > 0)
            if (GMimeHeader *first = g_mime_header_list_get_header_at(list, 0); first != nullptr)
                part_offsets_.emplace_back(g_mime_header_get_offset(first), path);
        std::size_t bytes = 0;
        for (int k = 0; k < n; ++k) {
            GMimeHeader *h = g_mime_header_list_get_header_at(list, k);
            if (h == nullptr)
                continue;
            const char *name = g_mime_header_get_name(h);
            const char *raw = g_mime_header_get_raw_value(h);
            bytes += (name != nullptr ? std::strlen(name) : 0) +
                     (raw != nullptr ? std::strlen(raw) : 0) + 2;
        }
        if (bytes > limits_.max_header_bytes)
            sink_.add("limit: header bytes exceed " + std::to_string(limits_.max_header_bytes) +
                      " in part " + path);
    }

    // Streams the decoded (transfer-encoding removed) bytes of a leaf to `sink` in chunks,
    // within the decoded-bytes budget. What g_mime_data_wrapper_write_to_stream() does, without
    // collecting the bytes in a growing memory stream first: an attachment is only hashed, and
    // a text part goes straight into its string.
    template <class Sink> void decode_into(GMimePart *part, const std::string &path, Sink &&sink) {
        GMimeDataWrapper *w = g_mime_part_get_content(part);
        if (w == nullptr)
            return;
        if (decoded_total_ >= limits_.max_decoded_bytes) {
            budget_warning(path);
            return;
        }
        GMimeStream *src = g_mime_data_wrapper_get_stream(w); // (transfer none) in GMime 3.2
        if (src == nullptr)
            return;
        g_mime_stream_reset(src);
        GPtr<GMimeStream> filtered;
        GMimeStream *in = src;
        const GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w);
        if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
            enc == GMIME_CONTENT_ENCODING_UUENCODE) {
            GPtr<GMimeFilter> filter(g_mime_filter_basic_new(enc, FALSE));
            filtered.reset(g_mime_stream_filter_new(src));
            g_mime_stream_filter_add(reinterpret_cast<GMimeStreamFilter *>(filtered.get()),
                                     filter.get());
            in = filtered.get();
        }
        std::array<char, 16384> buf; // written before it is read: no zeroing
        while (!g_mime_stream_eos(in)) {
            const ssize_t n = g_mime_stream_read(in, buf.data(), buf.size());
            if (n < 0) {
                sink_.add("mime: could not decode content of part " + path);
                break;
            }
            auto len = static_cast<std::size_t>(n);
            const std::size_t room = limits_.max_decoded_bytes - decoded_total_;
            if (len > room) {
                len = room;
                budget_warning(path);
            }
            decoded_total_ += len;
            if (len > 0)
                sink(std::string_view(buf.data(), len));
            if (decoded_total_ >= limits_.max_decoded_bytes)
                break;
        }
        g_mime_stream_reset(src);
    }

    // Decoded bytes of a leaf, within the decoded-bytes budget.
    std::string decode(GMimePart *part, const std::string &path) {
        std::string out;
        decode_into(part, path, [&out](std::string_view chunk) { out.append(chunk); });
        return out;
    }

    // An attachment's size, hash and (when kept) bytes, from its decoded or serialised form.
    void set_content(Attachment &a, std::string_view bytes) {
        a.size = bytes.size();
        a.sha256 = sha256_hex(bytes);
        if (limits_.keep_attachment_content)
            a.content.assign(bytes);
    }

    // The same for a leaf, decoded chunk by chunk.
    void set_content(Attachment &a, GMimePart *part, const std::string &path) {
        detail::Sha256 h;
        a.size = 0;
        decode_into(part, path, [&](std::string_view chunk) {
            a.size += chunk.size();
            h.update(chunk);
            if (limits_.keep_attachment_content)
                a.content.append(chunk);
        });
        a.sha256 = h.hex();
    }

    std::string serialize(GMimeMessage *m, const std::string &path) {
        if (decoded_total_ >= limits_.max_decoded_bytes) {
            budget_warning(path);
            return {};
        }
        GPtr<GMimeStream> mem(g_mime_stream_mem_new());
        g_mime_object_write_to_stream(reinterpret_cast<GMimeObject *>(m), nullptr, mem.get());
        GByteArray *arr =
            g_mime_stream_mem_get_byte_array(reinterpret_cast<GMimeStreamMem *>(mem.get()));
        if (arr == nullptr)
            return {};
        std::size_t len = arr->len;
        const std::size_t room = limits_.max_decoded_bytes - decoded_total_;
        if (len > room) {
            len = room;
            budget_warning(path);
        }
        decoded_total_ += len;
        return std::string(reinterpret_cast<const char *>(arr->data), len);
    }

    void budget_warning(const std::string &path) {
        if (!budget_warned_) {
            budget_warned_ = true;
            sink_.add("limit: decoded bytes exceed " + std::to_string(limits_.max_decoded_bytes) +
                      " at part " + path + ", content truncated");
        }
    }

    std::string utf8_param(const char *v) {
        if (v == nullptr)
            return {};
        return detail::finish_decoding(detail::to_utf8(v, "", limits_.fallback_charsets),
                                       limits_.fallback_charsets);
    }

    static std::string content_type_of(GMimeObject *obj, const char *fallback) {
        GMimeContentType *ct = g_mime_object_get_content_type(obj);
        if (ct == nullptr)
            return fallback;
        const char *t = g_mime_content_type_get_media_type(ct);
        const char *s = g_mime_content_type_get_media_subtype(ct);
        std::string r = ascii_lower(t != nullptr ? t : "application");
        r += '/';
        r += ascii_lower(s != nullptr ? s : "octet-stream");
        repair_utf8(r);
        return r;
    }

    static std::string disposition_of(GMimeObject *obj) {
        GMimeContentDisposition *d = g_mime_object_get_content_disposition(obj);
        if (d == nullptr)
            return {};
        const char *v = g_mime_content_disposition_get_disposition(d);
        return v != nullptr ? ascii_lower(trim(v)) : std::string();
    }

    static std::string content_id_of(GMimeObject *obj) {
        const char *cid = g_mime_object_get_content_id(obj);
        if (cid == nullptr)
            return {};
        std::string_view v = trim(cid);
        if (v.starts_with('<'))
            v.remove_prefix(1);
        if (v.ends_with('>'))
            v.remove_suffix(1);
        std::string r(v);
        repair_utf8(r);
        return r;
    }

    void append_capped(std::string &dst, std::string piece, const char *what) {
        if (piece.empty())
            return;
        if (dst.empty()) {
            dst = std::move(piece);
        } else {
            if (dst.size() >= limits_.max_text_bytes)
                return;
            dst += "\n\n";
            dst += piece;
        }
        if (detail::truncate_utf8(dst, limits_.max_text_bytes) && !text_warned_) {
            text_warned_ = true;
            sink_.add(std::string("limit: ") + what + " exceeds " +
                      std::to_string(limits_.max_text_bytes) + " bytes, truncated");
        }
    }

    void leaf(GMimePart *part, const std::string &path, int alt_group, bool in_related,
              bool attach_only) {
        auto *obj = reinterpret_cast<GMimeObject *>(part);
        const std::string type = content_type_of(obj, "text/plain");
        const std::string disp = disposition_of(obj);
        std::string filename = utf8_param(g_mime_part_get_filename(part));
        const bool body_candidate = !attach_only && disp != "attachment" && filename.empty() &&
                                    (type == "text/plain" || type == "text/html");
        if (body_candidate) {
            std::string text = text_of(part, path);
            // Each body part keeps at most max_text_bytes (the joined result is capped again).
            if (detail::truncate_utf8(text, limits_.max_text_bytes) && !text_warned_) {
                text_warned_ = true;
                sink_.add("limit: text exceeds " + std::to_string(limits_.max_text_bytes) +
                          " bytes at part " + path + ", truncated");
            }
            segments_.push_back(
                {alt_group != 0 ? alt_group : ++groups_, type == "text/html", std::move(text)});
            return;
        }
        // A delivery report's fields and returned headers are read by classify_report, whether
        // or not attachment contents are kept (at most kReportPartBytes each).
        if (type == "message/delivery-status" || type == "message/global-delivery-status" ||
            type == "text/rfc822-headers" || type == "message/rfc822-headers" ||
            type == "message/global-headers") {
            std::string text = text_of(part, path);
            detail::truncate_utf8(text, kReportPartBytes);
            (type.ends_with("delivery-status") ? report_.status : report_.headers)
                .push_back(std::move(text));
        }
        Attachment a;
        a.filename = std::move(filename);
        a.content_type = type;
        a.content_id = content_id_of(obj);
        a.is_inline = disp == "inline" || (in_related && !a.content_id.empty());
        set_content(a, part, path);
        pm_.attachments.push_back(std::move(a));
    }

    std::string text_of(GMimePart *part, const std::string &path) {
        std::string bytes = decode(part, path);
        const char *cs = g_mime_object_get_content_type_parameter(
            reinterpret_cast<GMimeObject *>(part), "charset");
        // Common case without a copy: declared (or defaulted) UTF-8/ASCII that validates.
        if ((cs == nullptr || g_ascii_strcasecmp(cs, "utf-8") == 0 ||
             g_ascii_strcasecmp(cs, "us-ascii") == 0) &&
            detail::is_valid_utf8(bytes))
            return bytes;
        std::string why;
        std::string text = detail::to_utf8(bytes, cs != nullptr ? trim(cs) : std::string_view(),
                                           limits_.fallback_charsets, &why);
        if (!why.empty())
            sink_.add("charset: " + why + " in part " + path);
        return text;
    }

    void attach_message(GMimeMessagePart *mpart, const std::string &path, bool in_related) {
        auto *obj = reinterpret_cast<GMimeObject *>(mpart);
        Attachment a;
        a.content_type = content_type_of(obj, "message/rfc822");
        a.content_id = content_id_of(obj);
        const std::string disp = disposition_of(obj);
        a.is_inline = disp == "inline" || (in_related && !a.content_id.empty());
        const char *fn = g_mime_object_get_content_disposition_parameter(obj, "filename");
        if (fn == nullptr)
            fn = g_mime_object_get_content_type_parameter(obj, "name");
        a.filename = utf8_param(fn);
        GMimeMessage *inner = g_mime_message_part_get_message(mpart);
        if (inner != nullptr) {
            // A returned message names the mail a delivery report is about (classify_report).
            const char* id = g_mime_message_get_message_id(inner);
            report_.returned_ids.emplace_back(id != nullptr ? id : "");
            if (a.filename.empty()) {
                // The raw Subject through our (loose) decoder, like the top-level subject.
                GMimeHeaderList *hl =
                    g_mime_object_get_header_list(reinterpret_cast<GMimeObject *>(inner));
                GMimeHeader *h =
                    hl != nullptr ? g_mime_header_list_get_header(hl, "Subject") : nullptr;
                const char *raw = h != nullptr ? g_mime_header_get_raw_value(h) : nullptr;
                if (raw != nullptr)
                    a.filename =
                        std::string(trim(detail::decode_rfc2047(raw, limits_.fallback_charsets)));
            }
            set_content(a, serialize(inner, path));
        } else {
            set_content(a, {});
        }
        pm_.attachments.push_back(std::move(a));
    }

    const ParseLimits &limits_;
    ParsedMessage &pm_;
    detail::WarningSink &sink_;
    ReportParts& report_;
    std::size_t decoded_total_ = 0;
    bool depth_warned_ = false;
    bool budget_warned_ = false;
    bool text_warned_ = false;
    struct Segment {
        int group;
        bool html;
        std::string text;
    };
    std::vector<Segment> segments_;
    std::vector<std::pair<gint64, std::string>> part_offsets_;
    int groups_ = 0;
};

void read_headers(GMimeMessage *msg, GMimeParserOptions *opts, const ParseLimits &limits,
                  ParsedMessage &pm, detail::WarningSink &sink) {
    // GMime keeps the Content-* fields of the top level on its MIME part, the others on the
    // message: merge both back into the original order by offset.
    std::vector<GMimeHeader *> fields;
    auto collect = [&fields](GMimeObject *obj) {
        if (obj == nullptr)
            return;
        GMimeHeaderList *list = g_mime_object_get_header_list(obj);
        const int n = list != nullptr ? g_mime_header_list_get_count(list) : 0;
        for (int k = 0; k < n; ++k)
            if (GMimeHeader *h = g_mime_header_list_get_header_at(list, k); h != nullptr)
                fields.push_back(h);
    };
    collect(reinterpret_cast<GMimeObject *>(msg));
    const std::size_t own = fields.size();
    collect(g_mime_message_get_mime_part(msg));
    if (own != 0 && own != fields.size())
        std::stable_sort(fields.begin(), fields.end(), [](GMimeHeader *a, GMimeHeader *b) {
            return g_mime_header_get_offset(a) < g_mime_header_get_offset(b);
        });
    bool have_msgid = false;
    bool have_subject = false;
    bool have_date = false;
    std::string date_raw;
    std::vector<std::string> auth_results;
    std::array<bool, 8> address_done{};
    std::array<bool, 8> own_parse{};
    for (GMimeHeader *h : fields) {
        const char *n = g_mime_header_get_name(h);
        const char *r = g_mime_header_get_raw_value(h);
        if (n == nullptr || r == nullptr || std::strstr(r, "=?") == nullptr)
            continue;
        static constexpr std::array<std::pair<const char *, GMimeAddressType>, 6> kTypes{{
            {"From", GMIME_ADDRESS_TYPE_FROM},
            {"Sender", GMIME_ADDRESS_TYPE_SENDER},
            {"Reply-To", GMIME_ADDRESS_TYPE_REPLY_TO},
            {"To", GMIME_ADDRESS_TYPE_TO},
            {"Cc", GMIME_ADDRESS_TYPE_CC},
            {"Bcc", GMIME_ADDRESS_TYPE_BCC},
        }};
        for (const auto &[tn, tt] : kTypes)
            if (g_ascii_strcasecmp(n, tn) == 0)
                own_parse[static_cast<std::size_t>(tt)] = true;
    }
    pm.headers.reserve(fields.size());
    for (GMimeHeader *h : fields) {
        const char *cname = g_mime_header_get_name(h);
        const char *craw = g_mime_header_get_raw_value(h);
        if (cname == nullptr)
            continue;
        const std::string_view raw = craw != nullptr ? std::string_view(craw) : std::string_view();
        std::string name(cname);
        repair_utf8(name);
        // Our own RFC 2047 decoder rather than g_mime_header_get_value(): it joins a character
        // split across two B words, which GMime 3.2 turns into "??".
        std::string value(trim(detail::decode_rfc2047(raw, limits.fallback_charsets)));

        const std::string lname = ascii_lower(name);
        // Address fields: GMime has parsed them already (with the same options) while building
        // the message; its per-type list covers every field of that name, so take it once.
        // Fields with encoded words are parsed again by us (predecoded display names, see
        // predecode_phrases), one field at a time.
        auto addrs = [&](std::vector<Address> &dst, GMimeAddressType type) {
            const auto t = static_cast<std::size_t>(type);
            if (t >= address_done.size() || address_done[t])
                return;
            if (own_parse[t]) {
                auto got = detail::parse_addresses(opts, raw, sink.out, name + " header",
                                                   limits.fallback_charsets);
                dst.insert(dst.end(), std::make_move_iterator(got.begin()),
                           std::make_move_iterator(got.end()));
                return;
            }
            address_done[t] = true;
            dst = detail::flatten_addresses(g_mime_message_get_addresses(msg, type), sink.out,
                                            name + " header", limits.fallback_charsets);
        };
        if (lname == "message-id") {
            if (!have_msgid) {
                have_msgid = true;
                auto ids = parse_message_ids(raw);
                if (ids.empty())
                    sink.add("header: no usable id in Message-ID header");
                else
                    pm.message_id = std::move(ids.front());
            }
        } else if (lname == "references") {
            auto ids = parse_message_ids(raw);
            pm.references.insert(pm.references.end(), std::make_move_iterator(ids.begin()),
                                 std::make_move_iterator(ids.end()));
        } else if (lname == "in-reply-to") {
            auto ids = parse_message_ids(raw);
            pm.in_reply_to.insert(pm.in_reply_to.end(), std::make_move_iterator(ids.begin()),
                                  std::make_move_iterator(ids.end()));
        } else if (lname == "subject") {
            if (!have_subject) {
                have_subject = true;
                pm.subject = value;
            }
        } else if (lname == "from") {
            addrs(pm.from, GMIME_ADDRESS_TYPE_FROM);
        } else if (lname == "sender") {
            addrs(pm.sender, GMIME_ADDRESS_TYPE_SENDER);
        } else if (lname == "reply-to") {
            addrs(pm.reply_to, GMIME_ADDRESS_TYPE_REPLY_TO);
        } else if (lname == "to") {
            addrs(pm.to, GMIME_ADDRESS_TYPE_TO);
        } else if (lname == "cc") {
            addrs(pm.cc, GMIME_ADDRESS_TYPE_CC);
        } else if (lname == "bcc") {
            addrs(pm.bcc, GMIME_ADDRESS_TYPE_BCC);
        } else if (lname == "date") {
            if (!have_date) {
                have_date = true;
                date_raw = value;
            }
        } else if (lname == "thread-index") {
            if (pm.thread_index.empty())
                pm.thread_index = value;
        } else if (lname == "x-gm-thrid") {
            if (pm.gmail_thread_id.empty())
                pm.gmail_thread_id = value;
        } else if (lname == "list-id") {
            pm.is_bulk = true;
            if (pm.list_id.empty()) {
                // RFC 2919: [phrase] "<" list-label "." list-id-namespace ">"
                std::string_view v = value;
                const std::size_t lt = v.rfind('<');
                const std::size_t gt = v.rfind('>');
                if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt)
                    v = v.substr(lt + 1, gt - lt - 1);
                pm.list_id = std::string(trim(v));
            }
        } else if (lname == "list-unsubscribe") {
            pm.is_bulk = true;
        } else if (lname == "precedence") {
            const std::string p = ascii_lower(trim(value));
            if (p == "bulk" || p == "list" || p == "junk")
                pm.is_bulk = true;
        } else if (lname == "auto-submitted") {
            // RFC 3834 §5: auto-submitted = "no" / "auto-generated" / "auto-replied" [; params]
            std::string_view v = trim(value);
            v = trim(v.substr(0, v.find_first_of(";( \t")));
            if (!v.empty() && ascii_lower(v) != "no")
                pm.is_bulk = true;
        } else if (lname == "authentication-results") {
            auth_results.push_back(value);
        }
        pm.headers.emplace_back(std::move(name), std::move(value));
    }

    if (have_date) {
        GDateTime *dt = g_mime_message_get_date(msg);
        if (dt != nullptr)
            pm.date = static_cast<std::int64_t>(g_date_time_to_unix(dt));
        else
            sink.add("date: unparsable Date header '" + date_raw.substr(0, 80) + "'");
    }
    pm.authentication_results = std::move(auth_results);
}

// The last line of defence for the "UTF-8 everywhere" contract.
void sanitize(ParsedMessage &pm) {
    auto fix = [](std::string &s) { repair_utf8(s); };
    fix(pm.message_id);
    for (auto &s : pm.references)
        fix(s);
    for (auto &s : pm.in_reply_to)
        fix(s);
    fix(pm.subject);
    for (auto *list : {&pm.from, &pm.sender, &pm.reply_to, &pm.to, &pm.cc, &pm.bcc})
        for (auto &a : *list) {
            fix(a.name);
            fix(a.address);
        }
    // pm.headers: names are repaired and values come out of decode_rfc2047() (valid UTF-8)
    // in read_headers(); not validated a second time.
    // text_body / html_body come out of to_utf8(), truncate_utf8() and html_to_text(), which
    // all guarantee valid UTF-8; not validating the largest strings twice.
    for (auto &a : pm.attachments) {
        fix(a.filename);
        fix(a.content_type);
        fix(a.content_id);
    }
    fix(pm.thread_index);
    fix(pm.gmail_thread_id);
    fix(pm.list_id);
    for (auto &w : pm.warnings)
        fix(w);
}

// A GByteArray over bytes it does not own: freed without them.
struct BorrowedBytes {
    explicit BorrowedBytes(std::string_view bytes)
        : array(g_byte_array_new_take(
              reinterpret_cast<guint8 *>(const_cast<char *>(bytes.data())), bytes.size())) {}
    BorrowedBytes(const BorrowedBytes &) = delete;
    BorrowedBytes &operator=(const BorrowedBytes &) = delete;
    ~BorrowedBytes() { g_byte_array_free(array, FALSE); }
    GByteArray *array;
};

void parse_into(std::string_view raw, const ParseLimits& limits, ParsedMessage& pm,
                detail::WarningSink& sink, ReportParts& parts) {
    if (raw.starts_with("\xEF\xBB\xBF")) // UTF-8 byte order mark from some exporters
        raw.remove_prefix(3);
    // An mbox envelope line ("From sender date") is not a header: drop it.
    if (raw.starts_with("From ")) {
        const std::size_t nl = raw.find('\n');
        raw = nl == std::string_view::npos ? std::string_view() : raw.substr(nl + 1);
    }
    // Blank lines or blanks before the first field (seen in exports: a line of spaces, " From:")
    // would end the header block at once: skip them when a field follows.
    {
        std::size_t p = 0;
        while (p < raw.size() &&
               (raw[p] == ' ' || raw[p] == '\t' || raw[p] == '\r' || raw[p] == '\n'))
            ++p;
        if (p > 0 && looks_like_field(raw.substr(p))) {
            raw.remove_prefix(p);
            sink.add("message: blank space before the header skipped");
        }
    }
    const Split split = split_header_body(raw);
    const std::string_view body = split.body_start == std::string_view::npos
                                      ? std::string_view()
                                      : raw.substr(split.body_start);
    pm.content_hash = detail::normalized_body_hash(body);

    // Header bytes limit, checked before GMime sees the bytes: the headers are cut at a line
    // boundary and the body re-attached after an empty line.
    std::string truncated;
    std::string_view input = raw;
    std::size_t input_header_end = split.header_end;
    if (split.header_end > limits.max_header_bytes) {
        std::size_t cut = raw.rfind('\n', limits.max_header_bytes);
        cut = cut == std::string_view::npos ? 0 : cut + 1;
        truncated.reserve(cut + 2 + body.size());
        truncated.append(raw.substr(0, cut));
        truncated.append("\n");
        truncated.append(body);
        input = truncated;
        input_header_end = cut;
        sink.add("limit: header bytes exceed " + std::to_string(limits.max_header_bytes) +
                 " in message headers, truncated");
    }

    std::string defused;
    if (detail::defuse(input, defused)) {
        input = defused;
        sink.add("limit: nested address groups, unclosed comments or too many parameters defused "
                 "before parsing");
    }

    if (input.size() > G_MAXUINT) { // a GByteArray's length is a guint (callers cap far below)
        pm.unparsable = true;
        sink.add("limit: message of " + std::to_string(input.size()) +
                 " bytes is too large to parse");
        return;
    }
    auto opts = detail::make_options(limits, &sink);
    // GMime reads the message in place: g_mime_stream_mem_new_with_buffer() would copy it. The
    // array borrows `input` (alive until we return) and the stream does not own the array; the
    // parser only reads its stream, and every GMime object is released before `borrowed`.
    BorrowedBytes borrowed(input);
    GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_byte_array(borrowed.array));
    g_mime_stream_mem_set_owner(reinterpret_cast<GMimeStreamMem *>(stream.get()), FALSE);
    GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    GPtr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), opts.get()));
    if (!msg) {
        pm.unparsable = true;
        sink.add("message: not an RFC 5322 message");
        if (split.body_start == std::string_view::npos)
            pm.content_hash = detail::normalized_body_hash(raw);
        return;
    }
    read_headers(msg.get(), opts.get(), limits, pm, sink);
    if (pm.headers.empty()) {
        pm.unparsable = true;
        sink.add("message: no header fields");
        if (split.body_start == std::string_view::npos)
            pm.content_hash = detail::normalized_body_hash(raw);
    }
    Walker walker(limits, pm, sink, parts);
    walker.walk(g_mime_message_get_mime_part(msg.get()));
    walker.finish();
    walker.locate_warnings(input_header_end);
    // Release GMime objects before the options they were parsed with.
    msg.reset();
    parser.reset();
    stream.reset();
}

} // namespace

ParsedMessage parse(std::span<const char> raw, const ParseLimits &limits) {
    ParsedMessage pm;
    detail::WarningSink sink;
    sink.out = &pm.warnings;
    try {
        init();
        ReportParts parts;
        parse_into(std::string_view(raw.data(), raw.size()), limits, pm, sink, parts);
        sanitize(pm);
        pm.report = classify_report(pm, parts);
    } catch (...) {
        // std::bad_alloc and friends: keep what we have, flag the message.
        try {
            pm.unparsable = true;
            pm.warnings.emplace_back("message: parse aborted (out of memory)");
            if (pm.content_hash.empty())
                pm.content_hash = sha256_hex(std::string_view(raw.data(), raw.size()));
            sanitize(pm);
        } catch (...) {
        }
    }
    return pm;
}

} // namespace crm::mime

namespace crm::mime {

std::optional<std::string> attachment_content(std::span<const char> raw, std::size_t position,
                                              std::string_view sha256, const ParseLimits &limits) {
    ParseLimits keep = limits;
    keep.keep_attachment_content = true;
    ParsedMessage pm = parse(raw, keep);
    auto &atts = pm.attachments;
    if (position < atts.size() && atts[position].sha256 == sha256)
        return std::move(atts[position].content);
    for (auto &a : atts)
        if (a.sha256 == sha256)
            return std::move(a.content);
    return std::nullopt;
}

} // namespace crm::mime
