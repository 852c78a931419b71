// Self-test of the nvtx_capture injection library: calls NVTX and checks what was recorded.
//
// Two modes, chosen by ctest (see CMakeLists.txt):
//   NVTX_INJECTION64_PATH=<libnvtx_capture.so>  --gtest_filter=-NoInjection.*
//   (variable unset)                            --gtest_filter=NoInjection.*
// Each test asserts the mode it needs, so a test run in the wrong mode fails, never passes.
#include <nvtx3/nvToolsExt.h>
#include <nvtx3/nvtx3.hpp>

#include "nvtx_capture.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <link.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace nc = nvtx_capture;

namespace {

constexpr const char* kEnv = "NVTX_INJECTION64_PATH";

std::uint64_t tid() { return static_cast<std::uint64_t>(::syscall(SYS_gettid)); }

std::vector<nc::Event> events_in(const std::string& domain) {
    std::vector<nc::Event> out;
    for (const nc::Event& e : nc::events()) {
        if (e.domain == domain) {
            out.push_back(e);
        }
    }
    return out;
}

nvtxEventAttributes_t ascii(const char* message, std::uint32_t category = 0) {
    nvtxEventAttributes_t attr{};
    attr.version = NVTX_VERSION;
    attr.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    attr.category = category;
    attr.messageType = NVTX_MESSAGE_TYPE_ASCII;
    attr.message.ascii = message;
    return attr;
}

nvtxEventAttributes_t registered(nvtxStringHandle_t message, std::uint32_t category = 0) {
    nvtxEventAttributes_t attr{};
    attr.version = NVTX_VERSION;
    attr.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    attr.category = category;
    attr.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
    attr.message.registered = message;
    return attr;
}

nvtxEventAttributes_t colored(nvtxEventAttributes_t attr, std::uint32_t argb) {
    attr.colorType = NVTX_COLOR_ARGB;
    attr.color = argb;
    return attr;
}

// What a test expects of an event; the thread is checked separately.
struct Expected {
    nc::Kind kind;
    std::string domain;
    std::string message;
    bool message_registered;
    bool has_color;
    std::uint32_t color;
    std::uint32_t category;
    int depth_after;
};

void expect_event(const nc::Event& e, const Expected& x) {
    SCOPED_TRACE(::testing::Message() << "event: " << e);
    EXPECT_EQ(e.kind, x.kind);
    EXPECT_EQ(e.domain, x.domain);
    EXPECT_EQ(e.message, x.message);
    EXPECT_EQ(e.message_registered, x.message_registered);
    EXPECT_EQ(e.has_color, x.has_color);
    EXPECT_EQ(e.color, x.color);
    EXPECT_EQ(e.category, x.category);
    EXPECT_EQ(e.depth_after, x.depth_after);
}

void expect_events(const std::vector<nc::Event>& got, const std::vector<Expected>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        SCOPED_TRACE(::testing::Message() << "event #" << i);
        expect_event(got[i], want[i]);
    }
}

using K = nc::Kind;

// Every test here needs the injection: it fails (never skips) when the variable is missing.
class WithInjection : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_NE(std::getenv(kEnv), nullptr)
            << kEnv << " must name libnvtx_capture.so for these tests (ctest sets it)";
        nvtxInitialize(nullptr);  // NVTX loads the injection on its first call
        ASSERT_TRUE(nc::attached()) << "NVTX did not call InitializeInjectionNvtx2";
        nc::clear();
    }
};

}  // namespace

// NVTX's dlopen of the path in the environment and the executable's link give one object.
TEST_F(WithInjection, SharedInstance) {
    const char* path = std::getenv(kEnv);
    ASSERT_EQ(path[0], '/') << "ctest passes an absolute path: " << path;

    // Loaded already (RTLD_NOLOAD loads nothing) ...
    void* by_path = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
    ASSERT_NE(by_path, nullptr) << dlerror();
    // ... and the object whose symbols the executable resolved at link time: RTLD_DEFAULT
    // searches the global scope (the executable and its DT_NEEDED libraries), which a
    // library dlopen()ed with RTLD_LOCAL by NVTX would not be part of.
    void* entry_global = dlsym(RTLD_DEFAULT, "InitializeInjectionNvtx2");
    ASSERT_NE(entry_global, nullptr) << dlerror();
    EXPECT_EQ(dlsym(by_path, "InitializeInjectionNvtx2"), entry_global);
    Dl_info info{};
    ASSERT_NE(dladdr(entry_global, &info), 0);
    void* linked = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    EXPECT_EQ(linked, by_path) << "linked: " << info.dli_fname << ", NVTX's: " << path;

    // The file NVTX was told to load is the file the executable linked (by device and
    // inode, so a symlink or another spelling of the path counts as the same), and the
    // process maps it once.
    struct stat want{};
    struct stat got{};
    ASSERT_EQ(stat(path, &want), 0);
    ASSERT_EQ(stat(info.dli_fname, &got), 0);
    EXPECT_TRUE(want.st_dev == got.st_dev && want.st_ino == got.st_ino)
        << "linked: " << info.dli_fname << ", NVTX's: " << path;
    struct Count {
        struct stat file;
        int n = 0;
    } count{want};
    dl_iterate_phdr(
        [](dl_phdr_info* object, std::size_t, void* data) {
            auto* c = static_cast<Count*>(data);
            struct stat st{};
            if (object->dlpi_name[0] != '\0' && stat(object->dlpi_name, &st) == 0 &&
                st.st_dev == c->file.st_dev && st.st_ino == c->file.st_ino) {
                ++c->n;
            }
            return 0;
        },
        &count);
    EXPECT_EQ(count.n, 1);

    // And the functional proof: NVTX called InitializeInjectionNvtx2 only in the copy it
    // dlopen()ed, and attached() of the linked copy saw it (SetUp); a call through NVTX
    // shows up in the linked copy's events().
    nvtxMarkA("shared");
    const auto recorded = nc::events();
    ASSERT_EQ(recorded.size(), 1u);
    EXPECT_EQ(recorded[0].message, "shared");

    if (linked != nullptr) {
        dlclose(linked);
    }
    dlclose(by_path);
}

TEST_F(WithInjection, DomainCalls) {
    const std::string name = "capture.selftest.calls";
    nvtxDomainHandle_t d = nvtxDomainCreateA(name.c_str());
    ASSERT_NE(d, nullptr);
    nvtxDomainNameCategoryA(d, 7, "io");
    nvtxDomainNameCategoryA(d, 9, "compute");
    nvtxStringHandle_t outer = nvtxDomainRegisterStringA(d, "outer");
    nvtxStringHandle_t other = nvtxDomainRegisterStringA(d, "other");
    ASSERT_NE(outer, nullptr);
    ASSERT_NE(other, nullptr);
    EXPECT_NE(outer, other);

    auto a1 = colored(registered(outer, 7), 0xFF112233u);
    auto a2 = ascii("inner", 9);
    auto a3 = colored(ascii("tick"), 0xFF00FF00u);
    auto a4 = registered(other);
    EXPECT_EQ(nvtxDomainRangePushEx(d, &a1), 0);  // the 0-based level of the range started
    EXPECT_EQ(nvtxDomainRangePushEx(d, &a2), 1);
    nvtxDomainMarkEx(d, &a3);
    EXPECT_EQ(nvtxDomainRangePop(d), 1);          // the level of the range ended
    nvtxDomainMarkEx(d, &a4);
    EXPECT_EQ(nvtxDomainRangePop(d), 0);

    const auto all = nc::events();
    expect_events(all, {
        {K::push, name, "outer", true, true, 0xFF112233u, 7, 1},
        {K::push, name, "inner", false, false, 0, 9, 2},
        {K::mark, name, "tick", false, true, 0xFF00FF00u, 0, 2},
        {K::pop, name, "", false, false, 0, 0, 1},
        {K::mark, name, "other", true, false, 0, 0, 1},
        {K::pop, name, "", false, false, 0, 0, 0},
    });
    for (const nc::Event& e : all) {
        EXPECT_EQ(e.thread, tid()) << e;
    }
    EXPECT_TRUE(events_in("").empty()) << "nothing went to the default domain";

    EXPECT_EQ(nc::category_names(name), (std::map<std::uint32_t, std::string>{{7, "io"}, {9, "compute"}}));
    EXPECT_EQ(nc::registered_string_count(name), 2u);
    const auto created = nc::domains();
    EXPECT_EQ(std::count(created.begin(), created.end(), name), 1);
    EXPECT_TRUE(nc::category_names("capture.selftest.nowhere").empty());
    EXPECT_EQ(nc::registered_string_count("capture.selftest.nowhere"), 0u);
}

// The CORE module (no domain) and domain calls with a NULL handle: the default domain "".
TEST_F(WithInjection, DefaultDomain) {
    auto ex = colored(ascii("b", 3), 0xFFABCDEFu);
    auto in_null = ascii("c");
    auto mark_null = ascii("m2");
    EXPECT_EQ(nvtxRangePushA("a"), 0);
    EXPECT_EQ(nvtxRangePushEx(&ex), 1);
    nvtxMarkA("m1");
    EXPECT_EQ(nvtxDomainRangePushEx(nullptr, &in_null), 2);  // the same default-domain stack
    nvtxDomainMarkEx(nullptr, &mark_null);
    nvtxMarkEx(&ex);
    EXPECT_EQ(nvtxDomainRangePop(nullptr), 2);
    EXPECT_EQ(nvtxRangePop(), 1);
    EXPECT_EQ(nvtxRangePop(), 0);
    nvtxNameCategoryA(3, "three");
    nvtxDomainNameCategoryA(nullptr, 4, "four");

    expect_events(nc::events(), {
        {K::push, "", "a", false, false, 0, 0, 1},
        {K::push, "", "b", false, true, 0xFFABCDEFu, 3, 2},
        {K::mark, "", "m1", false, false, 0, 0, 2},
        {K::push, "", "c", false, false, 0, 0, 3},
        {K::mark, "", "m2", false, false, 0, 0, 3},
        {K::mark, "", "b", false, true, 0xFFABCDEFu, 3, 3},
        {K::pop, "", "", false, false, 0, 0, 2},
        {K::pop, "", "", false, false, 0, 0, 1},
        {K::pop, "", "", false, false, 0, 0, 0},
    });
    const auto names = nc::category_names("");
    EXPECT_EQ(names.at(3), "three");
    EXPECT_EQ(names.at(4), "four");
}

TEST_F(WithInjection, PopWithoutPush) {
    nvtxDomainHandle_t d = nvtxDomainCreateA("capture.selftest.unbalanced");
    auto a = ascii("after");
    EXPECT_LT(nvtxDomainRangePop(d), 0);
    EXPECT_EQ(nvtxDomainRangePushEx(d, &a), 0);  // the depth stayed 0
    EXPECT_EQ(nvtxDomainRangePop(d), 0);
    expect_events(nc::events(), {
        {K::pop, "capture.selftest.unbalanced", "", false, false, 0, 0, -1},
        {K::push, "capture.selftest.unbalanced", "after", false, false, 0, 0, 1},
        {K::pop, "capture.selftest.unbalanced", "", false, false, 0, 0, 0},
    });
}

TEST_F(WithInjection, EachDomainHasItsOwnStack) {
    nvtxDomainHandle_t d1 = nvtxDomainCreateA("capture.selftest.one");
    nvtxDomainHandle_t d2 = nvtxDomainCreateA("capture.selftest.two");
    ASSERT_NE(d1, d2);
    auto a = ascii("x");
    nvtxDomainRangePushEx(d1, &a);
    nvtxDomainRangePushEx(d2, &a);
    nvtxDomainRangePushEx(d1, &a);
    nvtxDomainRangePop(d2);
    nvtxDomainRangePop(d1);
    nvtxDomainRangePop(d1);
    std::vector<int> depths;
    for (const nc::Event& e : nc::events()) {
        depths.push_back(e.depth_after);
    }
    EXPECT_EQ(depths, (std::vector<int>{1, 1, 2, 0, 1, 0}));
    EXPECT_EQ(events_in("capture.selftest.one").size(), 4u);
    EXPECT_EQ(events_in("capture.selftest.two").size(), 2u);
}

TEST_F(WithInjection, CreateTwiceAndDestroy) {
    const std::string name = "capture.selftest.twice";
    nvtxDomainHandle_t first = nvtxDomainCreateA(name.c_str());
    nvtxDomainHandle_t second = nvtxDomainCreateA(name.c_str());
    EXPECT_EQ(first, second) << "one domain per name";
    const auto created = nc::domains();
    EXPECT_EQ(std::count(created.begin(), created.end(), name), 2) << "every call";
    nvtxDomainDestroy(first);
    const auto destroyed = nc::destroyed_domains();
    EXPECT_NE(std::find(destroyed.begin(), destroyed.end(), name), destroyed.end());
    EXPECT_TRUE(nc::events().empty()) << "create and destroy are no events";
}

TEST_F(WithInjection, ClearForgetsOnlyEvents) {
    const std::string name = "capture.selftest.clear";
    nvtxDomainHandle_t d = nvtxDomainCreateA(name.c_str());
    nvtxDomainNameCategoryA(d, 1, "one");
    nvtxStringHandle_t s = nvtxDomainRegisterStringA(d, "kept");
    auto a = registered(s);
    nvtxDomainRangePushEx(d, &a);
    nc::clear();
    EXPECT_TRUE(nc::events().empty());
    EXPECT_EQ(nc::category_names(name).at(1), "one");
    EXPECT_EQ(nc::registered_string_count(name), 1u);
    const auto created = nc::domains();
    EXPECT_NE(std::find(created.begin(), created.end(), name), created.end());
    nvtxDomainMarkEx(d, &a);  // the handle still resolves; the open range still counts
    nvtxDomainRangePop(d);
    expect_events(nc::events(), {
        {K::mark, name, "kept", true, false, 0, 0, 1},
        {K::pop, name, "", false, false, 0, 0, 0},
    });
}

TEST_F(WithInjection, Threads) {
    const std::string name = "capture.selftest.threads";
    nvtxDomainHandle_t d = nvtxDomainCreateA(name.c_str());
    constexpr int kThreads = 4;
    constexpr int kIterations = 500;
    std::vector<std::uint64_t> ids(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            ids[t] = tid();
            const std::string text = "thread " + std::to_string(t);
            auto outer = registered(nvtxDomainRegisterStringA(d, text.c_str()), t);
            auto inner = ascii("inner");
            for (int i = 0; i < kIterations; ++i) {
                nvtxDomainRangePushEx(d, &outer);
                nvtxDomainRangePushEx(d, &inner);
                nvtxDomainMarkEx(d, &inner);
                nvtxDomainRangePop(d);
                nvtxDomainRangePop(d);
            }
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }

    const auto all = nc::events();
    ASSERT_EQ(all.size(), std::size_t{kThreads} * kIterations * 5);
    EXPECT_EQ(nc::registered_string_count(name), std::size_t{kThreads});
    EXPECT_EQ(std::set<std::uint64_t>(ids.begin(), ids.end()).size(), std::size_t{kThreads});
    for (int t = 0; t < kThreads; ++t) {
        SCOPED_TRACE(::testing::Message() << "thread " << t);
        std::vector<nc::Event> mine;
        std::copy_if(all.begin(), all.end(), std::back_inserter(mine),
                     [&](const nc::Event& e) { return e.thread == ids[t]; });
        ASSERT_EQ(mine.size(), std::size_t{kIterations} * 5);
        const std::string text = "thread " + std::to_string(t);
        for (int i = 0; i < kIterations; ++i) {
            const nc::Event* e = &mine[std::size_t(i) * 5];
            expect_event(e[0], {K::push, name, text, true, false, 0, std::uint32_t(t), 1});
            expect_event(e[1], {K::push, name, "inner", false, false, 0, 0, 2});
            expect_event(e[2], {K::mark, name, "inner", false, false, 0, 0, 2});
            expect_event(e[3], {K::pop, name, "", false, false, 0, 0, 1});
            expect_event(e[4], {K::pop, name, "", false, false, 0, 0, 0});
            if (::testing::Test::HasFailure()) {
                return;
            }
        }
    }
}

// The C++ wrappers (nvtx3.hpp) go through the same domain calls.
namespace {
struct cpp_domain {
    static constexpr const char* name{"capture.selftest.cpp"};
};
}  // namespace

TEST_F(WithInjection, Nvtx3Cpp) {
    const nvtx3::named_category_in<cpp_domain> category{5, "five"};
    const nvtx3::registered_string_in<cpp_domain> message{"registered"};
    {
        const nvtx3::scoped_range_in<cpp_domain> range{message, nvtx3::rgb{255, 0, 0}, category};
        nvtx3::mark_in<cpp_domain>("plain");
    }
    const std::string name = cpp_domain::name;
    expect_events(nc::events(), {
        {K::push, name, "registered", true, true, 0xFFFF0000u, 5, 1},
        {K::mark, name, "plain", false, false, 0, 0, 1},
        {K::pop, name, "", false, false, 0, 0, 0},
    });
    EXPECT_EQ(nc::category_names(name).at(5), "five");
    EXPECT_EQ(nc::registered_string_count(name), 1u);
}

// Run without NVTX_INJECTION64_PATH: the library is loaded (linked) but never attached.
TEST(NoInjection, NothingAttachedNothingRecorded) {
    ASSERT_EQ(std::getenv(kEnv), nullptr) << "this test must run without " << kEnv;
    nvtxInitialize(nullptr);
    nvtxDomainHandle_t d = nvtxDomainCreateA("capture.selftest.none");
    EXPECT_EQ(d, nullptr) << "no tool: NVTX returns a null domain";
    nvtxDomainNameCategoryA(d, 1, "one");
    nvtxNameCategoryA(2, "two");
    nvtxStringHandle_t s = nvtxDomainRegisterStringA(d, "text");
    EXPECT_EQ(s, nullptr);
    auto a = ascii("x");
    EXPECT_EQ(nvtxDomainRangePushEx(d, &a), NVTX_NO_PUSH_POP_TRACKING);
    nvtxDomainMarkEx(d, &a);
    EXPECT_EQ(nvtxDomainRangePop(d), NVTX_NO_PUSH_POP_TRACKING);
    EXPECT_EQ(nvtxRangePushA("y"), NVTX_NO_PUSH_POP_TRACKING);
    EXPECT_EQ(nvtxRangePushEx(&a), NVTX_NO_PUSH_POP_TRACKING);
    nvtxMarkA("z");
    nvtxRangePop();
    nvtxRangePop();
    nvtxDomainDestroy(d);

    EXPECT_FALSE(nc::attached());
    EXPECT_TRUE(nc::events().empty());
    EXPECT_TRUE(nc::domains().empty());
    EXPECT_TRUE(nc::destroyed_domains().empty());
    EXPECT_TRUE(nc::category_names("").empty());
    EXPECT_EQ(nc::registered_string_count(""), 0u);
}
