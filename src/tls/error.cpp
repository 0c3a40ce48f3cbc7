// The TLS error category and the OpenSSL error queue formatting.
#include "tls/error.hpp"

#include <openssl/err.h>

namespace bws::tls {

namespace {

class tls_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "bws.tls"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::stream_truncated:
            return "stream truncated (peer closed without close_notify)";
        case errc::handshake_failed:
            return "TLS handshake failed";
        case errc::protocol_error:
            return "TLS protocol error";
        case errc::sni_refused:
            return "unknown server name refused";
        }
        return "unknown TLS error";
    }
};

} // namespace

const std::error_category& category() noexcept {
    static const tls_category instance;
    return instance;
}

bool is_benign(const std::error_code& ec) noexcept {
    return ec == errc::stream_truncated || ec == std::errc::connection_reset ||
           ec == std::errc::broken_pipe;
}

std::string last_openssl_error() {
    const unsigned long code = ERR_peek_last_error();
    if (code == 0)
        return {};
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

} // namespace bws::tls
