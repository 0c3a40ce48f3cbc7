// Accept-Encoding negotiation: q-values, "*", identity, ties in the server's order.
#include "content/negotiate.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace bws::content;

namespace {

const std::vector<coding> server_order{coding::br, coding::zstd, coding::gzip};

encoding_choice pick(std::string_view header, const std::vector<coding>& available = server_order) {
    return negotiate(header, available);
}

void expect_coding(std::string_view header, coding want,
                   const std::vector<coding>& available = server_order) {
    const auto c = pick(header, available);
    EXPECT_TRUE(c.acceptable) << header;
    EXPECT_EQ(c.chosen, want) << header;
}

void expect_406(std::string_view header, const std::vector<coding>& available = server_order) {
    EXPECT_FALSE(pick(header, available).acceptable) << header;
}

} // namespace

TEST(ContentNegotiate, NoHeaderMeansIdentity) {
    const auto c = negotiate(std::nullopt, server_order);
    EXPECT_TRUE(c.acceptable);
    EXPECT_EQ(c.chosen, coding::identity);
}

TEST(ContentNegotiate, EmptyHeaderMeansIdentityOnly) {
    expect_coding("", coding::identity);
    expect_coding("  ,  ", coding::identity);
}

TEST(ContentNegotiate, ServerOrderBreaksTies) {
    expect_coding("gzip, deflate, br, zstd", coding::br);
    expect_coding("gzip, zstd", coding::zstd);
    expect_coding("gzip", coding::gzip);
    expect_coding("gzip, br", coding::gzip, {coding::gzip, coding::br});
    expect_coding("*", coding::br);
}

TEST(ContentNegotiate, HigherQWins) {
    expect_coding("br;q=0.5, gzip", coding::gzip);
    expect_coding("br;q=0.5, gzip;q=0.6", coding::gzip);
    expect_coding("br;q=0.999, gzip;q=1.0", coding::gzip);
    expect_coding("br;q=0.001, gzip;q=0.0", coding::br);
    expect_coding("gzip;q=1, zstd;q=1, br;q=0.9", coding::zstd);
}

TEST(ContentNegotiate, QZeroExcludes) {
    expect_coding("br;q=0, gzip", coding::gzip);
    expect_coding("br;q=0.000, zstd;q=0, gzip;q=0.1", coding::gzip);
    expect_coding("br;q=0, zstd;q=0, gzip;q=0", coding::identity);
    expect_coding("*;q=0, identity", coding::identity);
}

TEST(ContentNegotiate, StarGivesUnlistedCodingsItsWeight) {
    expect_coding("gzip;q=0.5, *;q=0.8", coding::br);
    expect_coding("gzip, *;q=0", coding::gzip);
    expect_coding("br;q=0, *", coding::zstd);
}

TEST(ContentNegotiate, IdentityExcludedButCodingAvailable) {
    expect_coding("identity;q=0, gzip", coding::gzip);
    expect_coding("*;q=0, gzip;q=0.2", coding::gzip);
}

TEST(ContentNegotiate, NothingAcceptableIs406) {
    expect_406("identity;q=0");
    expect_406("*;q=0");
    expect_406("identity;q=0, deflate");
    expect_406("identity;q=0, br;q=0, gzip;q=0, zstd;q=0");
    expect_406("identity;q=0, gzip", {coding::br});
    expect_406("gzip, identity;q=0", {});
}

TEST(ContentNegotiate, IdentityIsAcceptableByDefault) {
    expect_coding("deflate, compress", coding::identity);
    expect_coding("gzip", coding::identity, {});
    expect_coding("identity;q=0.5", coding::identity, {coding::zstd});
}

TEST(ContentNegotiate, IdentityPreferredOnlyWithHigherQ) {
    expect_coding("gzip;q=0.5, identity", coding::identity);
    expect_coding("gzip;q=0.5, identity;q=0.5", coding::gzip);
    expect_coding("gzip;q=0.5, *", coding::br);
}

TEST(ContentNegotiate, TokensAreCaseInsensitiveAndXGzipIsGzip) {
    expect_coding("GZIP", coding::gzip);
    expect_coding("x-gzip", coding::gzip);
    expect_coding("Br;Q=0.4, gzip;q=0.3", coding::br);
    expect_coding("IDENTITY;q=0, Gzip", coding::gzip);
}

TEST(ContentNegotiate, WhitespaceAndParameters) {
    expect_coding(" br ; q = 0.2 ,\tgzip ; level=3 ; q=0.3 ", coding::gzip);
    expect_coding("gzip;foo", coding::gzip);
}

TEST(ContentNegotiate, MalformedQIgnoresTheEntry) {
    expect_coding("br;q=2, gzip", coding::gzip);
    expect_coding("br;q=0.1234, gzip;q=0.1", coding::gzip);
    expect_coding("br;q=x, gzip;q=0.1", coding::gzip);
    expect_coding("br;q=1.5", coding::identity);
    expect_coding("br;q=, gzip;q=.5, zstd;q=0.5", coding::zstd);
    // A malformed identity;q=0 does not exclude identity.
    expect_coding("identity;q=-0", coding::identity, {});
}

TEST(ContentNegotiate, FirstEntryForACodingCounts) {
    expect_coding("br;q=0, br, gzip;q=0.5", coding::gzip);
}
