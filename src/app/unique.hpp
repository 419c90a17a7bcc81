#pragma once
// Private to the app module: the small vector helper the use cases share.
#include <algorithm>
#include <vector>

namespace crm::app {

// Appends `x` unless `v` holds it already (first occurrence order, for short lists).
template <class T> void push_unique(std::vector<T>& v, const T& x) {
    if (std::find(v.begin(), v.end(), x) == v.end())
        v.push_back(x);
}

} // namespace crm::app
