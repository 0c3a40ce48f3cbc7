// Reads the logging environment variables of this process.
#include "log/environment.hpp"

#include <cstdlib>

namespace bws::log {
namespace {
std::optional<std::string> get(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0')
        return std::nullopt;
    return std::string(value);
}
} // namespace

environment environment::from_process() {
    return {get("BWS_LOG_LEVEL"), get("RUST_LOG"), get("BWS_LOG_FILE"), get("JOURNAL_STREAM")};
}

} // namespace bws::log
