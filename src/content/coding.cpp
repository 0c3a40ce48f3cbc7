// Names of the content codings.
#include "content/coding.hpp"

#include <algorithm>
#include <cctype>

namespace bws::content {

namespace {

bool iequal(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

} // namespace

std::string_view token(coding c) noexcept {
    switch (c) {
    case coding::br:
        return "br";
    case coding::zstd:
        return "zstd";
    case coding::gzip:
        return "gzip";
    case coding::identity:
        break;
    }
    return "identity";
}

std::string_view file_suffix(coding c) noexcept {
    switch (c) {
    case coding::br:
        return ".br";
    case coding::zstd:
        return ".zst";
    case coding::gzip:
        return ".gz";
    case coding::identity:
        break;
    }
    return {};
}

std::optional<coding> coding_from_token(std::string_view name) noexcept {
    if (iequal(name, "br"))
        return coding::br;
    if (iequal(name, "zstd"))
        return coding::zstd;
    if (iequal(name, "gzip") || iequal(name, "x-gzip"))
        return coding::gzip;
    if (iequal(name, "identity"))
        return coding::identity;
    return std::nullopt;
}

} // namespace bws::content
