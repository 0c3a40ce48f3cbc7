// Listener reuse across reloads: kept addresses keep their fd, removed ones are closed,
// activated ones never are.
#include "app/listener_table.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

namespace {

using bws::app::listener_table;
using bws::config::listen_address;

bool is_open(int fd) {
    return fcntl(fd, F_GETFD) != -1;
}

struct counting_opener {
    int opened = 0;
    bool fail = false;
    listener_table::opener get() {
        return [this](const listen_address& a, int, std::string& error) {
            if (fail && a.port == 9) {
                error = "cannot bind 127.0.0.1:9";
                return -1;
            }
            ++opened;
            return open("/dev/null", O_RDONLY | O_CLOEXEC);
        };
    }
};

TEST(ListenerTable, ReusesKeptAddressesAndClosesRemovedOnes) {
    counting_opener o;
    listener_table t(o.get());
    listen_address a{"127.0.0.1", 1}, b{"127.0.0.1", 2}, c{"127.0.0.1", 3};
    std::string error;
    auto first = t.prepare({a, b}, 16, error);
    ASSERT_TRUE(first);
    ASSERT_EQ(first->size(), 2u);
    t.commit({a, b});
    auto second = t.prepare({a, c}, 16, error);
    ASSERT_TRUE(second);
    EXPECT_EQ(o.opened, 3); // only c is new
    EXPECT_EQ((*second)[0].fd, (*first)[0].fd);
    int b_fd = (*first)[1].fd;
    EXPECT_TRUE(is_open(b_fd)); // the old generation may still need it until commit
    t.commit({a, c});
    EXPECT_FALSE(is_open(b_fd));
    EXPECT_EQ(t.size(), 2u);
}

TEST(ListenerTable, FailedPrepareKeepsNothingNew) {
    counting_opener o;
    listener_table t(o.get());
    std::string error;
    ASSERT_TRUE(t.prepare({{"127.0.0.1", 1}}, 16, error));
    o.fail = true;
    EXPECT_FALSE(t.prepare({{"127.0.0.1", 1}, {"127.0.0.1", 5}, {"127.0.0.1", 9}}, 16, error));
    EXPECT_EQ(error, "cannot bind 127.0.0.1:9");
    EXPECT_EQ(t.size(), 1u);
}

TEST(ListenerTable, ActivatedSocketsSurviveCommit) {
    counting_opener o;
    listener_table t(o.get());
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    t.adopt_activated({"0.0.0.0", 80}, fd);
    std::string error;
    auto l = t.prepare({{"0.0.0.0", 80}}, 16, error);
    ASSERT_TRUE(l);
    EXPECT_EQ((*l)[0].fd, fd);
    EXPECT_EQ(o.opened, 0);
    t.commit({});
    EXPECT_TRUE(is_open(fd));
    t.close_all();
    EXPECT_FALSE(is_open(fd));
}

TEST(ListenerTable, ChildKeepsOnlyItsListeners) {
    counting_opener o;
    listener_table t(o.get());
    std::string error;
    auto l = t.prepare({{"127.0.0.1", 1}, {"127.0.0.1", 2}}, 16, error);
    ASSERT_TRUE(l);
    std::vector<bws::app::inherited_listener> keep{(*l)[0]};
    t.keep_only_for_child(keep);
    EXPECT_TRUE(is_open((*l)[0].fd));
    EXPECT_FALSE(is_open((*l)[1].fd));
    close((*l)[0].fd);
}

} // namespace
