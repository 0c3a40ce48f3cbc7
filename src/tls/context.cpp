// Building a site's SSL_CTX with the secure defaults, and SNI selection in the ClientHello
// callback (where nginx moved it, so protocol settings and resumption follow the chosen site).
#include "tls/context.hpp"

#include "sys/saved_root.hpp"
#include "tls/error.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/tls1.h>

#include <algorithm>
#include <cctype>

namespace bws::tls {

namespace {

using severity = diagnostic::severity;
using source = diagnostic::source;

struct ssl_indices {
    int table = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    int site = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    int hello_seen = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
};
const ssl_indices& indices() {
    static const ssl_indices instance;
    return instance;
}

// Stored as the selected site when the server name was refused.
const table_site refused_marker{};
// Stored under hello_seen once the first ClientHello chose a site.
const char hello_seen_marker = 0;

constexpr unsigned char alpn_protocols[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int on_alpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* in,
            unsigned int in_size, void*) {
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, out_size, alpn_protocols, sizeof alpn_protocols, in,
                              in_size) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL; // RFC 7301: no_application_protocol
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

// The first host_name entry of the server_name extension (RFC 6066 §3), lower-cased, without
// a trailing dot; false when the client sent none or it is malformed.
bool read_server_name(SSL* ssl, std::string& name) {
    const unsigned char* p = nullptr;
    std::size_t size = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &size) != 1 || size < 2)
        return false;
    std::size_t list = (std::size_t{p[0]} << 8) | p[1];
    p += 2;
    size -= 2;
    if (list != size)
        return false;
    while (size >= 3) {
        const unsigned type = p[0];
        const std::size_t length = (std::size_t{p[1]} << 8) | p[2];
        p += 3;
        size -= 3;
        if (length > size)
            return false;
        if (type == TLSEXT_NAMETYPE_host_name && length > 0) {
            name.assign(reinterpret_cast<const char*>(p), length);
            if (name.back() == '.')
                name.pop_back();
            std::ranges::transform(name, name.begin(), [](unsigned char c) {
                return static_cast<char>(std::tolower(c));
            });
            return !name.empty();
        }
        p += length;
        size -= length;
    }
    return false;
}

int on_client_hello(SSL* ssl, int* alert, void*) {
    const auto* table = static_cast<const context_table*>(SSL_get_ex_data(ssl, indices().table));
    if (table == nullptr)
        return SSL_CLIENT_HELLO_SUCCESS;
    std::string name;
    const bool has_name = read_server_name(ssl, name);
    const table_site* site = has_name ? table->find(name) : nullptr;
    const bool refuse = site == nullptr && has_name && table->refuses_unknown_sni();
    if (site == nullptr && !refuse)
        site = &table->default_site();
    // A second ClientHello (after a HelloRetryRequest) must name the same site: RFC 8446
    // §4.1.2 allows no change of server_name, and TLS 1.3 was negotiated under the first site's
    // settings, so moving now would give e.g. a TLS 1.2-only site a TLS 1.3 connection (found
    // by the tls_client_hello fuzz target).
    if (SSL_get_ex_data(ssl, indices().hello_seen) != nullptr) {
        if (refuse || site != SSL_get_ex_data(ssl, indices().site)) {
            *alert = SSL_AD_ILLEGAL_PARAMETER;
            return SSL_CLIENT_HELLO_ERROR;
        }
        return SSL_CLIENT_HELLO_SUCCESS;
    }
    SSL_set_ex_data(ssl, indices().hello_seen, const_cast<char*>(&hello_seen_marker));
    if (refuse) {
        SSL_set_ex_data(ssl, indices().site, const_cast<table_site*>(&refused_marker));
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_CLIENT_HELLO_ERROR;
    }
    site->context->adopt(ssl);
    SSL_set_ex_data(ssl, indices().site, const_cast<table_site*>(site));
    return SSL_CLIENT_HELLO_SUCCESS;
}

void add_error(std::vector<diagnostic>& out, source file, std::string message) {
    std::string reason = last_openssl_error();
    ERR_clear_error();
    if (!reason.empty())
        message += " (" + reason + ")";
    out.push_back({severity::error, file, std::move(message)});
}

bool configure_protocol(SSL_CTX* ctx, const settings& config, std::vector<diagnostic>& out) {
    auto number = [](tls_version v) {
        return v == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    };
    SSL_CTX_set_min_proto_version(ctx, number(config.min_version));
    SSL_CTX_set_max_proto_version(ctx, number(config.max_version.value_or(tls_version::tls1_3)));
    // SSL_OP_NO_RENEGOTIATION also refuses client-initiated renegotiation (TLS 1.2).
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    // Read whole socket buffers, not a 5-byte record header and then the record: one recv
    // per request instead of two. tls::stream always reads before it waits, so bytes
    // OpenSSL holds are never left waiting for the socket.
    SSL_CTX_set_read_ahead(ctx, 1);
    if (config.session_tickets)
        SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
    else
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    // Stateless resumption only: a per-process session cache would not be shared by workers.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    bool ok = true;
    if (SSL_CTX_set_cipher_list(ctx, config.tls12_ciphers.c_str()) != 1) {
        add_error(out, source::tls12_ciphers, "invalid TLS 1.2 cipher list");
        ok = false;
    }
    if (SSL_CTX_set_ciphersuites(ctx, config.tls13_ciphersuites.c_str()) != 1) {
        add_error(out, source::tls13_ciphersuites, "invalid TLS 1.3 ciphersuites");
        ok = false;
    }
    if (SSL_CTX_set1_groups_list(ctx, config.groups.c_str()) != 1) {
        add_error(out, source::groups, "invalid group list");
        ok = false;
    }
    return ok;
}

bool configure_certificates(SSL_CTX* ctx, std::span<const certificate> certificates,
                            std::vector<diagnostic>& out) {
    if (certificates.empty()) {
        out.push_back({severity::error, source::cert_file, "a TLS site needs a certificate"});
        return false;
    }
    // Each key type has its own slot in the context; set1_chain applies to the slot just
    // filled, so RSA and ECDSA each keep their own intermediates.
    for (const certificate& cert : certificates) {
        if (SSL_CTX_use_certificate(ctx, cert.leaf()) != 1 ||
            SSL_CTX_use_PrivateKey(ctx, cert.key()) != 1 ||
            SSL_CTX_set1_chain(ctx, cert.chain()) != 1) {
            add_error(out, source::cert_file,
                      cert.files().cert_file.string() + ": cannot use the certificate");
            return false;
        }
    }
    return true;
}

bool configure_client_verify(SSL_CTX* ctx, const settings& config, std::vector<diagnostic>& out) {
    if (config.client_verify == client_cert_mode::none)
        return true;
    const char* ca = config.client_ca_file.c_str();
    STACK_OF(X509_NAME)* names = nullptr;
    bool loaded = false;
    {
        sys::root_scope as_root; // as for certificates (certificate.cpp)
        names = SSL_load_client_CA_file(ca);
        loaded = names != nullptr && SSL_CTX_load_verify_locations(ctx, ca, nullptr) == 1;
    }
    if (!loaded) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        add_error(out, source::client_ca_file,
                  config.client_ca_file.string() + ": cannot load the client CA certificates");
        return false;
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    int mode = SSL_VERIFY_PEER;
    if (config.client_verify == client_cert_mode::required)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
    SSL_CTX_set_verify_depth(ctx, config.client_verify_depth);
    return true;
}

} // namespace

std::shared_ptr<const site_context> site_context::build(const settings& config,
                                                        std::span<const certificate> certificates,
                                                        const ticket_keys* keys,
                                                        std::string_view session_id,
                                                        std::vector<diagnostic>& out) {
    ERR_clear_error();
    indices(); // allocate the ex_data indices in the master, before fork
    auto site = std::make_shared<site_context>();
    site->config_ = config;
    site->ctx_.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX* ctx = site->ctx_.get();
    if (ctx == nullptr) {
        add_error(out, source::cert_file, "cannot create a TLS context");
        return nullptr;
    }
    const bool ok = configure_protocol(ctx, config, out) &&
                    configure_certificates(ctx, certificates, out) &&
                    configure_client_verify(ctx, config, out);
    if (!ok)
        return nullptr;
    // The session id context must be stable across reloads and workers for resumption, and
    // differ between sites so a ticket of one site never resumes on another.
    unsigned char sid[EVP_MAX_MD_SIZE];
    unsigned int sid_size = 0;
    EVP_Digest(session_id.data(), session_id.size(), sid, &sid_size, EVP_sha256(), nullptr);
    SSL_CTX_set_session_id_context(ctx, sid, std::min(sid_size, 32u));
    SSL_CTX_set_alpn_select_cb(ctx, on_alpn, nullptr);
    SSL_CTX_set_client_hello_cb(ctx, on_client_hello, nullptr);
    if (keys != nullptr)
        keys->attach(ctx);
    return site;
}

void site_context::adopt(SSL* ssl) const {
    SSL_CTX* ctx = ctx_.get();
    // An SSL made from this very context (the port's default site, or a second ClientHello
    // after a HelloRetryRequest) has its settings already: copying them again costs a cipher
    // list parse per handshake.
    if (SSL_get_SSL_CTX(ssl) == ctx)
        return;
    SSL_set_SSL_CTX(ssl, ctx);
    SSL_clear_options(ssl, SSL_get_options(ssl));
    SSL_set_options(ssl, SSL_CTX_get_options(ctx));
    SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(ctx));
    SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(ctx));
    SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx), SSL_CTX_get_verify_callback(ctx));
    SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(ctx));
    SSL_set_client_CA_list(ssl, nullptr); // null: fall back to the new context's list
    SSL_set_cipher_list(ssl, config_.tls12_ciphers.c_str());
    SSL_set_ciphersuites(ssl, config_.tls13_ciphersuites.c_str());
    SSL_set1_groups_list(ssl, config_.groups.c_str());
}

context_table::context_table(std::vector<table_site> sites, std::size_t default_site,
                             bool refuse_unknown_sni)
    : sites_(std::move(sites)), default_(default_site), refuse_unknown_(refuse_unknown_sni) {
    for (std::size_t i = 0; i < sites_.size(); ++i)
        for (const std::string& name : sites_[i].server_names) {
            if (name.starts_with("*."))
                wildcard_.emplace(name.substr(2), i);
            else
                exact_.emplace(name, i);
        }
}

ssl_ptr context_table::new_ssl() const {
    ssl_ptr ssl(SSL_new(default_site().context->native()));
    if (ssl) {
        SSL_set_ex_data(ssl.get(), indices().table, const_cast<context_table*>(this));
        SSL_set_ex_data(ssl.get(), indices().site, const_cast<table_site*>(&default_site()));
    }
    return ssl;
}

const table_site* context_table::find(std::string_view server_name) const {
    if (auto it = exact_.find(std::string(server_name)); it != exact_.end())
        return &sites_[it->second];
    const auto dot = server_name.find('.');
    if (dot == std::string_view::npos || dot == 0)
        return nullptr;
    if (auto it = wildcard_.find(std::string(server_name.substr(dot + 1))); it != wildcard_.end())
        return &sites_[it->second];
    return nullptr;
}

const table_site* selected_site(const SSL* ssl) {
    const auto* site = static_cast<const table_site*>(SSL_get_ex_data(ssl, indices().site));
    return site == &refused_marker ? nullptr : site;
}

bool sni_refused(const SSL* ssl) {
    return SSL_get_ex_data(ssl, indices().site) == &refused_marker;
}

} // namespace bws::tls
