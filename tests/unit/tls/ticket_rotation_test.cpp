// The master's schedule for the process-wide ticket keys: nothing before the interval, one
// rotation per interval after it, the previous key kept.
#include "tls/ticket_keys.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using bws::tls::rotate_shared_ticket_keys_when_due;
using bws::tls::shared_rotation_interval;

TEST(TlsTicketRotation, SharedKeysRotateOncePerInterval) {
    const auto* keys = bws::tls::shared_ticket_keys();
    ASSERT_NE(keys, nullptr);
    const auto before = keys->read();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(rotate_shared_ticket_keys_when_due(t0)); // the first call starts the clock
    EXPECT_FALSE(rotate_shared_ticket_keys_when_due(t0 + shared_rotation_interval - 1s));
    EXPECT_EQ(keys->read().generation, before.generation);

    EXPECT_TRUE(rotate_shared_ticket_keys_when_due(t0 + shared_rotation_interval));
    const auto after = keys->read();
    EXPECT_EQ(after.generation, before.generation + 1);
    EXPECT_EQ(after.previous.name, before.current.name); // tickets of the old key still open
    EXPECT_NE(after.current.name, before.current.name);

    // The next one is an interval after that rotation, not after the first call.
    EXPECT_FALSE(rotate_shared_ticket_keys_when_due(t0 + 2 * shared_rotation_interval - 1s));
    EXPECT_TRUE(rotate_shared_ticket_keys_when_due(t0 + 2 * shared_rotation_interval));
    EXPECT_EQ(keys->read().generation, before.generation + 2);
}

} // namespace
