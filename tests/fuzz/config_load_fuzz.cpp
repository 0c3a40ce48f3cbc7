// Fuzz target: the configuration loader on arbitrary TOML, without filesystem checks (the
// loader's in-memory entry). It must answer with diagnostics, never crash; an accepted config
// holds no header that could split a response.
#include "fuzz_check.hpp"

#include "config/load.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    bws::config::load_options options;
    options.check_filesystem = false;
    const auto result = bws::config::load_string(in, "fuzz.toml", options);
    BWS_FUZZ_CHECK(result.ok() == result.errors.empty());
    // Not checked yet: that a diagnostic is one line (load.hpp). toml++'s parse-error text
    // quotes the offending bytes raw, line breaks included (corpus/config_load/finding-*).
    for (const auto* list : {&result.errors, &result.warnings})
        for (const auto& d : *list)
            BWS_FUZZ_CHECK(!d.message.empty());
    if (!result.ok())
        return 0;
    BWS_FUZZ_CHECK(!result.config->sites.empty() && !result.config->listeners.empty());
    for (const auto& site : result.config->sites) {
        BWS_FUZZ_CHECK(!site.hostnames.empty());
        for (const auto& [name, value] : site.headers) {
            BWS_FUZZ_CHECK(!name.empty());
            BWS_FUZZ_CHECK(name.find_first_of(":\r\n") == std::string::npos);
            BWS_FUZZ_CHECK(value.find_first_of("\r\n") == std::string::npos);
        }
    }
    return 0;
}
