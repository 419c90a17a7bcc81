#pragma once
// Sanitised HTML bodies kept in memory (least recently used out first), so that a thread is
// sanitised once and not on every view: the sanitiser takes 0.1-0.35 s per MB of mail.
// The key is the message's row id, content hash and HTML size, and whether remote images are
// shown; the sanitiser cannot change while the process runs, so no version is needed in it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace crm::http {

struct SafeHtml {
    std::string html; // mime::sanitize_html's output
    int remote_images = 0;
};

class HtmlCache {
  public:
    explicit HtmlCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

    // The cached body for `key`, or make()'s, which is then kept (unless it alone would take
    // over a quarter of the cache). make() runs outside the lock: two requests missing the same
    // key at once both sanitise, and the second result replaces the first.
    std::shared_ptr<const SafeHtml> get(const std::string& key,
                                        const std::function<SafeHtml()>& make);

    struct Stats {
        std::uint64_t hits = 0, misses = 0;
        std::size_t entries = 0, bytes = 0;
    };
    [[nodiscard]] Stats stats() const;

  private:
    using Lru = std::list<std::pair<std::string, std::shared_ptr<const SafeHtml>>>;
    static std::size_t cost(const std::string& key, const SafeHtml& v) {
        return key.size() + v.html.size() + 128;
    }

    std::size_t max_bytes_;
    mutable std::mutex mu_;
    Lru lru_; // most recently used first
    std::unordered_map<std::string, Lru::iterator> index_;
    std::size_t bytes_ = 0;
    std::uint64_t hits_ = 0, misses_ = 0;
};

} // namespace crm::http
