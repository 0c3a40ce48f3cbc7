// One client connection over any stream: reads requests with limits, routes them, writes the
// responses, keeps the connection alive or closes it gracefully.
//
// Why a template over a stream type (Beast's advanced_server_flex idea without its CRTP base):
// the request/response logic is written once and the stream is a member, not a pointer, so the
// plain-TCP path keeps its direct system calls with no virtual call, extra allocation or
// handler hop, and a TLS stream is one more type plus one explicit instantiation. A `Stream`
// provides (see plain_stream.hpp for the reference implementation):
//   executor_type get_executor();
//   void start(error_code&);                      per-connection setup
//   std::string peer_address() const;             "-" when unknown
//   void async_read_some(mutable_buffer, void(error_code, size_t));
//   size_t write_some(const iovec*, int count, bool more, error_code&);   non-blocking,
//                                                  would_block when it cannot take anything
//   void async_wait_writable(void(error_code));   completes when write_some can progress
//   bool can_send_file() const;                   false: the session preads file slices
//   size_t send_file(int fd, uint64_t offset, size_t count, error_code&); (if it can)
//   bool flushed(error_code&);                    all that write_some took is on its way
//   void cancel(error_code&); void shutdown_send(error_code&); void close(error_code&);
// A stream with a handshake (TLS) also has `static constexpr bool has_handshake = true`,
// async_handshake(void(handshake_result, error_code)), info() and native() (tls_stream.hpp).
#pragma once

#include "http/plain_stream.hpp"
#include "http/read_buffer.hpp"
#include "http/request_parser.hpp"
#include "http/response.hpp"
#include "http/router.hpp"
#include "http/session_base.hpp"
#include "http/tls_stream.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bws::http {

enum class failure_kind;
struct proxy_call;

// A stream with a handshake (TLS; see above), for the session's `if constexpr` branches.
template <class Stream>
concept handshaking_stream = requires {
    Stream::has_handshake;
};

template <class Stream>
class session final : public session_base {
public:
    session(server& owner, Stream stream, std::size_t listener);
    ~session() override;

    void start();
    void on_deadline() override;
    void on_drain(bool close_idle) override;
    void close() override { close_now(); }
    void park() override;
    bool idle() const override { return phase_ == phase::idle; }
    bool tunneling() const override { return phase_ == phase::tunnel; }

private:
    // proxying: waiting for the upstream or for the request body a proxied request sends up.
    // tunnel: an upgraded (WebSocket) connection relaying bytes both ways.
    enum class phase { handshaking, idle, reading, writing, proxying, tunnel, lingering, closed };

    std::shared_ptr<session> self() {
        return std::static_pointer_cast<session>(shared_from_this());
    }
    void on_handshake(handshake_result result, const boost::system::error_code& ec);
    // TLS ports: the site the handshake chose must be the one the Host names (or its
    // certificate must cover that Host); returns false when the request got a 421.
    bool check_tls_site(route_decision& decision);
    // Plain sites with redirect_to_https: answers the redirect; false when not redirected.
    bool redirect_to_https(const route_decision& decision, const request_head& head);
    // Sites with [sites.access_control]: answers a CORS preflight (204) whatever the route;
    // false when the request is not one (session_cors.cpp).
    bool answer_cors_preflight(const request_head& head);
    // forwarded_client_ from X-Forwarded-For when the peer is a trusted proxy
    // (session_access.cpp).
    void resolve_forwarded_client(const request_head& head);
    // [sites.access] (session_access.cpp): false when it answered (403, 401).
    bool check_access(const route_decision& decision, const request_head& head);
    // Whether the client (behind trusted proxies, as for [sites.access]) is in the site's
    // [sites.metrics] allow_ips (session_access.cpp).
    bool metrics_allowed() const;
    // [security.rate_limiting] / [sites.rate_limit]: answers 429 with Retry-After when the
    // client is over the limit of the request's site; false when the request goes on
    // (session_rate_limit.cpp).
    bool over_rate_limit(const route_decision& decision);
    // The address the rate limit counts the request under (text, as client_address_).
    const std::string& rate_limit_client() const;
    // Adds the CORS headers of the request being answered to `r`, unless the response (from an
    // upstream) already has them.
    void add_cors_headers(response& r, std::size_t site_index);
    void do_read();
    void read_now();
    // Parked (see park()): waits for the next request without a read buffer.
    void wait_parked();
    void on_read(boost::system::error_code ec, std::size_t bytes);
    void parse();
    void handle_request();
    void respond(response&& r, std::size_t site_index, bool head);
    void respond_error(unsigned status);
    void do_write();
    // One gathered write of the head and in-memory pieces (and, on the buffered path, the
    // current file chunk). False when the write loop must stop (waiting or closed).
    bool write_gathered();
    // One sendfile of the current file piece; false when the loop must stop.
    bool write_file_zero_copy();
    // Reads the next slice of the current file piece into chunk_; false on failure (closed).
    bool fill_chunk();
    // The same for a piece with an encoder: reads and compresses until the coder emits
    // something, and frames it as an HTTP/1.1 chunk (with the last chunk once the file ends).
    bool fill_encoded_chunk();
    // Reports a failed file read (err 0: the file ended early) and closes.
    void fail_file_read(int err);
    // After a failed write: waits for writability (would_block) or reports and closes.
    void on_write_error(const boost::system::error_code& ec);
    void fail(failure_kind kind, const boost::system::error_code& ec);
    void wait_writable();
    void on_written();
    void linger();
    void linger_read();
    void close_now();

    // The reverse proxy (session_proxy.cpp): one upstream exchange per proxied request.
    void start_proxy(route_decision& decision);
    void proxy_connect();
    void proxy_connect_address();
    void proxy_handshake();
    void on_proxy_connected(const boost::system::error_code& ec);
    void proxy_send_head();
    void proxy_pump_body();
    void proxy_read_client();
    void proxy_send_body();
    void proxy_read_head();
    void proxy_on_head();
    void proxy_stream();
    void proxy_read_upstream(void (session::*next)());
    void on_upstream_read(const boost::system::error_code& ec, std::size_t n,
                          void (session::*next)());
    void proxy_write_client(bool last);
    void on_proxy_written();
    void proxy_finish();
    // Before the response head went out: answers `status` (502, 503, 504) or, for a request
    // that failed on a reused connection, tries once more on a fresh one. After it: closes.
    void proxy_fail(unsigned status, const boost::system::error_code& ec, std::string_view what);
    // Ends the upstream side: the connection goes back to the idle set when `reusable`.
    void proxy_release(bool reusable);
    void on_proxy_deadline();
    // After an upstream's 101: raw bytes both ways until either side closes or the tunnel
    // is idle for tunnel_idle.
    void tunnel_start();
    void tunnel_up();
    void tunnel_down();
    void tunnel_end();
    // The access log line of the current request.
    void log_request();

    Stream stream_;
    std::size_t listener_;
    read_buffer buffer_; // its storage comes from read_block_pool
    std::optional<request_parser> parser_;
    std::unique_ptr<proxy_call> call_; // a proxied request in progress
    phase phase_ = phase::idle;
    std::size_t requests_ = 0;
    bool keep_alive_ = true;
    bool read_pending_ = false;
    bool parking_ = false; // park() cancelled the idle read: its handler waits without a buffer
    int sync_depth_ = 0;   // guards recursion when pipelined requests complete synchronously
    // TLS: the site the handshake chose by SNI (an index into the server's sites).
    std::optional<std::size_t> tls_site_;
    bool bare_head_ = false; // the next response carries no site headers (plain 400 on TLS)

    // The response being written.
    std::string out_head_;
    std::size_t out_head_sent_ = 0;
    std::vector<body_piece> out_body_;
    std::size_t piece_ = 0;
    std::uint64_t piece_sent_ = 0;
    // Buffered path only: a slice of the current file piece, read but not yet all written.
    std::vector<char> chunk_;
    std::size_t chunk_sent_ = 0;

    // What the access log needs of the current request.
    std::string client_address_;
    // The current request's: the client behind trusted proxies when it is not the peer, and
    // the basic-auth user (empty: none). The access log takes both, then they are cleared.
    std::string forwarded_client_;
    std::string remote_user_;
    std::chrono::system_clock::time_point request_time_;
    clock::time_point request_start_;
    std::size_t site_ = 0;
    unsigned status_ = 0;
    std::uint64_t body_bytes_ = 0;
    std::uint64_t bytes_read_ = 0; // read since the last request was counted (metrics)
};

extern template class session<plain_stream>;
extern template class session<tls_stream>;

} // namespace bws::http
