// The SSL_CTX of one site (built from its settings and loaded certificates) and the table of
// one TLS listening port, which picks the site by SNI in the ClientHello callback.
#pragma once

#include "tls/certificate.hpp"
#include "tls/openssl_ptr.hpp"
#include "tls/settings.hpp"
#include "tls/ticket_keys.hpp"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bws::tls {

class site_context {
public:
    // Builds the context in the master (the client CA file is read here). `session_id` names
    // the site stably across reloads (its name): sessions resume only on the site that
    // issued them. `keys` may be null (no tickets); it must outlive the context. Returns
    // nullptr with errors in `out` on a bad cipher list, group list or CA file.
    static std::shared_ptr<const site_context>
    build(const settings& config, std::span<const certificate> certificates,
          const ticket_keys* keys, std::string_view session_id, std::vector<diagnostic>& out);

    SSL_CTX* native() const noexcept { return ctx_.get(); }
    const settings& config() const noexcept { return config_; }

    // Moves `ssl` (still in its ClientHello) onto this context, copying what SSL_set_SSL_CTX
    // leaves behind: options, protocol range, verification, CA names, ciphers, groups.
    void adopt(SSL* ssl) const;

private:
    ssl_ctx_ptr ctx_;
    settings config_;
};

// One site as the port's table sees it.
struct table_site {
    std::size_t site_id;                   // the caller's id, e.g. the site's index in config
    std::vector<std::string> server_names; // exact names and "*.example.com" wildcards
    std::shared_ptr<const site_context> context;
};

class context_table {
public:
    // `default_site` indexes `sites`: it serves clients without SNI, and unknown SNI unless
    // `refuse_unknown_sni`. Sites must have at least one entry.
    context_table(std::vector<table_site> sites, std::size_t default_site, bool refuse_unknown_sni);
    context_table(const context_table&) = delete;
    context_table& operator=(const context_table&) = delete;

    // A server-side SSL for a new connection; the table must outlive it.
    ssl_ptr new_ssl() const;

    // The site for a server name (lower-case, no trailing dot); null when none matches.
    const table_site* find(std::string_view server_name) const;
    const table_site& default_site() const noexcept { return sites_[default_]; }
    bool refuses_unknown_sni() const noexcept { return refuse_unknown_; }

private:
    std::vector<table_site> sites_;
    std::unordered_map<std::string, std::size_t> exact_;
    std::unordered_map<std::string, std::size_t> wildcard_; // key: "example.com" of "*.example.com"
    std::size_t default_;
    bool refuse_unknown_;
};

// The site chosen for `ssl` by SNI (the default before the ClientHello is read); null when
// the SSL did not come from a context_table or its server name was refused. The HTTP layer
// answers 421 when the request's Host belongs to another site.
const table_site* selected_site(const SSL* ssl);
bool sni_refused(const SSL* ssl);

} // namespace bws::tls
