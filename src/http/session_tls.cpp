// What a session does because of TLS: the end of the handshake (the site SNI chose, a plain
// HTTP request on the TLS port, a failed handshake), the check that a request's Host belongs
// to that site (421), and redirect_to_https on the plain side. See session.cpp.
#include "http/failure_funnel.hpp"
#include "http/https_redirect.hpp"
#include "http/server.hpp"
#include "http/session.hpp"
#include "metrics/shared_metrics.hpp"
#include "tls/context.hpp"

#include <spdlog/spdlog.h>

namespace bws::http {

namespace {} // namespace

template <class Stream>
void session<Stream>::on_handshake(handshake_result result, const boost::system::error_code& ec) {
    if constexpr (handshaking_stream<Stream>) {
        if (phase_ == phase::closed)
            return;
        switch (result) {
        case handshake_result::done:
            if (const auto* chosen = stream_.info().site) {
                tls_site_ = chosen->site_id;
                site_ = chosen->site_id;
            }
            metrics::count_handshake(server_.site(site_).metrics_site, false);
            phase_ = phase::idle;
            deadline_ = clock::now() + server_.limits().header_timeout;
            do_read();
            return;
        case handshake_result::plain_http: {
            // Say so in plain text rather than leave the client with a TLS alert it cannot
            // read; the request itself is drained by the linger before the close.
            keep_alive_ = false;
            bare_head_ = true;
            phase_ = phase::writing;
            response r;
            r.status = 400;
            r.set_header("Content-Type", "text/plain; charset=utf-8");
            body_piece text;
            text.bytes = "This port speaks HTTPS: the request was sent as plain HTTP.\n";
            r.body.push_back(std::move(text));
            respond(std::move(r), site_, false);
            return;
        }
        case handshake_result::closed:
            spdlog::debug("{} TLS handshake: the peer went away ({})", client_address_,
                          ec.message());
            close_now();
            return;
        case handshake_result::failed: {
            const auto* chosen = tls::selected_site(stream_.native());
            const std::size_t site = chosen ? chosen->site_id : site_;
            ++server_.site(site).tls_handshake_failures;
            metrics::count_handshake(server_.site(site).metrics_site, true);
            server_.failures().report(failure_kind::tls_handshake, ec,
                                      server_.site(site).config->name, client_address_,
                                      stream_.failure_reason());
            close_now();
            return;
        }
        }
    } else {
        (void)result;
        (void)ec;
    }
}

template <class Stream>
bool session<Stream>::check_tls_site(route_decision& decision) {
    if constexpr (handshaking_stream<Stream>) {
        if (!tls_site_ || decision.site == *tls_site_ || decision.close)
            return true;
        if (!decision.host_matched) {
            // A Host no site names: the site whose certificate the client accepted answers,
            // not the port's default.
            decision.site = *tls_site_;
            return true;
        }
        if (server_.certificate_covers(*tls_site_, decision.host))
            return true; // one certificate for both names: the client may reuse it
        site_ = *tls_site_;
        response r;
        r.status = 421; // Misdirected Request: the client should connect again for that host
        r.use_error_page = true;
        respond(std::move(r), site_, decision.head);
        return false;
    } else {
        (void)decision;
        return true;
    }
}

template <class Stream>
bool session<Stream>::redirect_to_https(const route_decision& decision, const request_head& head) {
    if constexpr (handshaking_stream<Stream>) {
        (void)decision;
        (void)head;
        return false; // never on the HTTPS side
    } else {
        if (!server_.site(decision.site).config->redirect_to_https)
            return false;
        auto r = https_redirect(decision, head.method, server_.https_port(decision.host));
        if (!r)
            return false;
        respond(std::move(*r), decision.site, decision.head);
        return true;
    }
}

#define BWS_SESSION_TLS(Stream)                                                                    \
    template void session<Stream>::on_handshake(handshake_result,                                  \
                                                const boost::system::error_code&);                 \
    template bool session<Stream>::check_tls_site(route_decision&);                                \
    template bool session<Stream>::redirect_to_https(const route_decision&, const request_head&);
BWS_SESSION_TLS(plain_stream)
BWS_SESSION_TLS(tls_stream)
#undef BWS_SESSION_TLS

} // namespace bws::http
