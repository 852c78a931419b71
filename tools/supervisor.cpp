#include "supervisor.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "ledger.hpp"
#include "read_guard.hpp"

namespace scope_profiler::cli {

namespace {

volatile sig_atomic_t g_child = 0;

extern "C" void forward_to_child(int signal_number) {
    if (g_child > 0) ::kill(static_cast<pid_t>(g_child), signal_number);
}

const char* signal_name(int signal_number) {
    switch (signal_number) {
        case SIGSEGV: return "SIGSEGV";
        case SIGBUS: return "SIGBUS";
        case SIGFPE: return "SIGFPE";
        case SIGILL: return "SIGILL";
        case SIGABRT: return "SIGABRT";
        case SIGKILL: return "SIGKILL";
        case SIGVTALRM: return "SIGVTALRM";
        default: return "a signal";
    }
}

/// A signal that ends a program for something it did (or that the watchdog or the kernel sent):
/// the parent reports these; it passes every other signal on by ending the same way.
bool is_crash(int signal_number) {
    switch (signal_number) {
        case SIGSEGV:
        case SIGBUS:
        case SIGFPE:
        case SIGILL:
        case SIGABRT:
        case SIGSYS:
        case SIGTRAP:
        case SIGVTALRM:
        case SIGKILL:
            return true;
        default:
            return false;
    }
}

/// What the parent says and returns when the child was ended by a crash (is_crash).
int report_signal(int signal_number) {
    const char* input = ledger::reading();
    std::string message;
    int code = 1;
    if (input != nullptr && signal_number == SIGVTALRM) {
        std::string limit = "SCOPE_PROFILER_READ_STALL_S";
        try {
            char text[32];
            std::snprintf(text, sizeof text, "%g s", read_stall_limit_seconds());
            limit = text;
        } catch (...) {
        }
        message = std::string(input) + ": the HDF5 library made no progress reading this file in " + limit +
                  " of CPU time (it loops on damaged data): the file is damaged";
        code = 2;
    } else if (input != nullptr && signal_number != SIGKILL) {
        message = std::string(input) + ": the HDF5 library crashed reading this file (" + signal_name(signal_number) +
                  "): the file is damaged";
        code = 2;
    } else if (signal_number == SIGKILL) {
        message = "the command was killed (SIGKILL; out of memory?)";
    } else {
        message = std::string("internal error: the command ended with ") + signal_name(signal_number) + " (" +
                  strsignal(signal_number) + ")";
    }
    std::cerr << "scope-profiler: " << message << std::endl;
    return code;
}

bool isolation_wanted() {
    const char* text = std::getenv("SCOPE_PROFILER_ISOLATE");
    return text == nullptr || std::strcmp(text, "0") != 0;
}

}  // namespace

int supervise() {
    if (!isolation_wanted()) return -1;
    ledger::map();
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    if (child < 0) return -1;  // no process to spare: run without isolation
    if (child == 0) {
        // The child ends with its parent (a parent killed by SIGKILL cannot pass it on), and the
        // watchdog's signal must keep its default action, whatever the shell left.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(1);
        ::signal(SIGVTALRM, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGVTALRM);
        ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
        return -1;
    }
    g_child = child;
    for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
        struct sigaction action {};
        action.sa_handler = forward_to_child;
        sigemptyset(&action.sa_mask);
        ::sigaction(signal_number, &action, nullptr);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            std::cerr << "scope-profiler: internal error: waitpid: " << std::strerror(errno) << std::endl;
            return 1;
        }
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    ledger::remove_temporaries();
    const int signal_number = WTERMSIG(status);
    if (!is_crash(signal_number)) {
        // Interrupted (SIGINT, SIGTERM), a closed pipe (`| head`: SIGPIPE), a file size limit:
        // end the same way and say nothing, as the program did in one process.
        ::signal(signal_number, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, signal_number);
        ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
        ::raise(signal_number);
    }
    return report_signal(signal_number);
}

}  // namespace scope_profiler::cli
