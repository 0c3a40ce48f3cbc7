// The compressed-body LRU: one compression per key, "not smaller" remembered, byte cap.
#include "content/compressed_cache.hpp"

#include <gtest/gtest.h>

using namespace bws::content;

namespace {

compressed_key key(ino_t inode, coding c = coding::gzip) {
    compressed_key k;
    k.inode = inode;
    k.size = 1000;
    k.encoding = c;
    k.level = 6;
    return k;
}

} // namespace

TEST(ContentCompressedCache, CompressesOncePerKey) {
    compressed_cache cache;
    int calls = 0;
    auto make = [&] {
        ++calls;
        return std::optional<std::string>(std::string(100, 'z'));
    };
    auto a = cache.get(key(1), 1000, make);
    auto b = cache.get(key(1), 1000, make);
    ASSERT_TRUE(a);
    EXPECT_EQ(a, b); // the same shared bytes
    EXPECT_EQ(calls, 1);
    cache.get(key(1, coding::br), 1000, make);
    auto other = key(1);
    other.mtime_nsec = 1; // the file changed
    cache.get(other, 1000, make);
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(cache.entries(), 3u);
}

TEST(ContentCompressedCache, RemembersThatCompressingDidNotHelp) {
    compressed_cache cache;
    int calls = 0;
    auto make = [&] {
        ++calls;
        return std::optional<std::string>(std::string(1000, 'z'));
    };
    EXPECT_FALSE(cache.get(key(1), 1000, make));
    EXPECT_FALSE(cache.get(key(1), 1000, make));
    EXPECT_EQ(calls, 1);
}

TEST(ContentCompressedCache, FailureIsNotCached) {
    compressed_cache cache;
    int calls = 0;
    auto make = [&] {
        ++calls;
        return std::optional<std::string>();
    };
    EXPECT_FALSE(cache.get(key(1), 1000, make));
    EXPECT_FALSE(cache.get(key(1), 1000, make));
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(cache.entries(), 0u);
}

TEST(ContentCompressedCache, EvictsLeastRecentlyUsedToStayUnderTheCap) {
    compressed_cache cache(3 * 600);
    auto make = [] { return std::optional<std::string>(std::string(400, 'z')); };
    cache.get(key(1), 1000, make);
    cache.get(key(2), 1000, make);
    cache.get(key(3), 1000, make);
    EXPECT_EQ(cache.entries(), 3u);
    cache.get(key(1), 1000, make); // 1 is now the most recent
    cache.get(key(4), 1000, make); // evicts 2
    EXPECT_EQ(cache.entries(), 3u);
    EXPECT_LE(cache.bytes(), 3u * 600);
    int calls = 0;
    auto counting = [&] {
        ++calls;
        return std::optional<std::string>(std::string(400, 'z'));
    };
    cache.get(key(1), 1000, counting);
    cache.get(key(3), 1000, counting);
    EXPECT_EQ(calls, 0);
    cache.get(key(2), 1000, counting);
    EXPECT_EQ(calls, 1);
}

TEST(ContentCompressedCache, ABodyLargerThanTheCapIsServedButNotKept) {
    compressed_cache cache(100);
    auto body =
        cache.get(key(1), 10'000, [] { return std::optional<std::string>(std::string(500, 'z')); });
    ASSERT_TRUE(body);
    EXPECT_EQ(body->size(), 500u);
    EXPECT_EQ(cache.entries(), 0u);
    EXPECT_EQ(cache.bytes(), 0u);
}
