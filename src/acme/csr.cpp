// CSR construction (see csr.hpp).
#include "acme/csr.hpp"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace bws::acme {

namespace {

struct req_deleter {
    void operator()(X509_REQ* p) const noexcept { X509_REQ_free(p); }
};
struct names_deleter {
    void operator()(GENERAL_NAMES* p) const noexcept { GENERAL_NAMES_free(p); }
};
struct extensions_deleter {
    void operator()(STACK_OF(X509_EXTENSION) * p) const noexcept {
        sk_X509_EXTENSION_pop_free(p, X509_EXTENSION_free);
    }
};

// The longest CN X.509 allows (ub-common-name); a longer first name is carried by the SAN only.
constexpr std::size_t max_common_name = 64;

} // namespace

result<std::string> make_csr(EVP_PKEY* certificate_key, const std::vector<std::string>& names) {
    if (names.empty())
        return acme::error{"CSR: no names", 0, {}, {}};
    for (const std::string& name : names)
        if (name.empty())
            return acme::error{"CSR: an empty name", 0, {}, {}};

    const std::unique_ptr<X509_REQ, req_deleter> req(X509_REQ_new());
    if (!req || X509_REQ_set_version(req.get(), 0) != 1)
        return openssl_error("CSR: new request");
    if (names.front().size() <= max_common_name) {
        X509_NAME* subject = X509_REQ_get_subject_name(req.get());
        const auto* cn = reinterpret_cast<const unsigned char*>(names.front().c_str());
        if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1)
            return openssl_error("CSR: subject");
    }

    const std::unique_ptr<GENERAL_NAMES, names_deleter> sans(GENERAL_NAMES_new());
    if (!sans)
        return openssl_error("CSR: out of memory");
    for (const std::string& name : names) {
        GENERAL_NAME* entry = GENERAL_NAME_new();
        ASN1_IA5STRING* text = ASN1_IA5STRING_new();
        if (entry == nullptr || text == nullptr ||
            ASN1_STRING_set(text, name.data(), static_cast<int>(name.size())) != 1) {
            GENERAL_NAME_free(entry);
            ASN1_IA5STRING_free(text);
            return openssl_error("CSR: subjectAltName");
        }
        GENERAL_NAME_set0_value(entry, GEN_DNS, text); // entry owns text now
        if (sk_GENERAL_NAME_push(sans.get(), entry) == 0) {
            GENERAL_NAME_free(entry);
            return openssl_error("CSR: subjectAltName");
        }
    }
    const std::unique_ptr<STACK_OF(X509_EXTENSION), extensions_deleter> extensions(
        sk_X509_EXTENSION_new_null());
    X509_EXTENSION* san = X509V3_EXT_i2d(NID_subject_alt_name, 0, sans.get());
    if (!extensions || san == nullptr || sk_X509_EXTENSION_push(extensions.get(), san) == 0) {
        X509_EXTENSION_free(san);
        return openssl_error("CSR: subjectAltName");
    }
    if (X509_REQ_add_extensions(req.get(), extensions.get()) != 1)
        return openssl_error("CSR: extensions");
    if (X509_REQ_set_pubkey(req.get(), certificate_key) != 1)
        return openssl_error("CSR: public key");
    if (X509_REQ_sign(req.get(), certificate_key, EVP_sha256()) <= 0)
        return openssl_error("CSR: signature");

    const int size = i2d_X509_REQ(req.get(), nullptr);
    if (size <= 0)
        return openssl_error("CSR: DER encoding");
    std::string der(static_cast<std::size_t>(size), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_X509_REQ(req.get(), &out) != size)
        return openssl_error("CSR: DER encoding");
    return der;
}

} // namespace bws::acme
