#include "cli.hpp"

#include <algorithm>
#include <charconv>

namespace crm::ctl {

Args::Args(std::vector<std::string> argv, const std::vector<std::string>& value_flags,
           const std::vector<std::string>& bool_flags) {
    auto known = [](const std::vector<std::string>& v, const std::string& f) {
        return std::find(v.begin(), v.end(), f) != v.end();
    };
    bool only_pos = false;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (only_pos || a.size() < 2 || a[0] != '-') {
            pos_.push_back(a);
            continue;
        }
        if (a == "--") {
            only_pos = true;
            continue;
        }
        std::string name = a, val;
        bool has_val = false;
        if (auto eq = a.find('='); eq != std::string::npos) {
            name = a.substr(0, eq);
            val = a.substr(eq + 1);
            has_val = true;
        }
        if (known(bool_flags, name)) {
            if (has_val)
                throw UsageError{name + " takes no value"};
            flags_[name].emplace_back();
        } else if (known(value_flags, name)) {
            if (!has_val) {
                if (i + 1 >= argv.size())
                    throw UsageError{name + " needs a value"};
                val = argv[++i];
            }
            flags_[name].push_back(val);
        } else {
            throw UsageError{"unknown option " + name};
        }
    }
}

std::optional<std::string> Args::value(const std::string& flag) const {
    auto it = flags_.find(flag);
    if (it == flags_.end() || it->second.empty())
        return std::nullopt;
    return it->second.back();
}

std::vector<std::string> Args::values(const std::string& flag) const {
    auto it = flags_.find(flag);
    return it == flags_.end() ? std::vector<std::string>{} : it->second;
}

long long parse_id(const std::string& what, const std::string& text) {
    long long v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || v <= 0)
        throw UsageError{what + ": '" + text + "' is not a positive whole number"};
    return v;
}

} // namespace crm::ctl
