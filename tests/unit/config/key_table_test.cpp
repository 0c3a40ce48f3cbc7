// Unit tests for the key-table mechanism: unknown, refused and missing keys, type and range
// errors, and value positions all come from read_table() and value_reader.
#include "config/key_table.hpp"

#include <gtest/gtest.h>

namespace bws::config::detail {
namespace {

struct sample {
    std::string label;
    unsigned count = 7;
    bool on = false;
};

const std::vector<key_entry<sample>>& sample_keys() {
    using k = keys<sample>;
    static const std::vector<key_entry<sample>> table{
        k::nonempty_text("label", &sample::label).mandatory(),
        k::count("count", &sample::count, 1, 10),
        k::flag("on", &sample::on),
        k::not_yet("tls", "[sample.tls]", "TLS"),
    };
    return table;
}

struct read_outcome {
    sample value;
    key_positions where;
    std::vector<std::string_view> missing;
    report out{"t.toml", {}, {}};
};

void read(const char* text, read_outcome& r) {
    const toml::table t = toml::parse(std::string_view(text), std::string_view("t.toml"));
    value_reader in(r.out);
    r.missing = read_table(in, t, "[sample]", sample_keys(), r.value, &r.where);
}

TEST(ConfigKeyTable, ReadsKnownKeysAndKeepsTheirPositions) {
    read_outcome r;
    read("label = \"x\"\ncount = 3\non = true\n", r);
    EXPECT_TRUE(r.out.errors.empty());
    EXPECT_TRUE(r.missing.empty());
    EXPECT_EQ(r.value.label, "x");
    EXPECT_EQ(r.value.count, 3u);
    EXPECT_TRUE(r.value.on);
    ASSERT_TRUE(r.where.contains("count"));
    EXPECT_EQ(r.where.at("count").line, 2);
    EXPECT_EQ(r.where.at("count").column, 9);
    EXPECT_EQ(r.where.at("count").file, "t.toml");
}

TEST(ConfigKeyTable, AbsentKeysKeepDefaultsAndRequiredOnesAreReported) {
    read_outcome r;
    read("on = true\n", r);
    EXPECT_EQ(r.value.count, 7u);
    EXPECT_EQ(r.missing, std::vector<std::string_view>{"label"});
    EXPECT_FALSE(r.where.contains("count"));
}

TEST(ConfigKeyTable, UnknownTypeRangeAndRefusedKeysAreErrorsAtTheirPlace) {
    read_outcome r;
    read("label = 5\ncount = 11\non = \"yes\"\ncolour = 1\n[extra]\n[tls]\n", r);
    std::vector<std::string> texts;
    for (const auto& d : r.out.errors)
        texts.push_back(d.to_string());
    std::sort(texts.begin(), texts.end());
    EXPECT_EQ(texts, (std::vector<std::string>{
                         "t.toml:1:9: label: expected a string, got an integer",
                         "t.toml:2:9: count: 11 is out of range (must be between 1 and 10)",
                         "t.toml:3:6: on: expected a boolean, got a string",
                         "t.toml:4:1: unknown key 'colour' in [sample]",
                         "t.toml:5:2: unknown table 'extra' in [sample]",
                         "t.toml:6:2: [sample.tls] is not supported yet (TLS)",
                     }));
    // Rejected values keep the defaults and record no position.
    EXPECT_EQ(r.value.count, 7u);
    EXPECT_FALSE(r.where.contains("count"));
    // Given but invalid is not missing.
    EXPECT_TRUE(r.missing.empty());
}

} // namespace
} // namespace bws::config::detail
