// The shared base64 decoder: each alphabet's characters, length and padding rules.
#include "text/base64.hpp"

#include <gtest/gtest.h>

using bws::text::base64_alphabet;
using bws::text::base64_decode;

TEST(Base64Decode, StandardIsPaddedAndUsesPlusSlash) {
    EXPECT_EQ(base64_decode("dXNlcjpwYXNz", base64_alphabet::standard), "user:pass");
    EXPECT_EQ(base64_decode("YQ==", base64_alphabet::standard), "a");
    EXPECT_EQ(base64_decode("YWI=", base64_alphabet::standard), "ab");
    EXPECT_EQ(base64_decode("+/+/", base64_alphabet::standard), "\xfb\xff\xbf");
    EXPECT_EQ(base64_decode("", base64_alphabet::standard), "");
    EXPECT_FALSE(base64_decode("YQ", base64_alphabet::standard));   // unpadded
    EXPECT_FALSE(base64_decode("Y===", base64_alphabet::standard)); // three '='
    EXPECT_FALSE(base64_decode("-_-_", base64_alphabet::standard)); // the URL alphabet
    EXPECT_FALSE(base64_decode("YQ=a", base64_alphabet::standard)); // '=' inside
}

TEST(Base64Decode, UrlIsUnpaddedCanonicalAndUsesDashUnderscore) {
    EXPECT_EQ(base64_decode("-_-_", base64_alphabet::url), "\xfb\xff\xbf");
    EXPECT_EQ(base64_decode("YQ", base64_alphabet::url), "a");
    EXPECT_FALSE(base64_decode("YQ==", base64_alphabet::url)); // padding
    EXPECT_FALSE(base64_decode("+/+/", base64_alphabet::url)); // the standard alphabet
    EXPECT_EQ(base64_decode("YQA", base64_alphabet::url), std::string("a\0", 2));
    EXPECT_FALSE(base64_decode("YR", base64_alphabet::url)); // leftover bits set
    EXPECT_FALSE(base64_decode("Y", base64_alphabet::url));  // 4n+1 characters
}
