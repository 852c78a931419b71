#pragma once
// Compiler-specific spellings behind the library's own macros, so the public headers compile
// as C++17 and C++20 with g++, clang and nvcc (host and device passes). Users do not include this.

/// Constant initialization, checked: `constinit` where the language has it (C++20), the
/// compilers' own spelling of it in C++17. Besides the check, it is what lets the compiler
/// reach an `extern thread_local` without calling its TLS init function on every access.
#if defined(__cpp_constinit) && __cpp_constinit >= 201907L
#define SCOPE_PROFILER_CONSTINIT constinit
#elif defined(__clang__)
#define SCOPE_PROFILER_CONSTINIT __attribute__((__require_constant_initialization__))
#elif defined(__GNUC__) && __GNUC__ >= 10
#define SCOPE_PROFILER_CONSTINIT __constinit
#else
#define SCOPE_PROFILER_CONSTINIT
#endif

/// Branch hints: `[[likely]]` is C++20 only; __builtin_expect works in every mode.
#if defined(__GNUC__) || defined(__clang__)
#define SCOPE_PROFILER_LIKELY(x) (__builtin_expect(!!(x), 1))
#define SCOPE_PROFILER_UNLIKELY(x) (__builtin_expect(!!(x), 0))
#define SCOPE_PROFILER_NOINLINE __attribute__((noinline))
#else
#define SCOPE_PROFILER_LIKELY(x) (x)
#define SCOPE_PROFILER_UNLIKELY(x) (x)
#define SCOPE_PROFILER_NOINLINE
#endif
