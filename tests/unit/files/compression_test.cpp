// The static handler's compression helpers: which files are compressible, variant ETags.
#include "files/compression.hpp"

#include <gtest/gtest.h>

using namespace bws::files;
using bws::content::coding;

TEST(FilesCompression, TypesMatchWithoutParametersAndByWildcard) {
    bws::config::site_compression c;
    c.enabled = true;
    c.types = {"text/*", "application/json", "image/svg+xml"};
    EXPECT_TRUE(compressible(c, "text/html; charset=utf-8", "a.html"));
    EXPECT_TRUE(compressible(c, "TEXT/CSS", "a.css"));
    EXPECT_TRUE(compressible(c, "application/json; charset=utf-8", "a.json"));
    EXPECT_TRUE(compressible(c, "image/svg+xml", "a.svg"));
    EXPECT_FALSE(compressible(c, "image/svg+xml", "a.SVGZ")); // gzip already
    EXPECT_FALSE(compressible(c, "application/javascript; charset=utf-8", "a.js"));
    EXPECT_FALSE(compressible(c, "textual/html", "a.x"));
    EXPECT_FALSE(compressible(c, "application/json-seq", "a.x"));
    EXPECT_FALSE(compressible(c, "image/png", "a.png"));
    c.enabled = false;
    EXPECT_FALSE(compressible(c, "text/html", "a.html"));
}

TEST(FilesCompression, VariantEtagsAddTheCodingInsideTheQuotes) {
    EXPECT_EQ(variant_etag("\"65a1.0-400\"", coding::br), "\"65a1.0-400-br\"");
    EXPECT_EQ(variant_etag("\"x\"", coding::zstd), "\"x-zstd\"");
    EXPECT_EQ(variant_etag("\"x\"", coding::gzip), "\"x-gzip\"");
    EXPECT_EQ(variant_etag("W/\"x\"", coding::gzip), "W/\"x-gzip\"");
}
