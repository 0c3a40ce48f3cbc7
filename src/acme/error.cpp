// acme::error formatting and OpenSSL error capture (see error.hpp).
#include "acme/error.hpp"

#include <openssl/err.h>

#include <array>

namespace bws::acme {

std::string error::to_string() const {
    std::string line = what;
    if (http_status != 0)
        line += " (HTTP " + std::to_string(http_status) + ")";
    if (!type.empty())
        line += ": " + type;
    if (!detail.empty())
        line += (type.empty() ? ": " : " ") + detail;
    return line;
}

acme::error openssl_error(const std::string& what) {
    acme::error e{what, 0, {}, {}};
    const unsigned long code = ERR_get_error();
    if (code != 0) {
        std::array<char, 256> text{};
        ERR_error_string_n(code, text.data(), text.size());
        e.detail = text.data();
    }
    ERR_clear_error();
    return e;
}

} // namespace bws::acme
