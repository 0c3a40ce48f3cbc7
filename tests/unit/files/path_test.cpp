// Percent-decoding, normalisation and traversal refusal of request paths.
#include "files/path.hpp"

#include <gtest/gtest.h>

using bws::files::is_hidden_path;
using bws::files::normalize_path;
using bws::files::path_error;

namespace {

path_error error_of(std::string_view raw) {
    return normalize_path(raw).error;
}

std::string relative_of(std::string_view raw) {
    auto r = normalize_path(raw);
    EXPECT_EQ(r.error, path_error::none) << raw;
    return r.relative;
}

} // namespace

TEST(FilesPath, PlainPaths) {
    EXPECT_EQ(relative_of("/"), "");
    EXPECT_EQ(relative_of("/index.html"), "index.html");
    EXPECT_EQ(relative_of("/a/b/c.txt"), "a/b/c.txt");
    EXPECT_TRUE(normalize_path("/").trailing_slash);
    EXPECT_TRUE(normalize_path("/a/").trailing_slash);
    EXPECT_FALSE(normalize_path("/a").trailing_slash);
    EXPECT_TRUE(normalize_path("/a/.").trailing_slash);
    EXPECT_TRUE(normalize_path("/a/b/..").trailing_slash);
    EXPECT_FALSE(normalize_path("/a/./b").trailing_slash);
}

TEST(FilesPath, PercentDecoding) {
    EXPECT_EQ(relative_of("/a%20b.html"), "a b.html");
    EXPECT_EQ(relative_of("/%41%62c"), "Abc");
    EXPECT_EQ(relative_of("/caf%C3%A9"), "caf\xC3\xA9");
    EXPECT_EQ(relative_of("/100%25"), "100%");
    EXPECT_EQ(relative_of("/q%3F.txt"), "q?.txt");
}

TEST(FilesPath, MalformedEscapes) {
    EXPECT_EQ(error_of("/%"), path_error::bad_escape);
    EXPECT_EQ(error_of("/%1"), path_error::bad_escape);
    EXPECT_EQ(error_of("/a%zz"), path_error::bad_escape);
    EXPECT_EQ(error_of("/a%g0/b"), path_error::bad_escape);
    EXPECT_EQ(error_of("/a%"), path_error::bad_escape);
}

TEST(FilesPath, ForbiddenBytes) {
    EXPECT_EQ(error_of("/a%00b"), path_error::nul);
    EXPECT_EQ(error_of("/index.html%00.txt"), path_error::nul);
    EXPECT_EQ(error_of("/a\\b"), path_error::backslash);
    EXPECT_EQ(error_of("/..\\..\\etc\\passwd"), path_error::backslash);
    EXPECT_EQ(error_of("/a%5cb"), path_error::backslash);
    EXPECT_EQ(error_of("/a%5Cb"), path_error::backslash);
    EXPECT_EQ(error_of("/a%2fb"), path_error::encoded_slash);
    EXPECT_EQ(error_of("/a%2Fb"), path_error::encoded_slash);
    EXPECT_EQ(error_of("/..%2f..%2fetc/passwd"), path_error::encoded_slash);
    EXPECT_EQ(error_of("/%2E%2e%2f"), path_error::encoded_slash);
    EXPECT_EQ(error_of("relative"), path_error::not_absolute);
    EXPECT_EQ(error_of(""), path_error::not_absolute);
}

TEST(FilesPath, Traversal) {
    // nginx: /../index.html → 400; /%2e%2e/%2e%2e/etc/passwd → 400; /sub/../index.html → 200.
    EXPECT_EQ(error_of("/.."), path_error::above_root);
    EXPECT_EQ(error_of("/../index.html"), path_error::above_root);
    EXPECT_EQ(error_of("/%2e%2e/%2e%2e/etc/passwd"), path_error::above_root);
    EXPECT_EQ(error_of("/%2E%2E/etc/passwd"), path_error::above_root);
    EXPECT_EQ(error_of("/.%2e/x"), path_error::above_root);
    EXPECT_EQ(error_of("/a/../../b"), path_error::above_root);
    EXPECT_EQ(error_of("/a/b/../../../etc/passwd"), path_error::above_root);
    EXPECT_EQ(error_of("//../x"), path_error::above_root);
    EXPECT_EQ(relative_of("/sub/../index.html"), "index.html");
    EXPECT_EQ(relative_of("/a/b/../c"), "a/c");
    EXPECT_EQ(relative_of("/a/%2e%2e/c"), "c");
    EXPECT_EQ(relative_of("/a/./b/."), "a/b");
    EXPECT_EQ(relative_of("/a/.."), "");
    // Not dot segments: names that merely contain dots.
    EXPECT_EQ(relative_of("/...txt"), "...txt");
    EXPECT_EQ(relative_of("/a/..b"), "a/..b");
}

TEST(FilesPath, SlashesCollapse) {
    EXPECT_EQ(relative_of("//a///b//"), "a/b");
    EXPECT_TRUE(normalize_path("//a///b//").trailing_slash);
    EXPECT_EQ(relative_of("////"), "");
}

TEST(FilesPath, HiddenSegments) {
    EXPECT_TRUE(is_hidden_path(".env"));
    EXPECT_TRUE(is_hidden_path(".git/config"));
    EXPECT_TRUE(is_hidden_path("a/.htaccess"));
    EXPECT_TRUE(is_hidden_path("a/.b/c"));
    EXPECT_FALSE(is_hidden_path(""));
    EXPECT_FALSE(is_hidden_path("a/b.c"));
    EXPECT_FALSE(is_hidden_path(".well-known"));
    EXPECT_FALSE(is_hidden_path(".well-known/acme-challenge/token"));
    EXPECT_TRUE(is_hidden_path(".well-known/.secret"));
    EXPECT_TRUE(is_hidden_path("a/.well-known/x"));
    EXPECT_TRUE(is_hidden_path(".well-knownx/y"));
}
