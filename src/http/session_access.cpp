// [sites.access] on the session: the client address behind trusted proxies, IP allow/deny
// rules (403) and basic auth (401), checked before anything else is done for a request; and
// the allow_ips of [sites.metrics].
#include "http/access_policy.hpp"
#include "http/auth_cache.hpp"
#include "http/client_address.hpp"
#include "http/server.hpp"
#include "http/session.hpp"

namespace bws::http {

template <class Stream>
void session<Stream>::resolve_forwarded_client(const request_head& head) {
    const auto& trusted = server_.config().security.trusted_proxies;
    if (trusted.empty())
        return; // nothing configured: no parsing, no lookups
    const auto peer = net::ip_address::parse(client_address_);
    if (!peer)
        return; // not an IP connection (the peer went away)
    const auto client = resolve_client_address(*peer, head.x_forwarded_for, trusted);
    if (client != *peer)
        forwarded_client_ = client.to_string(); // what the access log and the limits use
}

template <class Stream>
bool session<Stream>::check_access(const route_decision& decision, const request_head& head) {
    // The server's own endpoint answers load balancers and monitors, whatever a site allows.
    if (decision.kind == route_kind::health || decision.kind == route_kind::health_detailed)
        return true;
    const auto& access = server_.site(site_).config->access;
    if (!access)
        return true;
    const auto client =
        net::ip_address::parse(forwarded_client_.empty() ? client_address_ : forwarded_client_);
    if (!client)
        return true; // not an IP connection (the peer went away): nothing to match
    response r;
    r.use_error_page = true;
    if (!address_allowed(*access, *client)) {
        r.status = 403;
    } else if (auth_required(*access, decision.path)) {
        if (check_basic_auth(*access, head.authorization, remote_user_))
            return true;
        r.status = 401;
        r.set_header("WWW-Authenticate", basic_challenge(access->realm));
    } else {
        return true;
    }
    if (!parser_->is_done())
        keep_alive_ = false; // a body nothing reads: answered, then the connection closes
    respond(std::move(r), site_, decision.head);
    return false;
}

template <class Stream>
bool session<Stream>::metrics_allowed() const {
    const auto& metrics = server_.site(site_).config->metrics;
    if (!metrics)
        return false; // the router sends no request here then
    // Unlike [sites.access], an address that does not parse is refused: the figures are the
    // whole server's, and the default admits loopback only.
    const auto client =
        net::ip_address::parse(forwarded_client_.empty() ? client_address_ : forwarded_client_);
    return client && metrics->allow.contains(*client);
}

#define BWS_SESSION_ACCESS(Stream)                                                                 \
    template void session<Stream>::resolve_forwarded_client(const request_head&);                  \
    template bool session<Stream>::check_access(const route_decision&, const request_head&);       \
    template bool session<Stream>::metrics_allowed() const;
BWS_SESSION_ACCESS(plain_stream)
BWS_SESSION_ACCESS(tls_stream)
#undef BWS_SESSION_ACCESS

} // namespace bws::http
