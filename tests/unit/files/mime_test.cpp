// The MIME table: required entries, case-insensitivity, charsets, unknown extensions.
#include "files/mime.hpp"

#include <gtest/gtest.h>

#include <set>

using bws::files::mime_table;
using bws::files::mime_type_for;

TEST(Mime, UpstreamTable) {
    EXPECT_EQ(mime_type_for("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.htm"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.css"), "text/css; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.js"), "application/javascript; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.mjs"), "application/javascript; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.json"), "application/json; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.txt"), "text/plain; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.xml"), "application/xml; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.md"), "text/markdown; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.yaml"), "application/x-yaml; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.yml"), "application/x-yaml; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.toml"), "application/toml; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.csv"), "text/csv; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.manifest"), "text/cache-manifest; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.webmanifest"), "application/manifest+json; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.rss"), "application/rss+xml; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.atom"), "application/atom+xml; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.png"), "image/png");
    EXPECT_EQ(mime_type_for("a.jpg"), "image/jpeg");
    EXPECT_EQ(mime_type_for("a.jpeg"), "image/jpeg");
    EXPECT_EQ(mime_type_for("a.gif"), "image/gif");
    EXPECT_EQ(mime_type_for("a.svg"), "image/svg+xml");
    EXPECT_EQ(mime_type_for("a.ico"), "image/x-icon");
    EXPECT_EQ(mime_type_for("a.webp"), "image/webp");
    EXPECT_EQ(mime_type_for("a.avif"), "image/avif");
    EXPECT_EQ(mime_type_for("a.woff"), "font/woff");
    EXPECT_EQ(mime_type_for("a.woff2"), "font/woff2");
    EXPECT_EQ(mime_type_for("a.ttf"), "font/ttf");
    EXPECT_EQ(mime_type_for("a.otf"), "font/otf");
    EXPECT_EQ(mime_type_for("a.eot"), "application/vnd.ms-fontobject");
    EXPECT_EQ(mime_type_for("a.pdf"), "application/pdf");
    EXPECT_EQ(mime_type_for("a.wasm"), "application/wasm");
    EXPECT_EQ(mime_type_for("a.zip"), "application/zip");
    EXPECT_EQ(mime_type_for("a.gz"), "application/gzip");
    EXPECT_EQ(mime_type_for("a.tar"), "application/x-tar");
    EXPECT_EQ(mime_type_for("a.mp4"), "video/mp4");
    EXPECT_EQ(mime_type_for("a.webm"), "video/webm");
    EXPECT_EQ(mime_type_for("a.mp3"), "audio/mpeg");
    EXPECT_EQ(mime_type_for("a.wav"), "audio/wav");
    EXPECT_EQ(mime_type_for("a.ogg"), "audio/ogg");
}

TEST(Mime, NginxCommonEntries) {
    for (const char* ext : {"shtml", "jsonld", "map",  "svgz", "tif", "tiff", "bmp", "tgz",  "bz2",
                            "xz",    "7z",     "rar",  "oga",  "m4a", "flac", "aac", "m4v",  "mov",
                            "avi",   "mkv",    "mpeg", "ics",  "doc", "docx", "xls", "xlsx", "ppt",
                            "pptx",  "odt",    "rtf",  "epub", "apk", "deb",  "rpm", "jar"}) {
        EXPECT_NE(mime_type_for(std::string("f.") + ext), "application/octet-stream") << ext;
    }
    EXPECT_EQ(mime_type_for("a.iso"), "application/octet-stream"); // nginx maps these to it too
    EXPECT_EQ(mime_type_for("a.jsonld"), "application/ld+json; charset=utf-8");
}

TEST(Mime, CaseInsensitiveAndPaths) {
    EXPECT_EQ(mime_type_for("INDEX.HTML"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type_for("photo.JpEg"), "image/jpeg");
    EXPECT_EQ(mime_type_for("dir.d/file.css"), "text/css; charset=utf-8");
    EXPECT_EQ(mime_type_for("archive.tar.gz"), "application/gzip");
}

TEST(Mime, UnknownOrMissing) {
    EXPECT_EQ(mime_type_for("README"), "application/octet-stream");
    EXPECT_EQ(mime_type_for("a."), "application/octet-stream");
    EXPECT_EQ(mime_type_for("a.unknownext"), "application/octet-stream");
    EXPECT_EQ(mime_type_for("a.verylongextensionnamethatisnotreal"), "application/octet-stream");
    EXPECT_EQ(mime_type_for("dir.html/README"), "application/octet-stream");
    EXPECT_EQ(mime_type_for(""), "application/octet-stream");
}

TEST(Mime, TableIsSortedLowerCaseAndTextHasCharset) {
    auto table = mime_table();
    ASSERT_GT(table.size, 100u);
    std::set<std::string_view> seen;
    for (std::size_t i = 0; i < table.size; ++i) {
        const auto& e = table.data[i];
        EXPECT_TRUE(seen.insert(e.extension).second) << e.extension;
        if (i > 0) {
            EXPECT_LT(table.data[i - 1].extension, e.extension);
        }
        for (char c : e.extension)
            EXPECT_FALSE(c >= 'A' && c <= 'Z') << e.extension;
        if (e.type.substr(0, 5) == "text/") {
            EXPECT_NE(e.type.find("; charset=utf-8"), std::string_view::npos) << e.extension;
        }
        // Every entry must be reachable through the lookup.
        EXPECT_EQ(mime_type_for(std::string("x.") + std::string(e.extension)), e.type);
    }
}
