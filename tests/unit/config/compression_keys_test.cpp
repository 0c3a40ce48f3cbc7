// Unit tests for the [sites.compression] keys: defaults, every key read, every error at its
// FILE:LINE:COL.
#include "config/load.hpp"

#include "../config_test_util.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

using content::coding;
using test::all;

load_result load(const std::string& text) {
    load_options options;
    options.check_filesystem = false;
    return load_string(text, "/srv/conf/bws.toml", options);
}

// Lines 1-5: site "a"; the caller's text starts on line 6.
std::string site_a(const std::string& rest) {
    return "[[sites]]\nname = \"a\"\nhostname = \"a.test\"\nport = 8080\nstatic_dir = "
           "\"/srv/a\"\n" +
           rest;
}

diagnostic only_error(const load_result& r) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 1u) << all(r.errors);
    return r.errors.empty() ? diagnostic{} : r.errors.front();
}

void expect_at(const diagnostic& d, int line, int column, std::string_view text) {
    EXPECT_EQ(d.pos.file, "/srv/conf/bws.toml");
    EXPECT_EQ(d.pos.line, line) << d.to_string();
    EXPECT_EQ(d.pos.column, column) << d.to_string();
    EXPECT_NE(d.message.find(text), std::string::npos) << d.to_string();
}

TEST(ConfigCompression, OffWithoutTheTableOnWithIt) {
    auto r = load(site_a(""));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_FALSE(r.config->sites[0].compression.enabled);
    r = load(site_a("[sites.compression]\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& c = r.config->sites[0].compression;
    EXPECT_TRUE(c.enabled);
    EXPECT_EQ(c.level, 6);
    EXPECT_EQ(c.min_size, 1024u);
    EXPECT_FALSE(c.precompressed);
    EXPECT_EQ(c.algorithms, (std::vector<coding>{coding::br, coding::zstd, coding::gzip}));
    EXPECT_EQ(c.types.front(), "text/*");
    r = load(site_a("[sites.compression]\nenabled = false\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_FALSE(r.config->sites[0].compression.enabled);
}

TEST(ConfigCompression, EveryKeyIsRead) {
    auto r = load(site_a(R"([sites.compression]
enabled = true
types = ["Text/HTML", "application/*", "text/html"]
level = 9
min_size = "4KB"
algorithms = ["gzip", "zstd"]
precompressed = true
)"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& c = r.config->sites[0].compression;
    EXPECT_EQ(c.types, (std::vector<std::string>{"text/html", "application/*"}));
    EXPECT_EQ(c.level, 9);
    EXPECT_EQ(c.min_size, 4096u);
    EXPECT_EQ(c.algorithms, (std::vector<coding>{coding::gzip, coding::zstd}));
    EXPECT_TRUE(c.precompressed);
}

TEST(ConfigCompression, ErrorsAreAtTheValue) {
    expect_at(only_error(load(site_a("[sites.compression]\nlevel = 0\n"))), 7, 9, "level");
    expect_at(only_error(load(site_a("[sites.compression]\nlevel = 10\n"))), 7, 9, "level");
    expect_at(only_error(load(site_a("[sites.compression]\nmin_size = \"big\"\n"))), 7, 12,
              "min_size");
    expect_at(only_error(load(site_a("[sites.compression]\ntypes = [\"text/html\", \"html\"]\n"))),
              7, 23, "'html' is not a media type");
    expect_at(only_error(load(site_a("[sites.compression]\ntypes = [\"*/*\"]\n"))), 7, 10,
              "not a media type");
    expect_at(only_error(load(site_a("[sites.compression]\ntypes = [\"text/html; q=1\"]\n"))), 7,
              10, "not a media type");
    expect_at(only_error(load(site_a("[sites.compression]\ntypes = []\n"))), 7, 9,
              "must not be empty");
    expect_at(only_error(load(site_a("[sites.compression]\nalgorithms = [\"deflate\"]\n"))), 7, 15,
              "'deflate' is not one of");
    expect_at(only_error(load(site_a("[sites.compression]\nalgorithms = [\"GZIP\"]\n"))), 7, 15,
              "is not one of");
    expect_at(only_error(load(site_a("[sites.compression]\nalgorithms = [\"br\", \"br\"]\n"))), 7,
              21, "listed twice");
    expect_at(only_error(load(site_a("[sites.compression]\nalgorithms = []\n"))), 7, 14,
              "must not be empty");
    expect_at(only_error(load(site_a("[sites.compression]\nenabled = 1\n"))), 7, 11, "enabled");
    expect_at(only_error(load(site_a("[sites.compression]\ngzip_static = true\n"))), 7, 1,
              "unknown key 'gzip_static'");
    expect_at(only_error(load(site_a("compression = true\n"))), 6, 15, "[sites.compression]");
}

} // namespace
} // namespace bws::config
