// base64url: RFC 4648 §10 vectors (in the URL-safe alphabet, unpadded), decoding errors, and
// the token check that keeps challenge paths safe.
#include "acme/base64url.hpp"

#include <gtest/gtest.h>

namespace bws::acme {

TEST(AcmeBase64url, EncodesRfc4648Vectors) {
    EXPECT_EQ(base64url_encode(""), "");
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
    EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
    EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
    // The URL-safe characters: 0xfb 0xff is "+/8" in plain base64.
    EXPECT_EQ(base64url_encode(std::string("\xfb\xff", 2)), "-_8");
    // RFC 7515 §A.1's protected header.
    EXPECT_EQ(base64url_encode(std::string("{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}")),
              "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
}

TEST(AcmeBase64url, DecodesWhatItEncodes) {
    std::string all;
    for (int i = 0; i < 256; ++i)
        all += static_cast<char>(i);
    for (std::size_t n = 0; n <= all.size(); n += 37)
        EXPECT_EQ(base64url_decode(base64url_encode(all.substr(0, n))), all.substr(0, n));
    EXPECT_EQ(base64url_decode("Zm9vYmE"), "fooba");
}

TEST(AcmeBase64url, RejectsPaddingForeignCharactersAndBadLengths) {
    EXPECT_FALSE(base64url_decode("Zg=="));
    EXPECT_FALSE(base64url_decode("Zm+v"));
    EXPECT_FALSE(base64url_decode("Zm/v"));
    EXPECT_FALSE(base64url_decode("Zm9vY")); // 4n+1 characters
    EXPECT_FALSE(base64url_decode("Zh"));    // non-zero leftover bits
}

TEST(AcmeBase64url, TokenCheckAllowsOnlyTheAlphabet) {
    EXPECT_TRUE(is_base64url_token("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"));
    EXPECT_TRUE(is_base64url_token("a-b_C9"));
    EXPECT_FALSE(is_base64url_token(""));
    EXPECT_FALSE(is_base64url_token("../../etc/passwd"));
    EXPECT_FALSE(is_base64url_token("abc/def"));
    EXPECT_FALSE(is_base64url_token("abc.def"));
    EXPECT_FALSE(is_base64url_token("abc%2e%2e"));
    EXPECT_FALSE(is_base64url_token("abc="));
    EXPECT_FALSE(is_base64url_token(std::string("abc\0def", 7)));
}

} // namespace bws::acme
