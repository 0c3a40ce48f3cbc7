// The typed TLS settings of one site, as the config loader fills them from [sites.ssl]; the
// defaults are the secure baseline (TLS 1.2/1.3, ECDHE with AEAD only, X25519 and P-256).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bws::tls {

enum class tls_version { tls1_2, tls1_3 };

// none: no certificate is requested. optional: requested, and verified when sent.
// required: a verified certificate is needed for the handshake to succeed.
enum class client_cert_mode { none, optional, required };

// One certificate of a site: a PEM chain (leaf first) and its private key. A site may list
// several (RSA and ECDSA side by side); OpenSSL then picks by what the client supports.
struct certificate_files {
    std::filesystem::path cert_file;
    std::filesystem::path key_file;
};

inline constexpr const char* default_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr const char* default_tls13_ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
inline constexpr const char* default_groups = "X25519:P-256:P-384";

struct settings {
    std::vector<certificate_files> certificates;
    tls_version min_version = tls_version::tls1_2;
    std::optional<tls_version> max_version;            // none: the newest bws supports (TLS 1.3)
    std::string tls12_ciphers = default_tls12_ciphers; // OpenSSL cipher-list syntax
    std::string tls13_ciphersuites = default_tls13_ciphersuites;
    std::string groups = default_groups;
    client_cert_mode client_verify = client_cert_mode::none;
    std::filesystem::path client_ca_file; // required unless client_verify is none
    int client_verify_depth = 4;
    bool session_tickets = true; // stateless resumption with the master's shared keys
};

} // namespace bws::tls
