// The request rate limit in the session: which limit applies to the request's site, whether
// the client is whitelisted, and the 429 with Retry-After when the shared table
// (net/rate_limit.hpp) says the client is over it.
#include "http/failure_funnel.hpp"
#include "http/server.hpp"
#include "http/session.hpp"
#include "metrics/shared_metrics.hpp"
#include "net/conn_limit.hpp"
#include "net/rate_limit.hpp"

#include <boost/system/errc.hpp>

#include <string>

namespace bws::http {

namespace {

// The limit of `site`: its own [sites.rate_limit], else [security.rate_limiting]; null when
// neither applies or the site's says enabled = false.
const config::rate_limit* limit_of(const config::snapshot& config, const config::site& site) {
    const auto& own = site.rate_limit;
    const auto& server_wide = config.security.rate_limiting;
    const config::rate_limit* limit = own ? &*own : (server_wide ? &*server_wide : nullptr);
    return limit != nullptr && limit->enabled ? limit : nullptr;
}

// A site's own table without a whitelist keeps the server's.
const net::address_set& whitelist_of(const config::snapshot& config,
                                     const config::rate_limit& limit) {
    const auto& server_wide = config.security.rate_limiting;
    if (!limit.whitelist_given && server_wide && &limit != &*server_wide)
        return server_wide->whitelist;
    return limit.whitelist;
}

} // namespace

template <class Stream>
const std::string& session<Stream>::rate_limit_client() const {
    // Behind trusted proxies, the client they name ([security] trusted_proxies).
    return forwarded_client_.empty() ? client_address_ : forwarded_client_;
}

template <class Stream>
bool session<Stream>::over_rate_limit(const route_decision& decision) {
    // Health probes come from load balancers, which must see the server as it is.
    if (decision.kind == route_kind::health || decision.kind == route_kind::health_detailed)
        return false;
    const auto& config = server_.config();
    const auto& site = *server_.site(site_).config;
    const auto* limit = limit_of(config, site);
    auto* table = net::rate_limit_table::shared();
    if (limit == nullptr || table == nullptr)
        return false;
    const std::string& client = rate_limit_client();
    const auto address = net::ip_address::parse(client);
    if (!address)
        return false; // no IP peer (the address could not be had): nothing to count by
    if (whitelist_of(config, *limit).contains(*address))
        return false;
    const auto rule = net::rate_limit_rule::make(limit->requests_per_minute, limit->burst_size);
    const auto verdict = table->admit(limit->bucket, net::client_key(*address), rule, table->now());
    switch (verdict.verdict) {
    case net::rate_verdict::admitted:
        return false;
    case net::rate_verdict::untracked:
        // Refusing everyone new because the table is full would turn a flood of addresses
        // into an outage: serve uncounted, and say so (rate-limited by the funnel).
        server_.failures().report(
            failure_kind::rate_limit_full,
            boost::system::errc::make_error_code(boost::system::errc::no_buffer_space), site.name,
            client, "serving without a rate limit count");
        return false;
    case net::rate_verdict::limited:
        break;
    }
    metrics::count_rate_limited(server_.site(site_).metrics_site);
    if (!parser_->is_done())
        keep_alive_ = false; // a body nothing reads: answered, then the connection closes
    response r;
    r.status = 429;
    r.use_error_page = true;
    r.set_header("Retry-After", std::to_string(verdict.retry_after_seconds()));
    respond(std::move(r), site_, decision.head);
    return true;
}

#define BWS_SESSION_RATE_LIMIT(Stream)                                                             \
    template const std::string& session<Stream>::rate_limit_client() const;                        \
    template bool session<Stream>::over_rate_limit(const route_decision&);
BWS_SESSION_RATE_LIMIT(plain_stream)
BWS_SESSION_RATE_LIMIT(tls_stream)
#undef BWS_SESSION_RATE_LIMIT

} // namespace bws::http
