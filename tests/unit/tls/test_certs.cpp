// The test certificate factory: keys, X.509 v3 certificates with SANs, PEM output.
#include "test_certs.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace bws::tls::testing {

namespace {

EVP_PKEY* make_key(key_kind kind) {
    EVP_PKEY* key = kind == key_kind::rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    if (key == nullptr)
        throw std::runtime_error("key generation failed");
    return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr)
        throw std::runtime_error("bad extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

X509* make_cert(const std::string& common_name, EVP_PKEY* key, X509* issuer, long serial, long from,
                long until) {
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), from);
    X509_gmtime_adj(X509_getm_notAfter(cert), until);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("bws tests"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    return cert;
}

void sign(X509* cert, EVP_PKEY* key) {
    if (X509_sign(cert, key, EVP_sha256()) == 0)
        throw std::runtime_error("signing failed");
}

template <typename Write>
void write_pem(const std::filesystem::path& path, Write write) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr)
        throw std::runtime_error("cannot write " + path.string());
    write(f);
    std::fclose(f);
}

} // namespace

cert_factory::cert_factory(std::filesystem::path directory, std::string name)
    : directory_(std::move(directory)),
      ca_file_(directory_ / ("ca-" + std::to_string(std::hash<std::string>{}(name)) + ".pem")) {
    std::filesystem::create_directories(directory_);
    ca_key_ = make_key(key_kind::ecdsa);
    ca_cert_ = make_cert(name, ca_key_, nullptr, serial_++, -86400, 86400L * 3650);
    add_extension(ca_cert_, ca_cert_, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(ca_cert_, ca_cert_, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(ca_cert_, ca_cert_, NID_subject_key_identifier, "hash");
    sign(ca_cert_, ca_key_);
    write_pem(ca_file_, [&](FILE* f) { PEM_write_X509(f, ca_cert_); });
}

cert_factory::~cert_factory() {
    X509_free(ca_cert_);
    EVP_PKEY_free(ca_key_);
}

pem_files cert_factory::issue(const std::string& stem, const leaf_options& options) {
    EVP_PKEY* key = make_key(options.kind);
    X509* cert = make_cert(options.common_name, key, ca_cert_, serial_++,
                           options.valid_from_seconds, options.valid_until_seconds);
    std::string san;
    for (const std::string& dns : options.dns_names)
        // "IP:..." entries are IP address names; the rest are DNS names.
        san += (san.empty() ? "" : ",") + (dns.starts_with("IP:") ? dns : "DNS:" + dns);
    if (!san.empty())
        add_extension(cert, ca_cert_, NID_subject_alt_name, san);
    add_extension(cert, ca_cert_, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, ca_cert_, NID_ext_key_usage, options.client ? "clientAuth" : "serverAuth");
    add_extension(cert, ca_cert_, NID_authority_key_identifier, "keyid");
    sign(cert, ca_key_);
    pem_files files{directory_ / (stem + ".crt"), directory_ / (stem + ".key")};
    write_pem(files.cert_file, [&](FILE* f) {
        PEM_write_X509(f, cert);
        PEM_write_X509(f, ca_cert_);
    });
    write_pem(files.key_file, [&](FILE* f) {
        PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    });
    X509_free(cert);
    EVP_PKEY_free(key);
    return files;
}

pem_files cert_factory::issue_mismatched(const std::string& stem, const leaf_options& options) {
    pem_files files = issue(stem, options);
    EVP_PKEY* other = make_key(options.kind);
    write_pem(files.key_file, [&](FILE* f) {
        PEM_write_PrivateKey(f, other, nullptr, nullptr, 0, nullptr, nullptr);
    });
    EVP_PKEY_free(other);
    return files;
}

temp_directory::temp_directory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bws-tls-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    path = pattern;
}

temp_directory::~temp_directory() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
}

} // namespace bws::tls::testing
