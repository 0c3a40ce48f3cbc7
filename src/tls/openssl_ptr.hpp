// Owning smart pointers for the OpenSSL objects the TLS layer keeps (certificates, keys,
// contexts, connections), so every exit path frees them.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

namespace bws::tls {

struct openssl_deleter {
    void operator()(X509* p) const noexcept { X509_free(p); }
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    void operator()(STACK_OF(X509) * p) const noexcept { sk_X509_pop_free(p, X509_free); }
    void operator()(SSL_CTX* p) const noexcept { SSL_CTX_free(p); }
    void operator()(SSL* p) const noexcept { SSL_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
};

using x509_ptr = std::unique_ptr<X509, openssl_deleter>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter>;
using x509_stack_ptr = std::unique_ptr<STACK_OF(X509), openssl_deleter>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, openssl_deleter>;
using ssl_ptr = std::unique_ptr<SSL, openssl_deleter>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter>;

} // namespace bws::tls
