// Configuration fixtures: the real loader on in-memory text.
#include "support/config_fixture.hpp"

#include <gtest/gtest.h>
#include <stdexcept>

namespace bws::test {

config::snapshot_ptr snapshot_from_toml(const std::string& toml_text) {
    config::load_options options;
    options.check_filesystem = false;
    auto result = config::load_string(toml_text, "test.toml", options);
    if (!result.ok())
        throw std::runtime_error("test config does not load:\n" + all(result.errors));
    return result.config;
}

std::string all(const std::vector<config::diagnostic>& list) {
    std::string out;
    for (const auto& d : list)
        out += d.to_string() + "\n";
    return out;
}

config::diagnostic find_one(const std::vector<config::diagnostic>& list, const std::string& text) {
    const config::diagnostic* found = nullptr;
    int count = 0;
    for (const auto& d : list) {
        if (d.message.find(text) != std::string::npos) {
            found = &d;
            ++count;
        }
    }
    EXPECT_EQ(count, 1) << "looking for '" << text << "' in:\n" << all(list);
    return found != nullptr ? *found : config::diagnostic{};
}

} // namespace bws::test
