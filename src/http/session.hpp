// One client connection: reads requests with limits, routes them to a site and handler, writes
// responses (files with sendfile), keeps the connection alive or closes it gracefully.
#pragma once

#include "http/request_parser.hpp"
#include "http/response.hpp"
#include "http/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bws::http {

class session : public std::enable_shared_from_this<session> {
public:
    using clock = std::chrono::steady_clock;

    session(server& owner, boost::asio::ip::tcp::socket socket, std::size_t listener);
    ~session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    void start();
    clock::time_point deadline() const { return deadline_; }
    // The deadline of the current phase passed (called by the server's sweep).
    void on_deadline();
    // The server started draining; `close_idle` when it is stopping rather than reloading.
    void on_drain(bool close_idle);
    // Closes the connection now (fast stop).
    void close() { close_now(); }

private:
    enum class phase { idle, reading, writing, lingering, closed };

    void do_read();
    void on_read(boost::system::error_code ec, std::size_t bytes);
    void parse();
    void handle_request();
    void respond(response&& r, std::size_t site_index, bool head);
    void respond_error(unsigned status);
    void do_write();
    void wait_writable();
    // After a failed write (errno set): true to retry at once; otherwise it has either
    // arranged to resume when the socket is writable or closed the connection.
    bool after_write_error();
    void on_written();
    void linger();
    void linger_read();
    void close_now();

    server& server_;
    boost::asio::ip::tcp::socket socket_;
    int fd_;
    std::size_t listener_;
    std::list<session*>::iterator registry_position_;
    boost::beast::flat_buffer buffer_;
    std::optional<request_parser> parser_;
    phase phase_ = phase::idle;
    clock::time_point deadline_;
    std::size_t requests_ = 0;
    bool keep_alive_ = true;
    bool read_pending_ = false;
    int sync_depth_ = 0; // guards recursion when pipelined requests complete synchronously

    // The response being written.
    std::string out_head_;
    std::size_t out_head_sent_ = 0;
    std::vector<body_piece> out_body_;
    std::size_t piece_ = 0;
    std::uint64_t piece_sent_ = 0;

    // What the access log needs of the current request.
    std::string client_address_;
    std::chrono::system_clock::time_point request_time_;
    clock::time_point request_start_;
    std::size_t site_ = 0;
    unsigned status_ = 0;
    std::uint64_t body_bytes_ = 0;
};

} // namespace bws::http
