// A certificate chain and private key loaded from PEM files into memory (by the master, before
// privileges drop; workers inherit the objects through fork), and the checks --config-check
// and reload run on them.
#pragma once

#include "tls/openssl_ptr.hpp"
#include "tls/settings.hpp"

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bws::tls {

// One finding about a site's TLS setup. `file` tells the config loader which key to point at.
struct diagnostic {
    enum class severity { warning, error };
    enum class source {
        cert_file,
        key_file,
        tls12_ciphers,
        tls13_ciphersuites,
        groups,
        client_ca_file
    };
    severity level;
    source file;
    std::string message;
};

// The subject of `cert` in RFC 2253 form ("CN=example.com,O=Example").
std::string subject_text(X509* cert);
// The SHA-256 fingerprint of `cert` as colon-separated upper-case hex (openssl x509 -fingerprint).
std::string sha256_fingerprint(X509* cert);

class certificate {
public:
    // Reads the chain and key; on failure returns nullopt with at least one error in `out`.
    // The key is checked against the leaf here (a mismatch is an error, so nothing loaded is
    // unusable).
    static std::optional<certificate> load(const certificate_files& files,
                                           std::vector<diagnostic>& out);

    X509* leaf() const noexcept { return leaf_.get(); }
    STACK_OF(X509) * chain() const noexcept { return chain_.get(); } // intermediates only
    EVP_PKEY* key() const noexcept { return key_.get(); }
    const certificate_files& files() const noexcept { return files_; }

    std::chrono::system_clock::time_point not_after() const;
    std::string not_after_text() const; // "2027-01-31 12:00:00 UTC"
    std::string subject() const;        // RFC 2253 form
    std::string sha256_fingerprint() const;
    bool covers_host(const std::string& host) const; // SAN/CN match, wildcards allowed

    // Expired → error; expires within `warn_before` → warning; a host name in `hosts` not
    // covered → warning. `now` is a parameter so tests can move the clock.
    void check(std::span<const std::string> hosts, std::chrono::system_clock::time_point now,
               std::vector<diagnostic>& out,
               std::chrono::hours warn_before = std::chrono::hours(24 * 30)) const;

private:
    certificate_files files_;
    x509_ptr leaf_;
    x509_stack_ptr chain_;
    pkey_ptr key_;
};

} // namespace bws::tls
