// Output files appear whole or not at all.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sys/resource.h>

#include <csignal>

#include "output_file.hpp"
#include "profile_file.hpp"
#include "tools_test_support.hpp"

namespace cli = scope_profiler::cli;

using OutputFileTest = tools_test::ScratchDir;

TEST_F(OutputFileTest, CommitRenamesTheWholeFileIntoPlace) {
    {
        cli::OutputFile out(file("a.txt"));
        out.stream() << "hello\n";
        EXPECT_FALSE(tools_test::fs::exists(file("a.txt")));  // only the temporary file so far
        out.commit();
    }
    EXPECT_EQ(tools_test::read_text(file("a.txt")), "hello\n");
    EXPECT_EQ(files(), std::vector<std::string>{"a.txt"});
}

TEST_F(OutputFileTest, WithoutCommitNothingIsLeftAndAnOldFileStays) {
    std::ofstream(file("a.txt")) << "old";
    {
        cli::OutputFile out(file("a.txt"));
        out.stream() << "half of it";
    }
    EXPECT_EQ(tools_test::read_text(file("a.txt")), "old");
    EXPECT_EQ(files(), std::vector<std::string>{"a.txt"});
}

TEST_F(OutputFileTest, AnUnwritablePathIsAnInputError) {
    try {
        cli::OutputFile out(file("missing/dir/a.txt"));
        FAIL();
    } catch (const cli::InputError& e) {
        EXPECT_NE(std::string(e.what()).find("cannot write"), std::string::npos) << e.what();
    }
}

TEST_F(OutputFileTest, ASignalRemovesTheTemporaryFile) {
    // "fast" style: the child forks here, so it writes into this test's directory.
    GTEST_FLAG_SET(death_test_style, "fast");
    EXPECT_EXIT(
        {
            cli::OutputFile out(file("a.txt"));
            out.stream() << "interrupted";
            out.stream().flush();
            std::raise(SIGTERM);
        },
        ::testing::KilledBySignal(SIGTERM), "");
    EXPECT_TRUE(files().empty()) << files().front();
}

// pproc writes a dozen files: on a full disk (here: a file size limit, which fails the write
// with EFBIG the way ENOSPC would), none of them may appear, and files already there stay.
// Before, the outputs committed one by one: the ones before the failing one were in place.
TEST_F(OutputFileTest, CommitAllWritesEveryFileOrNone) {
    std::ofstream(file("old.txt")) << "old";
    struct rlimit saved {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    const auto previous = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limited = saved;
    limited.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
    std::string error;
    {
        cli::OutputFile small(file("small.txt")), large(file("large.txt")), old(file("old.txt"));
        small.stream() << "fits";
        large.stream() << std::string(100'000, 'x');  // more than the limit: the flush fails
        old.stream() << "new";
        try {
            cli::commit_all({&small, &large, &old});
        } catch (const cli::InputError& e) {
            error = e.what();
        }
    }
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, previous);
    EXPECT_NE(error.find("large.txt"), std::string::npos) << error;
    EXPECT_EQ(files(), std::vector<std::string>{"old.txt"});
    EXPECT_EQ(tools_test::read_text(file("old.txt")), "old");
}

// As the library's files (format/durable_file.hpp): never renamed onto a FIFO or a device (as
// root, a rename onto /dev/null replaces the device node), and refused before any file of the
// set is published.
TEST_F(OutputFileTest, CommitAllRefusesAFifoBeforeAnyRenameAndLeavesItAsItIs) {
    ASSERT_EQ(::mkfifo(file("fifo.json").c_str(), 0600), 0);
    cli::OutputFile first(file("first.txt")), second(file("fifo.json"));
    first.stream() << "a";
    second.stream() << "b";
    try {
        cli::commit_all({&first, &second});
        ADD_FAILURE() << "a FIFO was accepted as a target";
    } catch (const cli::InputError& e) {
        EXPECT_NE(std::string(e.what()).find("is a FIFO, not a regular file"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(tools_test::fs::exists(file("first.txt")));
    EXPECT_EQ(tools_test::fs::status(file("fifo.json")).type(), tools_test::fs::file_type::fifo);
}

TEST_F(OutputFileTest, CommitAllFailsBeforeAnyRenameWhenATargetIsADirectory) {
    tools_test::fs::create_directory(file("dir.txt"));
    cli::OutputFile first(file("first.txt")), second(file("dir.txt"));
    first.stream() << "a";
    second.stream() << "b";
    EXPECT_THROW(cli::commit_all({&first, &second}), cli::InputError);
    EXPECT_FALSE(tools_test::fs::exists(file("first.txt")));
}
