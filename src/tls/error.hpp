// Error codes of the TLS layer (std::error_code, convertible to boost::system::error_code), and
// which of them are benign peer behaviour rather than failures worth a warning.
#pragma once

#include <string>
#include <system_error>

namespace bws::tls {

enum class errc {
    stream_truncated = 1, // the peer closed the TCP connection without close_notify
    handshake_failed,     // protocol error, no shared version/cipher, bad client cert, ...
    protocol_error,       // a TLS failure after the handshake (bad record, alert)
    sni_refused,          // unknown server name on a port configured to refuse it
};

const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

// True for what a client does routinely: closing without close_notify, resets, broken pipes.
bool is_benign(const std::error_code& ec) noexcept;

// The reason of the most recent OpenSSL error queue entry ("" when empty), for log lines.
std::string last_openssl_error();

} // namespace bws::tls

template <>
struct std::is_error_code_enum<bws::tls::errc> : std::true_type {};
