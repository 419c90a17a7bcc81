#pragma once
// Labelled crash points for crash-safety tests: when the environment variable CRM_CRASH_AT names
// this label, the process kills itself with SIGKILL right here (after CRM_CRASH_SKIP passes, if
// set). Costs one cached getenv when unset.

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace crm::imap {

inline void crash_point(const char* label) {
    static const char* want = std::getenv("CRM_CRASH_AT");
    static long skip = [] {
        const char* s = std::getenv("CRM_CRASH_SKIP");
        return s ? std::strtol(s, nullptr, 10) : 0L;
    }();
    if (want && std::strcmp(want, label) == 0) {
        if (skip-- > 0)
            return;
        ::kill(::getpid(), SIGKILL);
    }
}

} // namespace crm::imap
