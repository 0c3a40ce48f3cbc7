// Process title rewrite: /proc/self/cmdline shows the new title (checked in a forked child,
// since the rewrite is irreversible).
#include "app/proctitle.hpp"

#include <gtest/gtest.h>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

std::string read_cmdline() {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string s(std::istreambuf_iterator<char>(in), {});
    while (!s.empty() && s.back() == '\0') {
        s.pop_back();
    }
    return s;
}

// main()'s argv of this test binary, rebuilt from program_invocation_name (which points at
// argv[0]) and the argument count the kernel reports.
std::vector<char*> original_argv() {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string s(std::istreambuf_iterator<char>(in), {});
    std::vector<char*> argv;
    char* p = program_invocation_name;
    std::size_t offset = 0;
    while (offset < s.size()) {
        argv.push_back(p);
        std::size_t len = std::strlen(p) + 1;
        p += len;
        offset += len;
    }
    return argv;
}

// Runs `body` in a child; the child's exit code 0 means success, otherwise a failure index.
int in_child(int (*body)()) {
    pid_t pid = fork();
    if (pid == 0) {
        _exit(body());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(ProcTitle, MasterTitleShowsOriginalCommandLine) {
    int rc = in_child([] {
        auto argv = original_argv();
        std::string before = read_cmdline();
        bws::app::proctitle_init(static_cast<int>(argv.size()), argv.data());
        std::string expected_original = before;
        for (auto& c : expected_original) {
            if (c == '\0') {
                c = ' ';
            }
        }
        if (bws::app::original_command_line() != expected_original) {
            return 1;
        }
        std::string title = "bws: master process " + bws::app::original_command_line();
        bws::app::set_proctitle(title);
        std::string now = read_cmdline();
        // The environment area makes room for the longer title; it may be cut only at its end.
        if (now.rfind("bws: master process ", 0) != 0 || title.rfind(now, 0) != 0) {
            return 2;
        }
        if (now.size() < std::string("bws: master process ").size() + argv.size()) {
            return 3;
        }
        char name[17] = {};
        prctl(PR_GET_NAME, name, 0, 0, 0);
        if (std::string(name) != "bws: master pro") {
            return 4;
        }
        // The environment still works after its strings were moved.
        if (setenv("BWS_PROCTITLE_TEST", "1", 1) != 0 ||
            std::string(getenv("BWS_PROCTITLE_TEST")) != "1" || getenv("PATH") == nullptr) {
            return 5;
        }
        return 0;
    });
    EXPECT_EQ(rc, 0);
}

TEST(ProcTitle, ShorterTitleLeavesNoOldArguments) {
    int rc = in_child([] {
        auto argv = original_argv();
        bws::app::proctitle_init(static_cast<int>(argv.size()), argv.data());
        bws::app::set_proctitle("bws: worker process");
        std::string now = read_cmdline();
        // Trailing padding is NUL; nothing of the old command line may remain after it.
        std::ifstream in("/proc/self/cmdline", std::ios::binary);
        std::string raw(std::istreambuf_iterator<char>(in), {});
        if (now != "bws: worker process") {
            return 1;
        }
        for (std::size_t i = now.size(); i < raw.size(); ++i) {
            if (raw[i] != '\0') {
                return 2;
            }
        }
        return 0;
    });
    EXPECT_EQ(rc, 0);
}

} // namespace
