// `include = [...]` in the configuration: which files a pattern names. Internal to bws::config.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace bws::config::detail {

// Whether `pattern` has glob characters (*, ?, [); without them it names one file.
bool is_glob(const std::string& pattern);

// The files an include pattern names, relative patterns taken from `base_dir` (the directory
// of the including file). A glob gives its matches in sorted order (none is fine); a literal
// path gives itself, and must exist. False with `error` set when the pattern cannot be expanded.
bool expand_include(const std::string& pattern, const std::filesystem::path& base_dir,
                    std::vector<std::filesystem::path>& files, std::string& error);

// The text of a config file; false with `error` set ("cannot open: ...", "is a directory, ...").
bool read_config_text(const std::filesystem::path& file, std::string& text, std::string& error);

} // namespace bws::config::detail
