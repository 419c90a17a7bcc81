#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <sys/stat.h>

#include "crm/mailfile/reader.hpp"
#include "input.hpp"
#include "mbox.hpp"

namespace crm::mailfile {

namespace fs = std::filesystem;

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view s) {
    int v = 0;
    for (char c : s)
        v = v * 10 + (c - '0');
    return v;
}

std::optional<std::int64_t> file_mtime(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return std::nullopt;
    return static_cast<std::int64_t>(st.st_mtime);
}

enum class Kind { MaildirMessage, Auto };

struct Job {
    std::string path;
    Kind kind;
    std::uint64_t size;
};

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

bool is_maildir(const fs::path& dir) { return is_dir(dir / "cur") || is_dir(dir / "new"); }

} // namespace

std::optional<std::int64_t> parse_from_line_date(std::string_view line) {
    static constexpr std::array<std::string_view, 12> kMonths = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (!line.starts_with("From "))
        return std::nullopt;
    std::vector<std::string_view> tok;
    for (std::size_t i = 5; i < line.size();) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' ||
                                   line[i] == '\n'))
            ++i;
        std::size_t j = i;
        while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' &&
               line[j] != '\n')
            ++j;
        if (j > i)
            tok.push_back(line.substr(i, j - i));
        i = j;
    }
    // asctime: [weekday] month day hh:mm[:ss] [zone] year [zone]; the sender (token 0) may be
    // anything, so look for month, day and time in a row.
    for (std::size_t i = 1; i + 2 < tok.size(); ++i) {
        auto month = std::find(kMonths.begin(), kMonths.end(), tok[i]);
        if (month == kMonths.end() || !all_digits(tok[i + 1]) || tok[i + 1].size() > 2)
            continue;
        std::string_view t = tok[i + 2];
        int hh = 0, mm = 0, ss = 0;
        if (t.size() == 8 && t[2] == ':' && t[5] == ':' && all_digits(t.substr(0, 2)) &&
            all_digits(t.substr(3, 2)) && all_digits(t.substr(6, 2))) {
            hh = to_int(t.substr(0, 2));
            mm = to_int(t.substr(3, 2));
            ss = to_int(t.substr(6, 2));
        } else if (t.size() == 5 && t[2] == ':' && all_digits(t.substr(0, 2)) &&
                   all_digits(t.substr(3, 2))) {
            hh = to_int(t.substr(0, 2));
            mm = to_int(t.substr(3, 2));
        } else {
            continue;
        }
        std::optional<int> year;
        int offset = 0;
        for (std::size_t k = i + 3; k < tok.size() && k < i + 6; ++k) {
            std::string_view z = tok[k];
            if (!year && z.size() == 4 && all_digits(z)) {
                year = to_int(z);
            } else if (z.size() == 5 && (z[0] == '+' || z[0] == '-') && all_digits(z.substr(1))) {
                int v = to_int(z.substr(1, 2)) * 3600 + to_int(z.substr(3, 2)) * 60;
                offset = z[0] == '-' ? -v : v;
            }
        }
        int day = to_int(tok[i + 1]);
        if (!year || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
            return std::nullopt;
        auto m = static_cast<unsigned>(month - kMonths.begin() + 1);
        std::int64_t days = days_from_civil(*year, m, static_cast<unsigned>(day));
        return days * 86400 + hh * 3600 + mm * 60 + ss - offset;
    }
    return std::nullopt;
}

bool maildir_name_seen(std::string_view name) {
    std::size_t p = name.rfind(":2,");
    if (p == std::string_view::npos)
        p = name.rfind("!2,");
    if (p == std::string_view::npos)
        return false;
    return name.substr(p + 3).find('S') != std::string_view::npos;
}

struct Walker::Impl {
    WalkerOptions options;
    std::vector<Job> jobs;
    std::size_t next_job = 0;
    std::vector<std::string> errors;
    std::uint64_t total = 0;
    std::uint64_t done_bytes = 0; // bytes of files finished
    std::set<std::pair<dev_t, ino_t>> visited;

    detail::Input input;
    std::optional<detail::MboxSplitter> mbox;
    const Job* current = nullptr;

    void error(const std::string& path, std::string_view what) {
        errors.push_back(fmt::format("{}: {}", path, what));
    }

    // Sorted entries of a directory; false (and an error) when it cannot be listed or was seen
    // already through a symlink.
    bool list(const fs::path& dir, std::vector<fs::directory_entry>& out) {
        struct stat st {};
        if (::stat(dir.c_str(), &st) == 0 && !visited.insert({st.st_dev, st.st_ino}).second)
            return false; // a loop or a second path to the same folder
        std::error_code ec;
        fs::directory_iterator it(dir, ec);
        if (ec) {
            error(dir.string(), ec.message());
            return false;
        }
        for (; it != fs::directory_iterator(); it.increment(ec)) {
            out.push_back(*it);
        }
        if (ec)
            error(dir.string(), ec.message());
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
            return a.path().filename().native() < b.path().filename().native();
        });
        return true;
    }

    void add_file(const fs::directory_entry& e, Kind kind) {
        std::error_code ec;
        std::uint64_t size = e.file_size(ec);
        if (ec)
            size = 0;
        total += size;
        jobs.push_back(Job{e.path().string(), kind, size});
    }

    static bool hidden(const fs::directory_entry& e) {
        return e.path().filename().native().starts_with('.');
    }

    void scan_maildir_files(const fs::path& dir) {
        std::vector<fs::directory_entry> entries;
        if (!list(dir, entries))
            return;
        for (const auto& e : entries) {
            std::error_code ec;
            if (!hidden(e) && e.is_regular_file(ec))
                add_file(e, Kind::MaildirMessage);
        }
    }

    // A Maildir, or a folder inside a Maildir tree: only cur/ and new/ hold messages; other
    // subfolders (Maildir++ ".Sent", nested "foo/bar") are searched for more of them.
    void scan_maildir_tree(const fs::path& dir) {
        std::vector<fs::directory_entry> entries;
        if (!list(dir, entries))
            return;
        for (const auto& e : entries) {
            std::error_code ec;
            if (!e.is_directory(ec))
                continue;
            const std::string name = e.path().filename().native();
            if (name == "cur" || name == "new")
                scan_maildir_files(e.path());
            else if (name != "tmp" && name != "." && name != "..")
                scan_maildir_tree(e.path());
        }
    }

    void scan_plain_dir(const fs::path& dir) {
        std::vector<fs::directory_entry> entries;
        if (!list(dir, entries))
            return;
        for (const auto& e : entries) {
            if (hidden(e))
                continue;
            std::error_code ec;
            if (e.is_directory(ec))
                scan_dir(e.path());
            else if (e.is_regular_file(ec))
                add_file(e, Kind::Auto);
        }
    }

    void scan_dir(const fs::path& dir) {
        if (is_maildir(dir))
            scan_maildir_tree(dir);
        else
            scan_plain_dir(dir);
    }

    void scan_root(const fs::path& root) {
        std::error_code ec;
        fs::file_status st = fs::status(root, ec);
        if (ec || !fs::exists(st)) {
            error(root.string(), ec ? ec.message() : "no such file or directory");
            return;
        }
        if (fs::is_directory(st)) {
            scan_dir(root);
        } else if (fs::is_regular_file(st)) {
            fs::directory_entry e(root, ec);
            const auto parent = root.parent_path().filename().native();
            add_file(e, parent == "cur" || parent == "new" ? Kind::MaildirMessage : Kind::Auto);
        } else {
            error(root.string(), "not a regular file or directory");
        }
    }

    void finish_file() {
        input.close();
        if (!input.error().empty() && current != nullptr)
            error(current->path, input.error());
        if (current != nullptr)
            done_bytes += current->size;
        mbox.reset();
        current = nullptr;
    }

    // Reads the whole (decompressed) stream as one message.
    bool read_single(const Job& job, RawMessage& out) {
        std::string bytes;
        for (;;) {
            std::size_t n = input.fill(64 * 1024);
            if (n == 0)
                break;
            if (bytes.size() + n > options.max_message_bytes) {
                error(job.path, fmt::format("message larger than {} bytes, skipped",
                                            options.max_message_bytes));
                return false;
            }
            bytes.append(input.available());
            input.consume(n);
        }
        if (!input.error().empty())
            return false; // reported by finish_file()
        if (bytes.empty()) {
            error(job.path, "empty file, skipped");
            return false;
        }
        out.bytes = std::move(bytes);
        out.origin = job.path;
        out.seen = job.kind == Kind::MaildirMessage &&
                   maildir_name_seen(fs::path(job.path).filename().native());
        out.received = file_mtime(job.path);
        return true;
    }

    bool next(RawMessage& out) {
        for (;;) {
            if (mbox) {
                if (mbox->next(out, errors))
                    return true;
                finish_file();
                continue;
            }
            if (next_job >= jobs.size())
                return false;
            current = &jobs[next_job++];
            if (!input.open(current->path)) {
                error(current->path, input.error());
                done_bytes += current->size;
                current = nullptr;
                continue;
            }
            if (current->kind == Kind::Auto && detail::looks_like_mbox(input)) {
                mbox.emplace(input, current->path, options.max_message_bytes);
                continue;
            }
            bool ok = read_single(*current, out);
            finish_file();
            if (ok)
                return true;
        }
    }
};

Walker::Walker(std::vector<fs::path> roots, WalkerOptions options)
    : impl_(std::make_unique<Impl>()) {
    impl_->options = options;
    for (const auto& r : roots)
        impl_->scan_root(r);
}

Walker::~Walker() = default;
Walker::Walker(Walker&&) noexcept = default;
Walker& Walker::operator=(Walker&&) noexcept = default;

Result<bool> Walker::next(RawMessage& out) { return impl_->next(out); }

const std::vector<std::string>& Walker::errors() const { return impl_->errors; }

std::uint64_t Walker::bytes_read() const {
    return impl_->done_bytes + (impl_->current != nullptr ? impl_->input.raw_offset() : 0);
}

std::uint64_t Walker::total_bytes_hint() const { return impl_->total; }

} // namespace crm::mailfile
