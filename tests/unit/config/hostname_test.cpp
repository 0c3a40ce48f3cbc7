// Unit tests for site host name and bind address normalisation.
#include "config/hostname.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

std::string host_ok(std::string_view text) {
    std::string error;
    auto name = normalise_hostname(text, error);
    EXPECT_TRUE(name.has_value()) << text << ": " << error;
    return name.value_or("");
}

std::string host_error(std::string_view text) {
    std::string error;
    auto name = normalise_hostname(text, error);
    EXPECT_FALSE(name.has_value()) << text << " accepted as " << name.value_or("");
    return error;
}

TEST(ConfigHostname, NormalisesCaseAndTrailingDot) {
    EXPECT_EQ(host_ok("Example.COM"), "example.com");
    EXPECT_EQ(host_ok("example.com."), "example.com");
    EXPECT_EQ(host_ok("LocalHost"), "localhost");
    EXPECT_EQ(host_ok("_acme.example.com"), "_acme.example.com");
    EXPECT_EQ(host_ok("xn--bcher-kva.example"), "xn--bcher-kva.example");
    EXPECT_EQ(host_ok("a-b.c0"), "a-b.c0");
}

TEST(ConfigHostname, WildcardsOnlyAsTheWholeFirstLabel) {
    EXPECT_EQ(host_ok("*.Example.com"), "*.example.com");
    EXPECT_NE(host_error("*example.com").find("'*'"), std::string::npos);
    EXPECT_NE(host_error("www.*.example.com").find("'*'"), std::string::npos);
    EXPECT_NE(host_error("*").find("'*'"), std::string::npos);
    EXPECT_NE(host_error("*..").find("wildcard without a domain"), std::string::npos);
}

TEST(ConfigHostname, AddressLiterals) {
    EXPECT_EQ(host_ok("127.0.0.1"), "127.0.0.1");
    EXPECT_EQ(host_ok("[::1]"), "[::1]");
    EXPECT_EQ(host_ok("[0:0::1]"), "[::1]");
    EXPECT_EQ(host_ok("[2001:DB8::1]"), "[2001:db8::1]");
    EXPECT_NE(host_error("::1").find("contains ':'"), std::string::npos);
    EXPECT_NE(host_error("[::g]").find("not a valid IPv6 address"), std::string::npos);
}

TEST(ConfigHostname, RejectsInvalidNames) {
    EXPECT_NE(host_error("").find("empty"), std::string::npos);
    EXPECT_NE(host_error(".").find("empty label"), std::string::npos);
    EXPECT_NE(host_error("a..b").find("empty label"), std::string::npos);
    EXPECT_NE(host_error("-a.com").find("'-'"), std::string::npos);
    EXPECT_NE(host_error("a-.com").find("'-'"), std::string::npos);
    EXPECT_NE(host_error("a b.com").find("invalid character ' '"), std::string::npos);
    EXPECT_NE(host_error("a/b").find("invalid character '/'"), std::string::npos);
    EXPECT_NE(host_error("example.com:80").find("contains ':'"), std::string::npos);
    EXPECT_NE(host_error(std::string(64, 'a') + ".com").find("longer than 63"), std::string::npos);
    std::string long_name;
    for (int i = 0; i < 60; ++i)
        long_name += "abcd.";
    long_name += "com";
    EXPECT_NE(host_error(long_name).find("longer than 253"), std::string::npos);
    EXPECT_NE(host_error("b\xc3\xbc"
                         "cher.de")
                  .find("non-ASCII"),
              std::string::npos);
}

// The canonical text of a parsed bind address, or "(invalid)".
std::string bind_text(std::string_view text, std::string& error) {
    auto address = parse_bind_address(text, error);
    return address ? address->to_string() : "(invalid)";
}

TEST(ConfigBindAddress, CanonicalLiterals) {
    std::string error;
    EXPECT_EQ(bind_text("0.0.0.0", error), "0.0.0.0");
    EXPECT_EQ(bind_text("127.0.0.1", error), "127.0.0.1");
    EXPECT_EQ(bind_text("::", error), "::");
    EXPECT_EQ(bind_text("0:0::0", error), "::");
    EXPECT_EQ(bind_text("[::1]", error), "::1");
    EXPECT_FALSE(parse_bind_address("localhost", error).has_value());
    EXPECT_NE(error.find("not an IPv4 or IPv6 address literal"), std::string::npos);
    EXPECT_FALSE(parse_bind_address("", error).has_value());
    EXPECT_FALSE(parse_bind_address("1.2.3", error).has_value());
    EXPECT_FALSE(parse_bind_address("256.0.0.1", error).has_value());
}

} // namespace
} // namespace bws::config
