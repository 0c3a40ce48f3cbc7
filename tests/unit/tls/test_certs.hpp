// Certificates made at test time with OpenSSL (a test CA, RSA and ECDSA leaves for any names,
// expired or mismatched ones), written as PEM files into a temporary directory; shared by the
// TLS unit tests and, later, the integration tests.
#pragma once

#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace bws::tls::testing {

enum class key_kind { rsa, ecdsa };

struct leaf_options {
    std::string common_name = "localhost";
    std::vector<std::string> dns_names = {"localhost"}; // "IP:127.0.0.1" for an IP name
    key_kind kind = key_kind::ecdsa;
    long valid_from_seconds = -3600;        // relative to now
    long valid_until_seconds = 86400 * 365; // relative to now
    bool client = false;                    // extended key usage clientAuth instead of serverAuth
};

struct pem_files {
    std::filesystem::path cert_file; // leaf, then the CA certificate (a two-element chain)
    std::filesystem::path key_file;
};

class cert_factory {
public:
    // Creates `directory` if needed, makes a self-signed ECDSA CA and writes it to ca.pem.
    // `name` distinguishes several CAs (their subjects differ).
    explicit cert_factory(std::filesystem::path directory, std::string name = "bws test CA");
    ~cert_factory();
    cert_factory(const cert_factory&) = delete;
    cert_factory& operator=(const cert_factory&) = delete;

    const std::filesystem::path& ca_file() const { return ca_file_; }
    X509* ca_certificate() const { return ca_cert_; }

    // Issues a leaf signed by the CA and writes STEM.crt / STEM.key.
    pem_files issue(const std::string& stem, const leaf_options& options);
    // Like issue(), but the key file holds a different key of the same kind.
    pem_files issue_mismatched(const std::string& stem, const leaf_options& options);

private:
    std::filesystem::path directory_;
    std::filesystem::path ca_file_;
    X509* ca_cert_ = nullptr;
    EVP_PKEY* ca_key_ = nullptr;
    long serial_ = 1;
};

// A fresh directory under the system temp dir, removed with its contents on destruction.
struct temp_directory {
    std::filesystem::path path;
    temp_directory();
    ~temp_directory();
    temp_directory(const temp_directory&) = delete;
    temp_directory& operator=(const temp_directory&) = delete;
};

} // namespace bws::tls::testing
