// Unit tests for the one port parser (config file integers and `bws DIR --port N`).
#include "config/port.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

TEST(ConfigPort, Range) {
    std::string error;
    EXPECT_EQ(port_from_integer(1, error), 1);
    EXPECT_EQ(port_from_integer(65535, error), 65535);
    EXPECT_FALSE(port_from_integer(0, error));
    EXPECT_EQ(error, "0 is out of range (must be between 1 and 65535)");
    EXPECT_FALSE(port_from_integer(65536, error));
    EXPECT_EQ(error, "65536 is out of range (must be between 1 and 65535)");
    EXPECT_FALSE(port_from_integer(-80, error));
}

TEST(ConfigPort, Text) {
    std::string error;
    EXPECT_EQ(parse_port("8080", error), 8080);
    EXPECT_EQ(parse_port("080", error), 80);
    for (const char* bad : {"", "-1", "+80", " 80", "80 ", "80x", "0x50", "8.0"}) {
        error.clear();
        EXPECT_FALSE(parse_port(bad, error)) << bad;
        EXPECT_NE(error.find("is not a port number"), std::string::npos) << bad << ": " << error;
    }
    EXPECT_FALSE(parse_port("0", error));
    EXPECT_NE(error.find("out of range"), std::string::npos);
    EXPECT_FALSE(parse_port("99999999999999999999999", error));
    EXPECT_NE(error.find("out of range"), std::string::npos);
}

} // namespace
} // namespace bws::config
