#include "read_guard.hpp"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "ledger.hpp"
#include "profile_file.hpp"

namespace scope_profiler::cli {

namespace {

thread_local int t_depth = 0;
thread_local timer_t t_timer{};
thread_local bool t_timer_live = false;

itimerspec stall_interval() {
    static const double limit = read_stall_limit_seconds();
    itimerspec spec{};
    spec.it_value.tv_sec = static_cast<time_t>(limit);
    spec.it_value.tv_nsec = static_cast<long>((limit - std::floor(limit)) * 1e9);
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
    return spec;
}

/// A timer on this thread's CPU clock that sends SIGVTALRM (default action: end the process).
/// Where one cannot be made, reading goes on without a watchdog.
void start_watchdog() {
    clockid_t clock{};
    if (pthread_getcpuclockid(pthread_self(), &clock) != 0) return;
    sigevent event{};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGVTALRM;
    if (timer_create(clock, &event, &t_timer) != 0) return;
    t_timer_live = true;
    const itimerspec spec = stall_interval();
    timer_settime(t_timer, 0, &spec, nullptr);
}

void stop_watchdog() noexcept {
    if (!t_timer_live) return;
    timer_delete(t_timer);
    t_timer_live = false;
}

}  // namespace

double read_stall_limit_seconds() {
    const char* text = std::getenv("SCOPE_PROFILER_READ_STALL_S");
    if (text == nullptr || *text == '\0') return 20.0;
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !std::isfinite(value) || value <= 0 || value > 1e6) {
        throw InputError(std::string("SCOPE_PROFILER_READ_STALL_S='") + text +
                         "' is not a number of seconds between 0 and 1e6");
    }
    return value;
}

ReadGuard::ReadGuard(const std::string& path) {
    if (t_depth == 0) {
        (void)stall_interval();  // a bad SCOPE_PROFILER_READ_STALL_S throws here, before any state
        outermost_ = true;
        ledger::set_reading(path);
        start_watchdog();
    }
    ++t_depth;
}

ReadGuard::~ReadGuard() {
    --t_depth;
    if (!outermost_) return;
    stop_watchdog();
    ledger::clear_reading();
}

void ReadGuard::progress() noexcept {
    if (!t_timer_live) return;
    const itimerspec spec = stall_interval();
    timer_settime(t_timer, 0, &spec, nullptr);
}

}  // namespace scope_profiler::cli
