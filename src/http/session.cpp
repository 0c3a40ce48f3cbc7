// Connection state machine: idle -> reading -> writing -> (idle | lingering) -> closed.
// Reads go through Asio; writes are tried directly on the non-blocking socket first (writev
// and sendfile) and only wait for writability when the socket buffer is full, which keeps the
// common small-response path free of extra allocations and handler hops.
#include "http/session.hpp"

#include "files/static_handler.hpp"
#include "http/header_text.hpp"
#include "http/host.hpp"
#include "http/status.hpp"
#include "log/context.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace bws::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::size_t read_chunk = 16 * 1024;
constexpr auto linger_time = std::chrono::seconds(2);
constexpr int max_sync_depth = 16;

} // namespace

session::session(server& owner, asio::ip::tcp::socket socket, std::size_t listener)
    : server_(owner), socket_(std::move(socket)), fd_(socket_.native_handle()),
      listener_(listener) {
    registry_position_ = server_.register_session(this);
}

session::~session() {
    server_.unregister_session(registry_position_);
}

void session::start() {
    boost::system::error_code ec;
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    socket_.native_non_blocking(true, ec);
    auto remote = socket_.remote_endpoint(ec);
    if (!ec)
        client_address_ = remote.address().to_string();
    else
        client_address_.assign(1, '-'); // not = "-": GCC 12 warns falsely (PR 105651)
    deadline_ = clock::now() + server_.limits().header_timeout;
    do_read();
}

void session::do_read() {
    if (phase_ == phase::closed || read_pending_)
        return;
    read_pending_ = true;
    socket_.async_read_some(buffer_.prepare(read_chunk),
                            [self = shared_from_this()](boost::system::error_code ec,
                                                        std::size_t n) { self->on_read(ec, n); });
}

void session::on_read(boost::system::error_code ec, std::size_t bytes) {
    read_pending_ = false;
    if (phase_ == phase::closed)
        return;
    if (phase_ == phase::writing || phase_ == phase::lingering) {
        // A read cancelled to answer 408; the connection closes after that answer.
        return;
    }
    if (ec) {
        // EOF or reset from the peer; a timeout closed the socket; nothing to answer.
        close_now();
        return;
    }
    buffer_.commit(bytes);
    if (phase_ == phase::idle) {
        // The first byte of a request starts the header timeout (idle keep-alive
        // connections are bounded by keepalive_timeout instead).
        phase_ = phase::reading;
        deadline_ = clock::now() + server_.limits().header_timeout;
    }
    parse();
}

void session::parse() {
    if (!parser_) {
        parser_.emplace(server_.limits());
        request_time_ = std::chrono::system_clock::now();
        request_start_ = clock::now();
    }
    while (buffer_.size() > 0) {
        boost::system::error_code ec;
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
            // A body follows. bws has no handler that accepts one, so only GET/HEAD bodies
            // are read (and discarded, within max_body_size); anything else is answered
            // right away and the connection is closed instead of reading the body.
            auto method = parser_->head().method;
            if (method != bhttp::verb::get && method != bhttp::verb::head) {
                keep_alive_ = false;
                handle_request();
                return;
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

void session::handle_request() {
    auto& head = parser_->head();
    ++requests_;
    phase_ = phase::writing;

    // Which host: the authority of an absolute-form target wins over the Host header.
    std::string_view target = head.target;
    std::string_view authority;
    std::string_view origin_form = target;
    bool absolute = split_absolute_target(target, authority, origin_form);
    std::string host;
    if (absolute) {
        auto normalized = normalize_host(authority);
        if (!normalized)
            return respond_error(400);
        host = std::move(*normalized);
    } else if (head.host_seen) {
        auto normalized = normalize_host(head.host);
        if (!normalized)
            return respond_error(400);
        host = std::move(*normalized);
    } else if (head.version >= 11) {
        return respond_error(400); // HTTP/1.1 requires Host (RFC 9112 §3.2)
    }
    site_ = server_.lookup_site(listener_, host);

    if (head.version >= 11)
        keep_alive_ = keep_alive_ && !head.connection_close;
    else
        keep_alive_ = keep_alive_ && head.connection_keep_alive;
    if (requests_ >= server_.limits().max_keepalive_requests || server_.draining())
        keep_alive_ = false;

    if (origin_form.empty() || (origin_form.front() != '/' && origin_form.front() != '?'))
        return respond_error(400); // "*" and other forms mean nothing for a file server
    auto query_pos = origin_form.find('?');
    std::string_view path = origin_form.substr(0, query_pos);
    std::string_view query = query_pos == std::string_view::npos
                                 ? std::string_view()
                                 : origin_form.substr(query_pos + 1);
    if (path.empty())
        path = "/";

    bool head_request = head.method == bhttp::verb::head;
    if (head.method != bhttp::verb::get && !head_request) {
        response r;
        r.status = 405;
        r.use_error_page = true;
        r.set_header("Allow", "GET, HEAD");
        return respond(std::move(r), site_, head_request);
    }

    const auto& health_path = server_.config().server.health_path;
    if (!health_path.empty() && path.size() >= health_path.size() &&
        path.compare(0, health_path.size(), health_path) == 0) {
        auto rest = path.substr(health_path.size());
        if (rest.empty() || rest == "/")
            return respond(server_.health_response(false), site_, head_request);
        if (rest == "/detailed")
            return respond(server_.health_response(true), site_, head_request);
    }

    files::request_info info;
    info.head = head_request;
    info.raw_path = path;
    info.query = query;
    info.if_none_match = head.if_none_match;
    info.if_modified_since = head.if_modified_since;
    info.if_match = head.if_match;
    info.if_unmodified_since = head.if_unmodified_since;
    info.range = head.range;
    info.if_range = head.if_range;
    respond(server_.site(site_).files->handle(info), site_, head_request);
}

void session::respond_error(unsigned status) {
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

void session::respond(response&& r, std::size_t site_index, bool head) {
    auto& site = server_.site(site_index);
    ++site.requests;
    status_ = r.status;
    if (r.use_error_page && r.body.empty()) {
        auto page = site.error_pages.find(r.status);
        body_piece piece;
        piece.bytes = page != site.error_pages.end() ? page->second : builtin_error_page(r.status);
        r.body.push_back(std::move(piece));
        r.set_header("Content-Type", "text/html; charset=utf-8");
    }

    out_head_.clear();
    auto out = std::back_inserter(out_head_);
    fmt::format_to(out, "HTTP/1.1 {} {}\r\n", r.status, reason_phrase(r.status));
    out_head_ += server_.date_header();
    out_head_ += server_.server_header();
    bool has_length = false;
    for (const auto& [name, value] : r.headers) {
        if (iequals(name, "content-length"))
            has_length = true;
        bool overridden = false;
        for (const auto& own : site.header_names)
            if (iequals(name, own)) {
                overridden = true;
                break;
            }
        if (overridden)
            continue;
        out_head_ += name;
        out_head_ += ": ";
        out_head_ += value;
        out_head_ += "\r\n";
    }
    out_head_ += site.header_block;
    std::uint64_t length = r.content_length();
    bool bodiless_status = r.status == 304 || r.status == 204;
    if (!has_length && !bodiless_status)
        fmt::format_to(out, "Content-Length: {}\r\n", length);
    out_head_ += keep_alive_ ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";

    if (head || bodiless_status) {
        r.body.clear();
        length = 0;
    }
    body_bytes_ = length;
    out_body_ = std::move(r.body);
    out_head_sent_ = 0;
    piece_ = 0;
    piece_sent_ = 0;
    do_write();
}

void session::do_write() {
    if (phase_ == phase::closed)
        return;
    for (;;) {
        bool head_left = out_head_sent_ < out_head_.size();
        bool memory_next = piece_ < out_body_.size() && !out_body_[piece_].file;
        if (head_left || memory_next) {
            // Gather the rest of the head and every in-memory piece up to the next file.
            iovec iov[16];
            int count = 0;
            if (head_left) {
                iov[count].iov_base = out_head_.data() + out_head_sent_;
                iov[count].iov_len = out_head_.size() - out_head_sent_;
                ++count;
            }
            std::size_t p = piece_;
            std::uint64_t offset = piece_sent_;
            for (; p < out_body_.size() && !out_body_[p].file && count < 16; ++p) {
                auto& bytes = out_body_[p].bytes;
                if (bytes.size() > offset) {
                    iov[count].iov_base = bytes.data() + offset;
                    iov[count].iov_len = bytes.size() - offset;
                    ++count;
                }
                offset = 0;
            }
            msghdr msg{};
            msg.msg_iov = iov;
            msg.msg_iovlen = static_cast<std::size_t>(count);
            int flags = MSG_NOSIGNAL;
            if (p < out_body_.size())
                flags |= MSG_MORE; // a file follows: let the kernel coalesce
            ssize_t n = count > 0 ? ::sendmsg(fd_, &msg, flags) : 0;
            if (n < 0) {
                if (after_write_error())
                    continue;
                return;
            }
            auto sent = static_cast<std::uint64_t>(n);
            if (head_left) {
                auto take = std::min<std::uint64_t>(sent, out_head_.size() - out_head_sent_);
                out_head_sent_ += take;
                sent -= take;
            }
            while (piece_ < out_body_.size() && !out_body_[piece_].file) {
                auto left = out_body_[piece_].bytes.size() - piece_sent_;
                if (sent >= left) {
                    sent -= left;
                    ++piece_;
                    piece_sent_ = 0;
                } else {
                    piece_sent_ += sent;
                    break;
                }
            }
            if (out_head_sent_ < out_head_.size() ||
                (piece_ < out_body_.size() && !out_body_[piece_].file && piece_sent_ > 0))
                return wait_writable(); // partial write: the socket buffer is full
            continue;
        }
        if (piece_ < out_body_.size()) {
            auto& piece = out_body_[piece_];
            off_t offset = static_cast<off_t>(piece.offset + piece_sent_);
            auto left = piece.length - piece_sent_;
            auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(left, 1u << 30));
            ssize_t n = ::sendfile(fd_, piece.file->fd(), &offset, chunk);
            if (n < 0) {
                if (after_write_error())
                    continue;
                return;
            }
            if (n == 0) {
                // The file shrank under us: the promised length cannot be delivered.
                spdlog::warn("file shrank while being sent; closing the connection");
                close_now();
                return;
            }
            piece_sent_ += static_cast<std::uint64_t>(n);
            if (piece_sent_ >= piece.length) {
                ++piece_;
                piece_sent_ = 0;
            }
            continue;
        }
        on_written();
        return;
    }
}

bool session::after_write_error() {
    if (errno == EINTR)
        return true;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        wait_writable(); // the socket buffer is full: resume when it drains
    else
        close_now(); // the peer is gone
    return false;
}

void session::wait_writable() {
    deadline_ = clock::now() + server_.limits().send_timeout;
    socket_.async_wait(asio::ip::tcp::socket::wait_write,
                       [self = shared_from_this()](boost::system::error_code ec) {
                           if (ec) {
                               self->close_now();
                               return;
                           }
                           self->do_write();
                       });
}

void session::on_written() {
    auto& site = server_.site(site_);
    if (status_ >= 500 && parser_) {
        // Server-side failures belong in the error log (and the journal, under BWS_SITE).
        log::site_scope scope(site.config->name);
        spdlog::error("{} {} {} -> {}", client_address_, parser_->head().method_string,
                      parser_->head().target, status_);
    }
    if (site.access_log && parser_) {
        const auto& head = parser_->head();
        log::access_record record;
        record.time = request_time_;
        record.site = site.config->name;
        record.client_address = client_address_;
        record.method = head.method_string;
        record.target = head.target;
        record.version_major = static_cast<unsigned>(head.version / 10);
        record.version_minor = static_cast<unsigned>(head.version % 10);
        record.status = status_;
        record.bytes_sent = body_bytes_;
        record.duration =
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - request_start_);
        record.user_agent = head.user_agent;
        record.referer = head.referer;
        auto id = server_.next_request_id();
        record.request_id = id;
        site.access_log->write(record);
    }
    out_body_.clear();
    parser_.reset();
    if (!keep_alive_) {
        linger();
        return;
    }
    phase_ = phase::idle;
    deadline_ = clock::now() + server_.limits().keepalive_timeout;
    if (server_.closing_idle() && buffer_.size() == 0) {
        // Stopping: an idle connection is not kept for a next request.
        close_now();
        return;
    }
    if (buffer_.size() > 0) {
        // Pipelined requests are already buffered: answer them in order.
        if (++sync_depth_ > max_sync_depth) {
            sync_depth_ = 0;
            asio::post(socket_.get_executor(), [self = shared_from_this()] { self->parse(); });
            return;
        }
        parse();
        --sync_depth_;
        return;
    }
    sync_depth_ = 0;
    do_read();
}

void session::linger() {
    // Half-close and drain what the client still sends, so a request already in flight
    // does not turn our close into a connection reset that destroys the response.
    phase_ = phase::lingering;
    deadline_ = clock::now() + linger_time;
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    if (ec) {
        close_now();
        return;
    }
    linger_read();
}

void session::linger_read() {
    buffer_.clear();
    socket_.async_read_some(buffer_.prepare(read_chunk),
                            [self = shared_from_this()](boost::system::error_code e, std::size_t) {
                                if (e || self->phase_ == phase::closed) {
                                    self->close_now();
                                    return;
                                }
                                self->linger_read();
                            });
}

void session::close_now() {
    if (phase_ == phase::closed)
        return;
    phase_ = phase::closed;
    boost::system::error_code ec;
    socket_.close(ec);
}

void session::on_deadline() {
    switch (phase_) {
    case phase::idle:
    case phase::lingering:
    case phase::writing:
        close_now();
        break;
    case phase::reading: {
        // Headers (or a body) did not arrive in time: stop reading, answer 408, close.
        boost::system::error_code ec;
        socket_.cancel(ec);
        respond_error(408);
        break;
    }
    case phase::closed:
        break;
    }
}

void session::on_drain(bool close_idle) {
    // A reload keeps idle keep-alive connections: their next request is answered, with
    // Connection: close, so a client never meets a close it could race with. A stop closes them.
    if (close_idle && phase_ == phase::idle && buffer_.size() == 0)
        close_now();
}

} // namespace bws::http
