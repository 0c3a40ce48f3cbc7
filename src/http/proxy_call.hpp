// The state of one proxied request while a session forwards it (session_proxy.cpp): the
// upstream chosen and its connection, the request body on its way up and the response on its
// way down. Allocated only for proxied requests, so other sessions carry one pointer.
#pragma once

#include "config/model.hpp"
#include "proxy/response_parser.hpp"
#include "proxy/site_upstreams.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>

namespace bws::http {

inline constexpr std::size_t proxy_chunk = 64 * 1024;   // bytes buffered per direction
inline constexpr std::size_t upstream_read = 16 * 1024; // bytes asked of one upstream read

struct proxy_call {
    enum class wait { none, connect, upstream_write, upstream_read, client_read };

    proxy::site_upstreams* upstreams = nullptr;
    const config::proxy_route* route = nullptr;
    std::size_t server = 0;     // index in the route's pool
    std::size_t address = 0;    // index in the server's addresses
    std::uint64_t tried = 0;    // servers tried (bit per index)
    unsigned attempts = 0;      // servers tried, for the retries bound
    bool all_down = false;      // every server was marked down when the first was picked
    bool counted = false;       // balancer::started was called for `server`
    bool retried_fresh = false; // a reused connection failed and a fresh one was taken
    std::uint64_t full = 0;     // servers at their max_conns (bit per index)
    // What failed while connecting beyond the error code (a TLS verification error), for
    // the log line.
    std::string connect_failure;
    std::unique_ptr<proxy::upstream_connection> conn;

    std::string target;           // the upstream's request target
    std::string head;             // the request head for the upstream
    bool request_body = false;    // the request has a body (never replayed, never reused)
    bool request_chunked = false; // it goes up chunked (length unknown)
    std::optional<std::uint64_t> request_length;   // its Content-Length
    std::string body;                              // request body bytes read, not yet sent up
    std::string frame;                             // chunk-size line of the piece being sent
    std::vector<boost::asio::const_buffer> pieces; // the body write in progress
    bool body_sent = false;                        // the whole request is upstream

    std::optional<proxy::response_parser> parser;
    bool got_response_bytes = false;
    bool head_sent = false;    // the response head went to the client
    bool chunked_out = false;  // the client gets the body chunked
    bool last_write = false;   // the write in progress ends the response
    bool client_write = false; // a write to the client is in progress
    std::string out;           // response body bytes decoded, not yet written
    // An upgrade (WebSocket) the route allows: the client's Upgrade value; after the 101, the
    // connection is a tunnel.
    std::string upgrade;
    bool tunnel = false;
    bool tunnel_started = false;

    wait waiting = wait::none;
    bool timed_out = false;

    // For the access log, which is written after the connection went back to the pool.
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::string peer;    // the server's address, once connected
    unsigned status = 0; // the upstream's status, once its head arrived
};

} // namespace bws::http
