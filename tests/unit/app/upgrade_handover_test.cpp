#include "app/upgrade_handover.hpp"

#include <gtest/gtest.h>

namespace bws::app {
namespace {

upgrade_handover sample() {
    upgrade_handover h;
    h.from_version = "0.1.0";
    h.generation = 3;
    h.reload_count = 2;
    h.upgrade_count = 1;
    h.draining = true;
    h.pid_file_fd = 4;
    h.listener_fds = {5, 6};
    h.workers = {{1234, 7, 3, 0, false}, {1235, 8, 2, 1, true}};
    return h;
}

TEST(UpgradeHandover, RoundTrips) {
    std::string error;
    auto text = encode_handover(sample());
    EXPECT_EQ(text, "v1 from=0.1.0 gen=3 reloads=2 upgrades=1 drain=1 pidfd=4 listen=5,6 "
                    "workers=1234:7:3:0:r,1235:8:2:1:d");
    auto back = decode_handover(text, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->from_version, "0.1.0");
    EXPECT_EQ(back->generation, 3u);
    EXPECT_EQ(back->reload_count, 2u);
    EXPECT_EQ(back->upgrade_count, 1u);
    EXPECT_TRUE(back->draining);
    EXPECT_EQ(back->pid_file_fd, 4);
    EXPECT_EQ(back->listener_fds, (std::vector<int>{5, 6}));
    ASSERT_EQ(back->workers.size(), 2u);
    EXPECT_EQ(back->workers[1].pid, 1235);
    EXPECT_EQ(back->workers[1].channel_fd, 8);
    EXPECT_EQ(back->workers[1].generation, 2u);
    EXPECT_EQ(back->workers[1].index, 1u);
    EXPECT_TRUE(back->workers[1].draining);
    EXPECT_FALSE(back->workers[0].draining);
}

TEST(UpgradeHandover, EmptyListsAndNoPidFile) {
    upgrade_handover h = sample();
    h.pid_file_fd = -1;
    h.listener_fds.clear();
    h.workers.clear();
    std::string error;
    auto back = decode_handover(encode_handover(h), error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->pid_file_fd, -1);
    EXPECT_TRUE(back->listener_fds.empty());
    EXPECT_TRUE(back->workers.empty());
}

TEST(UpgradeHandover, RejectsWhatItCannotTrust) {
    const char* bad[] = {
        "",
        "v2 from=0.1.0 gen=3 reloads=2 upgrades=1 drain=0 pidfd=4 listen=5 workers=",
        "v1 from=0.1.0 gen=3 reloads=2 upgrades=1 drain=0 pidfd=4 listen=5",
        "v1 from=0.1.0 gen=0 reloads=2 upgrades=1 drain=0 pidfd=4 listen=5 workers=",
        "v1 from=0.1.0 gen=3 reloads=x upgrades=1 drain=0 pidfd=4 listen=5 workers=",
        "v1 from=0.1.0 gen=3 reloads=2 upgrades=1 drain=0 pidfd=2 listen=5 workers=", // stdio
        "v1 from=0.1.0 gen=3 reloads=2 upgrades=1 drain=0 pidfd=4 listen=5,,6 workers=",
        "v1 from=0.1.0 gen=3 reloads=2 upgrades=1 drain=0 pidfd=4 listen=5 workers=1:7:3:0:r", // pid
                                                                                               // 1
        "v1 from=0.1.0 gen=3 reloads=2 upgrades=1 drain=0 pidfd=4 listen=5 workers=99:7:3:0:x",
        "v1 from=0.1.0 gen=3 reloads=2 upgrades=1 drain=0 pidfd=4 listen=5 workers=99:7:3",
        "v1 from=0.1.0 gen=3 reloads=2 upgrades=1 drain=2 pidfd=4 listen=5 workers=",
        "v1 from= gen=3 reloads=2 upgrades=1 drain=0 pidfd=4 listen=5 workers=",
        "v1 gen=3 from=0.1.0 reloads=2 upgrades=1 drain=0 pidfd=4 listen=5 workers=",
    };
    for (const char* text : bad) {
        std::string error;
        EXPECT_FALSE(decode_handover(text, error)) << text;
        EXPECT_FALSE(error.empty()) << text;
    }
}

} // namespace
} // namespace bws::app
