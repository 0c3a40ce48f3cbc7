// idle_trim_policy: a trim after a large drop in open connections, not on every close, and
// not again until the count has risen and fallen again.
#include "sys/memory_trim.hpp"

#include <gtest/gtest.h>

namespace {

using bws::sys::idle_trim_policy;

TEST(IdleTrimPolicy, NoTrimWithoutADrop) {
    idle_trim_policy p(100);
    EXPECT_FALSE(p.should_trim(0));
    EXPECT_FALSE(p.should_trim(50));
    EXPECT_FALSE(p.should_trim(500));
    EXPECT_FALSE(p.should_trim(500));
}

TEST(IdleTrimPolicy, TrimsOnceAfterALargeDrop) {
    idle_trim_policy p(100);
    EXPECT_FALSE(p.should_trim(20000));
    EXPECT_FALSE(p.should_trim(19950)); // a few closed: not worth it
    EXPECT_FALSE(p.should_trim(10001)); // still more than half the peak
    EXPECT_TRUE(p.should_trim(10000));
    EXPECT_FALSE(p.should_trim(10000)); // the peak starts again from here
    EXPECT_TRUE(p.should_trim(0));      // 10000 -> 0 is a large drop of its own
    EXPECT_FALSE(p.should_trim(0));
}

TEST(IdleTrimPolicy, DropFromTheNewPeak) {
    idle_trim_policy p(100);
    EXPECT_FALSE(p.should_trim(1000));
    EXPECT_TRUE(p.should_trim(10));
    EXPECT_FALSE(p.should_trim(60)); // +50, then back: below min_drop
    EXPECT_FALSE(p.should_trim(10));
    EXPECT_FALSE(p.should_trim(400));
    EXPECT_TRUE(p.should_trim(0));
}

TEST(IdleTrimPolicy, SmallWorkersNeverTrim) {
    idle_trim_policy p(1024);
    for (int round = 0; round < 10; ++round) {
        EXPECT_FALSE(p.should_trim(1000));
        EXPECT_FALSE(p.should_trim(0));
    }
}

TEST(ReleaseFreeHeap, Runs) {
    bws::sys::release_free_heap(); // whether anything was given back depends on the heap
    SUCCEED();
}

} // namespace
