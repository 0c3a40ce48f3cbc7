// Loading PEM chains and keys, and the expiry / key / host-name checks.
#include "tls/certificate.hpp"

#include "sys/saved_root.hpp"
#include "tls/error.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <unistd.h>

namespace bws::tls {

namespace {

using severity = diagnostic::severity;
using source = diagnostic::source;

void add(std::vector<diagnostic>& out, severity level, source file, std::string message) {
    out.push_back({level, file, std::move(message)});
}

// "PATH: WHAT: OPENSSL REASON", clearing the queue so the next call starts clean.
std::string failure(const std::filesystem::path& path, const char* what) {
    std::string reason = last_openssl_error();
    ERR_clear_error();
    std::string text = path.string() + ": " + what;
    if (!reason.empty())
        text += " (" + reason + ")";
    return text;
}

bio_ptr open_file(const std::filesystem::path& path) {
    errno = 0; // open_failure() reads what fopen left
    return bio_ptr(BIO_new_file(path.c_str(), "r"));
}

// "PATH: cannot open: No such file or directory" (errno says it better than OpenSSL's
// "system lib"); OpenSSL's reason when errno has none.
std::string open_failure(const std::filesystem::path& path) {
    const int saved = errno;
    if (saved == 0)
        return failure(path, "cannot open");
    ERR_clear_error();
    return path.string() + ": cannot open: " + std::strerror(saved);
}

// True when the last PEM read stopped only because no further PEM block follows.
bool at_end_of_pem() {
    const unsigned long code = ERR_peek_last_error();
    return ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE;
}

} // namespace

std::optional<certificate> certificate::load(const certificate_files& files,
                                             std::vector<diagnostic>& out) {
    ERR_clear_error();
    certificate result;
    result.files_ = files;

    // A `bws --user` master opens the files named by the (root-owned) configuration as root:
    // keys can stay root:root 0600, and certbot's root-only live/ directories work as they are.
    bio_ptr cert_bio = [&] {
        sys::root_scope as_root;
        return open_file(files.cert_file);
    }();
    if (!cert_bio) {
        add(out, severity::error, source::cert_file, open_failure(files.cert_file));
        return std::nullopt;
    }
    result.leaf_.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    if (!result.leaf_) {
        add(out, severity::error, source::cert_file,
            failure(files.cert_file, "no PEM certificate"));
        return std::nullopt;
    }
    result.chain_.reset(sk_X509_new_null());
    while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr))
        sk_X509_push(result.chain_.get(), extra);
    if (!at_end_of_pem()) {
        add(out, severity::error, source::cert_file,
            failure(files.cert_file, "a certificate of the chain does not parse"));
        return std::nullopt;
    }
    ERR_clear_error();

    bool as_root = false;
    bio_ptr key_bio = [&] {
        sys::root_scope scope;
        as_root = ::geteuid() == 0;
        return open_file(files.key_file);
    }();
    if (!key_bio) {
        const bool denied = errno == EACCES;
        std::string text = open_failure(files.key_file);
        if (denied && !as_root)
            text += " (bws runs as " + sys::current_user_name() +
                    ": give it read access, e.g. root:bws 0640, or start bws as root with "
                    "--user, as bws.service does, for a root-only key)";
        add(out, severity::error, source::key_file, std::move(text));
        return std::nullopt;
    }
    // No passphrase: an encrypted key fails here instead of prompting on the terminal.
    auto no_passphrase = [](char*, int, int, void*) -> int { return -1; };
    result.key_.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
    if (!result.key_) {
        add(out, severity::error, source::key_file, failure(files.key_file, "no PEM private key"));
        return std::nullopt;
    }
    if (X509_check_private_key(result.leaf_.get(), result.key_.get()) != 1) {
        ERR_clear_error();
        add(out, severity::error, source::key_file,
            files.key_file.string() + ": the private key does not match the certificate " +
                files.cert_file.string());
        return std::nullopt;
    }
    return result;
}

std::chrono::system_clock::time_point certificate::not_after() const {
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf_.get()), &tm) != 1)
        return {};
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string certificate::not_after_text() const {
    const std::time_t t = std::chrono::system_clock::to_time_t(not_after());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

std::string certificate::subject() const {
    return subject_text(leaf_.get());
}

std::string subject_text(X509* cert) {
    bio_ptr mem(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(mem.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long size = BIO_get_mem_data(mem.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::string certificate::sha256_fingerprint() const {
    return tls::sha256_fingerprint(leaf_.get());
}

std::string sha256_fingerprint(X509* cert) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    X509_digest(cert, EVP_sha256(), digest, &size);
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string text;
    for (unsigned int i = 0; i < size; ++i) {
        if (i)
            text += ':';
        text += hex[digest[i] >> 4];
        text += hex[digest[i] & 0xf];
    }
    return text;
}

bool certificate::covers_host(const std::string& host) const {
    // X509_check_host matches a concrete name against the certificate's patterns; a site
    // name that is itself a wildcard is covered when any one name under it is.
    // IP literals ("127.0.0.1", "[::1]" as hosts are written) match IP SANs only.
    std::string ip = host;
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']')
        ip = ip.substr(1, ip.size() - 2);
    unsigned char binary[16];
    if (inet_pton(AF_INET, ip.c_str(), binary) == 1 || inet_pton(AF_INET6, ip.c_str(), binary) == 1)
        return X509_check_ip_asc(leaf_.get(), ip.c_str(), 0) == 1;
    const std::string probe = host.starts_with("*.") ? "bws-wildcard-probe" + host.substr(1) : host;
    return X509_check_host(leaf_.get(), probe.data(), probe.size(), 0, nullptr) == 1;
}

void certificate::check(std::span<const std::string> hosts,
                        std::chrono::system_clock::time_point now, std::vector<diagnostic>& out,
                        std::chrono::hours warn_before) const {
    const std::string name = files_.cert_file.string();
    const auto expiry = not_after();
    if (expiry <= now)
        add(out, severity::error, source::cert_file,
            name + ": the certificate expired on " + not_after_text());
    else if (expiry - now <= warn_before)
        add(out, severity::warning, source::cert_file,
            name + ": the certificate expires on " + not_after_text());
    for (const std::string& host : hosts)
        if (!covers_host(host))
            add(out, severity::warning, source::cert_file,
                fmt::format("{}: the certificate does not cover the host name {}", name, host));
}

} // namespace bws::tls
