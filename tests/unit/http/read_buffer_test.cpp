// read_block_pool and read_buffer: page-aligned 16 KiB blocks, reused, and given back to
// the kernel past the hot cache; a flat_buffer on the pool behaves as one on the heap.
#include "http/read_buffer.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

using bws::http::read_block_pool;

TEST(ReadBlockPool, BlocksArePageAlignedAndDistinct) {
    read_block_pool pool;
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    void* a = pool.allocate();
    void* b = pool.allocate();
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_NE(a, b);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % page, 0u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b) % page, 0u);
    std::memset(a, 'a', read_block_pool::block_size); // all of it is usable
    std::memset(b, 'b', read_block_pool::block_size);
    EXPECT_EQ(static_cast<char*>(a)[read_block_pool::block_size - 1], 'a');
    pool.deallocate(a);
    pool.deallocate(b);
}

TEST(ReadBlockPool, FreedBlocksAreReusedHotFirstThenCold) {
    read_block_pool pool;
    void* a = pool.allocate();
    void* b = pool.allocate();
    std::memset(a, 'x', read_block_pool::block_size);
    std::memset(b, 'y', read_block_pool::block_size);
    pool.deallocate(b);
    pool.deallocate(a);
    EXPECT_EQ(pool.counts().hot, 2u);
    EXPECT_EQ(pool.release_idle(1), 1u); // the older one (b) goes back to the kernel
    EXPECT_EQ(pool.release_idle(1), 0u);
    auto c = pool.counts();
    EXPECT_EQ(c.mapped, 2u);
    EXPECT_EQ(c.hot, 1u);
    EXPECT_EQ(c.cold, 1u);
    EXPECT_EQ(pool.allocate(), a);
    EXPECT_EQ(static_cast<char*>(a)[0], 'x'); // a hot block keeps its bytes
    void* d = pool.allocate();
    EXPECT_EQ(d, b);
    EXPECT_EQ(static_cast<char*>(d)[0], 0); // a released one comes back as zero pages
    EXPECT_EQ(pool.counts().mapped, 2u);    // nothing new carved
    pool.deallocate(a);
    pool.deallocate(d);
}

TEST(ReadBlockPool, CarvesNewMappingsAsNeeded) {
    read_block_pool pool;
    std::vector<void*> blocks;
    for (int i = 0; i < 300; ++i) // more than one 2 MiB mapping's 128 blocks
        blocks.push_back(pool.allocate());
    for (void* p : blocks) {
        ASSERT_NE(p, nullptr);
        std::memset(p, 1, read_block_pool::block_size);
    }
    for (void* p : blocks)
        pool.deallocate(p);
    EXPECT_EQ(pool.release_idle(0), 300u);
    EXPECT_EQ(pool.counts().cold, 300u);
}

TEST(ReadBuffer, WorksLikeAFlatBuffer) {
    bws::http::read_buffer buffer;
    auto space = buffer.prepare(16 * 1024); // an empty session buffer: one pool block
    std::memcpy(space.data(), "GET / HTTP/1.1\r\n", 16);
    buffer.commit(16);
    buffer.consume(4);
    EXPECT_EQ(std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()),
              "/ HTTP/1.1\r\n");
    // Growing around buffered bytes takes another size: the heap's.
    buffer.prepare(16 * 1024);
    EXPECT_GE(buffer.capacity(), 16u * 1024 + 12);
    EXPECT_EQ(std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()),
              "/ HTTP/1.1\r\n");
    buffer.consume(buffer.size());
    buffer.shrink_to_fit();
    EXPECT_EQ(buffer.capacity(), 0u);
}

} // namespace
