// Output files appear whole or not at all.

#include <gtest/gtest.h>

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
