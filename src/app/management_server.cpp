// One connection at a time per client, keep-alive, bounded sizes and times: the management API
// is for scripts and Prometheus on the same machine, not for the world. The same code serves
// the TCP listener and the Unix socket (templates on the protocol).
#include "app/management_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

namespace bws::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct management_server::shared_state {
    handler on_request;
    std::size_t connections = 0;
};

// The accept loop of one listener, whatever its protocol.
class management_server::listener {
public:
    virtual ~listener() = default;
    virtual void start() = 0;
    virtual void stop() = 0;
};

using namespace std::chrono_literals;

namespace {

constexpr auto io_timeout = 10s;
constexpr std::size_t max_connections = 64;
constexpr std::size_t max_header_bytes = 16 * 1024;
constexpr std::size_t max_body_bytes = 64 * 1024;

template <class Protocol>
class connection : public std::enable_shared_from_this<connection<Protocol>> {
public:
    connection(typename Protocol::socket socket, std::shared_ptr<management_server::shared_state> s)
        : stream_(std::move(socket)), state_(std::move(s)) {
        ++state_->connections;
    }
    ~connection() { --state_->connections; }

    void read() {
        parser_.emplace();
        parser_->header_limit(max_header_bytes);
        parser_->body_limit(max_body_bytes);
        stream_.expires_after(io_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_read(ec);
                         });
    }

private:
    void on_read(beast::error_code ec) {
        if (ec) {
            if (ec != http::error::end_of_stream && ec != asio::error::operation_aborted &&
                ec != beast::error::timeout)
                write(json_error(400, "bad request: " + ec.message()), false, false);
            return;
        }
        const auto& req = parser_->get();
        management_request request;
        request.method = std::string(req.method_string());
        request.target = std::string(req.target());
        request.authorization = std::string(req[http::field::authorization]);
        request.api_key = std::string(req["X-API-Key"]);
        request.accept = std::string(req[http::field::accept]);
        const bool keep_alive = req.keep_alive();
        const bool head = req.method() == http::verb::head;
        // A reload can take longer than the I/O timeout: no deadline while the handler works.
        stream_.expires_never();
        state_->on_request(
            request, [self = this->shared_from_this(), keep_alive, head](management_reply reply) {
                self->write(std::move(reply), keep_alive, head);
            });
    }

    void write(management_reply reply, bool keep_alive, bool head) {
        auto response = std::make_shared<http::response<http::string_body>>();
        response->result(reply.status);
        response->version(11);
        response->set(http::field::content_type, reply.content_type);
        response->set(http::field::cache_control, "no-store");
        if (!reply.allow.empty())
            response->set(http::field::allow, reply.allow);
        response->keep_alive(keep_alive);
        const auto length = reply.body.size();
        if (!head)
            response->body() = std::move(reply.body);
        response->content_length(length);
        stream_.expires_after(io_timeout);
        http::async_write(stream_, *response,
                          [self = this->shared_from_this(), response,
                           keep_alive](beast::error_code ec, std::size_t) {
                              if (!ec && keep_alive)
                                  self->read();
                              else
                                  self->close();
                          });
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(Protocol::socket::shutdown_send, ignored);
        stream_.close();
    }

    beast::basic_stream<Protocol> stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<management_server::shared_state> state_;
};

template <class Protocol>
class listener_of final : public management_server::listener {
public:
    listener_of(asio::io_context& ioc, typename Protocol::acceptor acceptor,
                std::shared_ptr<management_server::shared_state> state)
        : acceptor_(std::move(acceptor)), retry_timer_(ioc), state_(std::move(state)) {}

    void start() override { do_accept(); }

    void stop() override {
        beast::error_code ignored;
        acceptor_.close(ignored);
        retry_timer_.cancel();
    }

private:
    void do_accept() {
        acceptor_.async_accept([this](beast::error_code ec, typename Protocol::socket socket) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open())
                return;
            if (!ec) {
                if (state_->connections >= max_connections) {
                    socket.close(ec); // a local client flooding the API is not answered
                } else {
                    std::make_shared<connection<Protocol>>(std::move(socket), state_)->read();
                }
            } else {
                spdlog::warn("management API: accept failed: {}", ec.message());
                retry_timer_.expires_after(100ms);
                retry_timer_.async_wait([this](beast::error_code wait_ec) {
                    if (!wait_ec && acceptor_.is_open())
                        do_accept();
                });
                return;
            }
            do_accept();
        });
    }

    typename Protocol::acceptor acceptor_;
    asio::steady_timer retry_timer_; // after a failed accept (EMFILE): not a busy loop
    std::shared_ptr<management_server::shared_state> state_;
};

} // namespace

management_server::management_server(asio::io_context& ioc, int fd, bool v6, handler h)
    : state_(std::make_shared<shared_state>()) {
    state_->on_request = std::move(h);
    asio::ip::tcp::acceptor acceptor(ioc, v6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), fd);
    beast::error_code ec;
    const auto endpoint = acceptor.local_endpoint(ec);
    port_ = ec ? 0 : endpoint.port();
    listener_ = std::make_unique<listener_of<asio::ip::tcp>>(ioc, std::move(acceptor), state_);
}

management_server::management_server(asio::io_context& ioc, net::unix_listener socket,
                                     std::filesystem::path socket_path, handler h)
    : state_(std::make_shared<shared_state>()), socket_path_(std::move(socket_path)),
      socket_(socket) {
    state_->on_request = std::move(h);
    asio::local::stream_protocol::acceptor acceptor(ioc, asio::local::stream_protocol(), socket.fd);
    listener_ = std::make_unique<listener_of<asio::local::stream_protocol>>(
        ioc, std::move(acceptor), state_);
}

management_server::~management_server() {
    stop();
}

void management_server::start() {
    listener_->start();
}

void management_server::stop() {
    listener_->stop();
    if (!socket_path_.empty()) {
        net::remove_unix_listener(socket_path_, socket_);
        socket_path_.clear();
    }
}

std::uint16_t management_server::port() const {
    return port_;
}

} // namespace bws::app
