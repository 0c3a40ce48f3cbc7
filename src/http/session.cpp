// Connection state machine: (handshaking ->) idle -> reading -> writing -> (idle | lingering)
// -> closed. Reads go through the stream's async_read_some; the write path is in
// session_write.cpp. Writes are tried at once, without waiting, so on plain TCP a small
// response costs one sendmsg with no extra allocation or handler hop.
#include "http/session.hpp"

#include "files/static_handler.hpp"
#include "http/failure_funnel.hpp"
#include "http/https_redirect.hpp"
#include "http/proxy_call.hpp"
#include "http/request_log.hpp"
#include "http/response_head.hpp"
#include "http/server.hpp"
#include "tls/context.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>
#include <spdlog/spdlog.h>

namespace bws::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::size_t read_chunk = 16 * 1024;
constexpr auto linger_time = std::chrono::seconds(2);
constexpr int max_sync_depth = 16;
// A plain keep-alive connection idle this long gives up its read buffer until its next
// request arrives (a busy one keeps it: its next request is usually there within a
// round trip, and re-allocating per request would cost).
constexpr auto park_after = std::chrono::seconds(1);

} // namespace

session_base::session_base(server& owner) : server_(owner) {
    registry_position_ = server_.register_session(this);
}

session_base::~session_base() {
    server_.unregister_session(registry_position_);
}

template <class Stream>
session<Stream>::session(server& owner, Stream stream, std::size_t listener)
    : session_base(owner), stream_(std::move(stream)), listener_(listener),
      site_(owner.default_site(listener)) {}

template <class Stream>
session<Stream>::~session() = default;

template <class Stream>
void session<Stream>::start() {
    boost::system::error_code ec;
    stream_.start(ec);
    client_address_ = stream_.peer_address();
    // Accept to the end of the handshake (TLS) or to the first byte (plain) is bounded by the
    // header timeout, so a stalled or garbage handshake costs no more than a slow request.
    deadline_ = clock::now() + server_.limits().header_timeout;
    if constexpr (handshaking_stream<Stream>) {
        phase_ = phase::handshaking;
        stream_.async_handshake(
            [self = self()](handshake_result result, const boost::system::error_code& e) {
                self->on_handshake(result, e);
            });
        return;
    }
    do_read();
}

template <class Stream>
void session<Stream>::fail(failure_kind kind, const boost::system::error_code& ec) {
    server_.failures().report(kind, ec, server_.site(site_).config->name, client_address_);
    close_now();
}

template <class Stream>
void session<Stream>::do_read() {
    if (phase_ == phase::closed || read_pending_)
        return;
    if constexpr (handshaking_stream<Stream>) {
        if (phase_ == phase::idle && buffer_.size() == 0 && !stream_.is_plain()) {
            // An idle TLS connection waits without its 16 KiB read buffer, the last response
            // head or the TLS write buffer: with OpenSSL's own buffers released too, that
            // halves its memory. They are released only when it really waits: a busy
            // keep-alive connection whose next request is already there keeps them. A plain
            // connection keeps the buffer: the extra wait would cost a reactor round per
            // keep-alive request on the fast path.
            const auto state = stream_.poll_idle();
            if (state == Stream::idle_state::ready) {
                read_now();
                return;
            }
            buffer_.shrink_to_fit();
            std::string().swap(out_head_);
            stream_.release_idle_buffers();
            read_pending_ = true;
            stream_.async_wait_idle(state, [self = self()](const boost::system::error_code& ec) {
                self->read_pending_ = false;
                if (self->phase_ == phase::closed)
                    return;
                if (ec) {
                    self->fail(failure_kind::peer_read, ec);
                    return;
                }
                self->read_now();
            });
            return;
        }
    }
    read_now();
}

template <class Stream>
void session<Stream>::read_now() {
    read_pending_ = true;
    stream_.async_read_some(
        buffer_.prepare(read_chunk),
        [self = self()](boost::system::error_code ec, std::size_t n) { self->on_read(ec, n); });
}

template <class Stream>
void session<Stream>::park() {
    park_at_ = clock::time_point::max();
    if constexpr (!handshaking_stream<Stream>) {
        // Only a connection waiting for its next request with nothing buffered, and only
        // once per wait (a parked one has no buffer left).
        if (phase_ != phase::idle || !read_pending_ || parking_ || buffer_.size() > 0 ||
            buffer_.capacity() == 0)
            return;
        boost::system::error_code ec;
        parking_ = true;
        stream_.cancel(ec); // the read's handler continues in wait_parked()
        if (ec)
            parking_ = false;
    }
}

template <class Stream>
void session<Stream>::wait_parked() {
    if constexpr (!handshaking_stream<Stream>) {
        buffer_.shrink_to_fit(); // empty: frees it
        std::string().swap(out_head_);
        // Bytes that came between the cancel and now would not wake the edge-triggered
        // reactor again: look first, and wait only after an EAGAIN.
        if (stream_.readable_now()) {
            read_now();
            return;
        }
        read_pending_ = true;
        stream_.async_wait_readable([self = self()](const boost::system::error_code& ec) {
            self->read_pending_ = false;
            if (self->phase_ == phase::closed)
                return;
            if (ec) {
                self->fail(failure_kind::peer_read, ec);
                return;
            }
            self->read_now();
        });
    }
}

template <class Stream>
void session<Stream>::on_read(boost::system::error_code ec, std::size_t bytes) {
    read_pending_ = false;
    if (phase_ == phase::closed)
        return;
    if (phase_ == phase::writing || phase_ == phase::lingering) {
        // A read cancelled to answer 408; the connection closes after that answer.
        return;
    }
    park_at_ = clock::time_point::max();
    if (parking_) {
        parking_ = false;
        if (ec == asio::error::operation_aborted && phase_ == phase::idle) {
            wait_parked();
            return;
        }
        // The read had completed before park() could cancel it: carry on as usual.
    }
    if (ec) {
        // EOF or reset from the peer, a timeout closed the stream (all benign), or a real
        // read error: nothing to answer.
        fail(failure_kind::peer_read, ec);
        return;
    }
    buffer_.commit(bytes);
    bytes_read_ += bytes;
    if (phase_ == phase::idle) {
        // The first byte of a request starts the header timeout (idle keep-alive
        // connections are bounded by keepalive_timeout instead).
        phase_ = phase::reading;
        deadline_ = clock::now() + server_.limits().header_timeout;
    }
    parse();
}

template <class Stream>
void session<Stream>::parse() {
    if (!parser_) {
        parser_.emplace(server_.limits(), server_.keep_fields());
        request_time_ = std::chrono::system_clock::now();
        request_start_ = clock::now();
    }
    while (buffer_.size() > 0) {
        boost::system::error_code ec;
        const bool had_head = parser_->is_header_done();
        auto used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec == bhttp::error::need_more || (!ec && used == 0 && !parser_->is_done()))
            break; // wait for more bytes
        if (ec) {
            auto data = buffer_.data();
            std::string_view buffered(static_cast<const char*>(data.data()), data.size());
            respond_error(parser_->status_for(ec, buffered));
            return;
        }
        if (parser_->is_header_done() && !parser_->is_done()) {
            // A body follows. Only the proxy takes one; for the other handlers only GET/HEAD
            // bodies are read (and discarded, within max_body_size), and anything else is
            // answered right away and the connection closed instead of reading the body.
            auto method = parser_->head().method;
            if (method != bhttp::verb::get && method != bhttp::verb::head) {
                handle_request();
                return;
            }
            if (!had_head) {
                // The header timeout ends with the headers; the whole body then has
                // body_timeout (a total, not a per-read idle time, so a body sent a few bytes
                // at a time cannot hold the connection for ever).
                deadline_ = clock::now() + server_.limits().body_timeout;
            }
            continue;
        }
        if (parser_->is_done()) {
            handle_request();
            return;
        }
    }
    if (phase_ == phase::idle && (buffer_.size() > 0 || parser_->got_some())) {
        phase_ = phase::reading;
        deadline_ = clock::now() + server_.limits().header_timeout;
    }
    do_read();
}

template <class Stream>
void session<Stream>::handle_request() {
    auto& head = parser_->head();
    ++requests_;
    phase_ = phase::writing;

    auto decision = route(server_.vhosts(listener_), server_.config().server.health_path, head,
                          server_.routes());
    if (!check_tls_site(decision))
        return;
    site_ = decision.site;
    if (decision.close)
        return respond_error(decision.status);

    if (head.version >= 11)
        keep_alive_ = keep_alive_ && !head.connection_close;
    else
        keep_alive_ = keep_alive_ && head.connection_keep_alive;
    if (requests_ >= server_.limits().max_keepalive_requests || server_.draining())
        keep_alive_ = false;

    // The client behind trusted proxies first: both checks count and match that address. The
    // rate limit before the access rules, so that guessing passwords is limited too.
    resolve_forwarded_client(head);
    if (over_rate_limit(decision))
        return;
    if (!check_access(decision, head))
        return;
    if (redirect_to_https(decision, head))
        return;
    if (answer_cors_preflight(head))
        return;
    if (decision.kind == route_kind::proxy)
        return start_proxy(decision);
    if (!parser_->is_done())
        keep_alive_ = false; // a body nothing reads: answered, then the connection closes

    switch (decision.kind) {
    case route_kind::error: {
        response r;
        r.status = decision.status;
        r.use_error_page = true;
        if (decision.allow_header)
            r.set_header("Allow", "GET, HEAD");
        return respond(std::move(r), site_, decision.head);
    }
    case route_kind::health:
    case route_kind::health_detailed:
        return respond(server_.health_response(decision.kind == route_kind::health_detailed), site_,
                       decision.head);
    case route_kind::metrics: {
        if (metrics_allowed())
            return respond(server_.metrics_response(head.accept), site_, decision.head);
        response r; // as [sites.access] refuses an address
        r.status = 403;
        r.use_error_page = true;
        return respond(std::move(r), site_, decision.head);
    }
    case route_kind::static_files:
    case route_kind::proxy:
        break;
    }
    files::request_info info;
    info.head = decision.head;
    info.raw_path = decision.path;
    info.query = decision.query;
    info.if_none_match = head.if_none_match;
    info.if_modified_since = head.if_modified_since;
    info.if_match = head.if_match;
    info.if_unmodified_since = head.if_unmodified_since;
    info.range = head.range;
    info.if_range = head.if_range;
    info.accept = head.accept;
    if (head.accept_encoding)
        info.accept_encoding = *head.accept_encoding;
    info.no_transform = head.no_transform;
    info.chunked_ok = head.version >= 11;
    respond(server_.site(site_).files->handle(info), site_, decision.head);
}

template <class Stream>
void session<Stream>::respond_error(unsigned status) {
    // Framing is in doubt after a malformed request: answer and close.
    keep_alive_ = false;
    phase_ = phase::writing;
    response r;
    r.status = status;
    r.use_error_page = true;
    bool head = parser_ && parser_->is_header_done() && parser_->head().method == bhttp::verb::head;
    if (!parser_ || !parser_->is_header_done())
        site_ = server_.default_site(listener_);
    respond(std::move(r), site_, head);
}

template <class Stream>
void session<Stream>::respond(response&& r, std::size_t site_index, bool head) {
    auto& site = server_.site(site_index);
    ++site.requests;
    status_ = r.status;
    apply_error_page(r, site.error_pages);
    if (site.cors)
        add_cors_headers(r, site_index);
    head_context context;
    context.date_line = server_.date_header();
    context.server_line = server_.server_header();
    if (!bare_head_) {
        context.site_block = site.header_block;
        context.site_names = &site.header_names;
    }
    context.keep_alive = keep_alive_;
    body_bytes_ = serialize_head(out_head_, r, context, head);
    // A piece compressed as it is sent has no size yet: its bytes are counted as they go.
    const bool encoded = !r.body.empty() && r.body.front().encoder;
    if (body_bytes_ == 0 && (head || !encoded))
        r.body.clear();
    out_body_ = std::move(r.body);
    out_head_sent_ = 0;
    piece_ = 0;
    piece_sent_ = 0;
    do_write();
}

template <class Stream>
void session<Stream>::on_written() {
    if (call_ && call_->client_write) {
        on_proxy_written();
        return;
    }
    log_request();
    call_.reset();
    out_body_.clear();
    if (!chunk_.empty() || chunk_.capacity() > 0) {
        // Idle connections keep no file buffer.
        chunk_ = {};
        chunk_sent_ = 0;
    }
    parser_.reset();
    if (!keep_alive_) {
        linger();
        return;
    }
    phase_ = phase::idle;
    const auto now = clock::now();
    deadline_ = now + server_.limits().keepalive_timeout;
    if constexpr (!handshaking_stream<Stream>)
        park_at_ = now + park_after; // a TLS session releases its buffers in do_read
    if (server_.closing_idle() && buffer_.size() == 0) {
        // Stopping: an idle connection is not kept for a next request.
        close_now();
        return;
    }
    if (buffer_.size() > 0) {
        // Pipelined requests are already buffered: answer them in order.
        if (++sync_depth_ > max_sync_depth) {
            sync_depth_ = 0;
            asio::post(stream_.get_executor(), [self = self()] { self->parse(); });
            return;
        }
        parse();
        --sync_depth_;
        return;
    }
    sync_depth_ = 0;
    do_read();
}

template <class Stream>
void session<Stream>::linger() {
    // Half-close and drain what the client still sends, so a request already in flight
    // does not turn our close into a connection reset that destroys the response.
    phase_ = phase::lingering;
    deadline_ = clock::now() + linger_time;
    boost::system::error_code ec;
    stream_.shutdown_send(ec);
    if (ec) {
        close_now();
        return;
    }
    linger_read();
}

template <class Stream>
void session<Stream>::linger_read() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(read_chunk),
                            [self = self()](boost::system::error_code e, std::size_t) {
                                if (e || self->phase_ == phase::closed) {
                                    self->close_now();
                                    return;
                                }
                                self->linger_read();
                            });
}

template <class Stream>
void session<Stream>::close_now() {
    if (phase_ == phase::closed)
        return;
    phase_ = phase::closed;
    boost::system::error_code ec;
    stream_.close(ec);
    if (call_)
        proxy_release(false);
}

template <class Stream>
void session<Stream>::on_deadline() {
    switch (phase_) {
    case phase::handshaking:
    case phase::idle:
    case phase::lingering:
    case phase::writing:
        close_now();
        break;
    case phase::proxying:
        on_proxy_deadline();
        break;
    case phase::tunnel:
        tunnel_end(); // idle for tunnel_idle
        break;
    case phase::reading: {
        // Headers (or a body) did not arrive in time: stop reading, answer 408, close.
        boost::system::error_code ec;
        stream_.cancel(ec);
        respond_error(408);
        break;
    }
    case phase::closed:
        break;
    }
}

template <class Stream>
void session<Stream>::on_drain(bool close_idle) {
    // A reload keeps idle keep-alive connections: their next request is answered, with
    // Connection: close, so a client never meets a close it could race with. A stop closes them.
    if (close_idle &&
        (phase_ == phase::handshaking || (phase_ == phase::idle && buffer_.size() == 0)))
        close_now();
}

template class session<plain_stream>;
template class session<tls_stream>;

} // namespace bws::http
