// What the size and duration parsers share: character classes and the prelude that trims a
// value and refuses an empty or negative one.
#pragma once

#include <string>
#include <string_view>

namespace bws::config {

inline bool is_space(char c) {
    return c == ' ' || c == '\t';
}
inline bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Trims spaces and tabs from `text`. False, with `error` set, when nothing is left ("empty
// KIND (expected EXAMPLE)") or the value starts with '-' ("KIND 'TEXT' is negative").
inline bool trim_unsigned(std::string_view& text, std::string_view kind, std::string_view example,
                          std::string& error) {
    const std::string original(text);
    while (!text.empty() && is_space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_space(text.back()))
        text.remove_suffix(1);
    if (text.empty()) {
        error = "empty " + std::string(kind) + " (expected " + std::string(example) + ")";
        return false;
    }
    if (text.front() == '-') {
        error = std::string(kind) + " '" + original + "' is negative";
        return false;
    }
    return true;
}

} // namespace bws::config
