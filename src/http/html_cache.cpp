// The sanitised HTML cache (html_cache.hpp).

#include "html_cache.hpp"

namespace crm::http {

std::shared_ptr<const SafeHtml> HtmlCache::get(const std::string& key,
                                               const std::function<SafeHtml()>& make) {
    {
        std::lock_guard lock(mu_);
        if (auto it = index_.find(key); it != index_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second);
            ++hits_;
            return it->second->second;
        }
        ++misses_;
    }
    auto value = std::make_shared<const SafeHtml>(make());
    const std::size_t c = cost(key, *value);
    if (c > max_bytes_ / 4)
        return value;
    std::lock_guard lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) {
        bytes_ -= cost(key, *it->second->second);
        lru_.erase(it->second);
        index_.erase(it);
    }
    lru_.emplace_front(key, value);
    index_.emplace(key, lru_.begin());
    bytes_ += c;
    while (bytes_ > max_bytes_ && !lru_.empty()) {
        auto& [k, v] = lru_.back();
        bytes_ -= cost(k, *v);
        index_.erase(k);
        lru_.pop_back();
    }
    return value;
}

HtmlCache::Stats HtmlCache::stats() const {
    std::lock_guard lock(mu_);
    return {hits_, misses_, index_.size(), bytes_};
}

} // namespace crm::http
