// Crash backoff arithmetic.
#include "app/backoff.hpp"

#include <gtest/gtest.h>

namespace {

using bws::app::crash_backoff;
using ms = std::chrono::milliseconds;

TEST(CrashBackoff, FirstCrashesAreReplacedAtOnce) {
    crash_backoff b;
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(b.on_crash(ms(100)), ms(0)) << i;
    }
}

TEST(CrashBackoff, GrowsExponentiallyThenCaps) {
    crash_backoff b;
    for (int i = 0; i < 5; ++i) {
        b.on_crash(ms(10));
    }
    EXPECT_EQ(b.on_crash(ms(10)), ms(500));
    EXPECT_EQ(b.on_crash(ms(10)), ms(1000));
    EXPECT_EQ(b.on_crash(ms(10)), ms(2000));
    EXPECT_EQ(b.on_crash(ms(10)), ms(4000));
    EXPECT_EQ(b.on_crash(ms(10)), ms(8000));
    EXPECT_EQ(b.on_crash(ms(10)), ms(16000));
    EXPECT_EQ(b.on_crash(ms(10)), ms(30000));
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(b.on_crash(ms(10)), ms(30000));
    }
}

TEST(CrashBackoff, StableWorkerResetsTheStreak) {
    crash_backoff b;
    for (int i = 0; i < 8; ++i) {
        b.on_crash(ms(10));
    }
    EXPECT_GT(b.on_crash(ms(10)), ms(0));
    EXPECT_EQ(b.on_crash(ms(10'000)), ms(0)); // lived 10 s: a fresh start
    EXPECT_EQ(b.streak(), 1u);
}

TEST(CrashBackoff, CustomPolicy) {
    crash_backoff b(crash_backoff::policy{1, ms(1000), ms(100), ms(250)});
    EXPECT_EQ(b.on_crash(ms(0)), ms(0));
    EXPECT_EQ(b.on_crash(ms(0)), ms(100));
    EXPECT_EQ(b.on_crash(ms(0)), ms(200));
    EXPECT_EQ(b.on_crash(ms(0)), ms(250));
}

} // namespace
