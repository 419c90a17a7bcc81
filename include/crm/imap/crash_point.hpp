#pragma once
// Labelled crash points for crash-safety tests: when the environment variable CRM_CRASH_AT names
// this label, the process kills itself with SIGKILL right here (after CRM_CRASH_SKIP passes, if
// set). Costs one cached getenv when unset. Only in test builds (CMake option CRM_TEST_HOOKS, on
// in the ci and dev presets): elsewhere, as in the release binaries, it compiles to nothing.

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace crm::imap {

#ifdef CRM_TEST_HOOKS
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
#else
inline void crash_point(const char*) {}
#endif

// CRM_TEST_FAST_RETRY=1 (test builds only): the daemon's retry and stall timers are cut short.
[[nodiscard]] inline bool test_fast_retry() {
#ifdef CRM_TEST_HOOKS
    static const bool on = [] {
        const char* t = std::getenv("CRM_TEST_FAST_RETRY");
        return t && *t == '1';
    }();
    return on;
#else
    return false;
#endif
}

} // namespace crm::imap
