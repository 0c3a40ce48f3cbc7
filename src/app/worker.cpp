// Worker process main loop: serves with http::server, talks to the master over the control
// channel (control_protocol.hpp) and reacts to signals.
#include "app/worker.hpp"

#include "app/control_protocol.hpp"
#include "http/server.hpp"
#include "log/context.hpp"
#include "log/setup.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/spdlog.h>

#include <csignal>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <utility>
#include <vector>

namespace bws::app {

namespace asio = boost::asio;

namespace {

constexpr auto heartbeat_interval = std::chrono::seconds(1);

// A heartbeat with the worker's counters; with counters too large for one frame, a bare one:
// liveness matters more than numbers (said once, not every second).
std::string heartbeat_frame(const control::counters& site_requests,
                            const control::counters& failures) {
    if (auto frame = control::encode_heartbeat(site_requests, failures))
        return std::move(*frame);
    static bool warned = false;
    if (!std::exchange(warned, true))
        spdlog::warn("worker {}: counters exceed a control frame; heartbeats sent without them",
                     ::getpid());
    return *control::encode_heartbeat({}, {});
}

class worker {
public:
    explicit worker(const worker_context& context)
        : context_(context), server_(io_, context.config, context.listeners, context.generation),
          signals_(io_, SIGTERM, SIGINT, SIGQUIT), reopen_signal_(io_, SIGUSR1), heartbeat_(io_),
          deadline_(io_), tunnel_deadline_(io_), control_(io_) {}

    int run() {
        std::signal(SIGPIPE, SIG_IGN);
        std::signal(SIGHUP, SIG_IGN); // reloads are the master's business
        server_.set_health_draining(context_.draining);
        server_.start();
        wait_signals();
        wait_reopen();
        if (context_.control_fd >= 0) {
            control_.assign(context_.control_fd);
            send(control::kind::ready);
            wait_control();
            heartbeat();
        }
        io_.run();
        // Let every closed session's pending operation complete, so no handler that
        // refers to the server outlives it.
        server_.stop();
        io_.restart();
        io_.run_for(std::chrono::seconds(2));
        server_.flush_logs();
        return 0;
    }

private:
    void wait_signals() {
        signals_.async_wait([this](boost::system::error_code ec, int signal) {
            if (ec)
                return;
            if (signal == SIGTERM && !stopping_)
                drain(true);
            else
                stop();
            wait_signals();
        });
    }

    void wait_reopen() {
        reopen_signal_.async_wait([this](boost::system::error_code ec, int) {
            if (ec)
                return;
            reopen();
            wait_reopen();
        });
    }

    void reopen() {
        log::reopen_all(); // server log, error log and access logs of this process
        send(control::kind::reopened);
    }

    // `close_idle`: a graceful stop (idle keep-alive connections closed at once) rather than
    // a reload (they are kept for their next request, answered with Connection: close).
    void drain(bool close_idle) {
        if (stopping_) {
            server_.drain(nullptr, close_idle); // a stop after a reload drain: upgrade it
            return;
        }
        stopping_ = true;
        spdlog::debug("worker {} draining", ::getpid());
        server_.drain(
            [this] {
                send(control::kind::drained);
                shutdown_loop();
            },
            close_idle);
        // Tunnels (WebSocket) never end by themselves: they get their own, shorter deadline.
        const auto& limits = context_.config->server;
        if (limits.tunnel_drain_timeout && *limits.tunnel_drain_timeout < limits.shutdown_timeout) {
            tunnel_deadline_.expires_after(*limits.tunnel_drain_timeout);
            tunnel_deadline_.async_wait([this](boost::system::error_code ec) {
                if (!ec)
                    server_.close_tunnels();
            });
        }
        // Whatever is still running at the deadline is cut.
        deadline_.expires_after(context_.config->server.shutdown_timeout);
        deadline_.async_wait([this](boost::system::error_code ec) {
            if (!ec)
                stop();
        });
    }

    void stop() {
        stopping_ = true;
        server_.stop();
        shutdown_loop();
    }

    void shutdown_loop() {
        boost::system::error_code ec;
        signals_.cancel(ec);
        reopen_signal_.cancel(ec);
        heartbeat_.cancel();
        deadline_.cancel();
        tunnel_deadline_.cancel();
        if (control_.is_open())
            control_.cancel(ec);
        io_.stop();
    }

    void heartbeat() {
        control::counters requests;
        for (const auto& [site, count] : server_.site_counters())
            requests[site] += count;
        // The session failure funnel's counts, so /health/detailed lists every worker's.
        send_frame(heartbeat_frame(requests, server_.failure_counts()));
        server_.sample_metrics();
        heartbeat_.expires_after(heartbeat_interval);
        heartbeat_.async_wait([this](boost::system::error_code ec) {
            if (!ec)
                heartbeat();
        });
    }

    void send(control::kind message) { send_frame(control::encode(message)); }

    void send_frame(std::string_view frame) {
        if (context_.control_fd < 0)
            return;
        // Best effort: the master reads continuously; a full queue only delays a heartbeat.
        ::send(context_.control_fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }

    void wait_control() {
        control_.async_wait(asio::posix::stream_descriptor::wait_read,
                            [this](boost::system::error_code ec) {
                                if (ec)
                                    return;
                                if (read_control())
                                    wait_control();
                            });
    }

    // Returns false once the channel is closed.
    bool read_control() {
        for (;;) {
            auto n =
                ::recv(context_.control_fd, read_buffer_.data(), read_buffer_.size(), MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return true;
                n = 0;
            }
            if (n == 0) {
                // The master is gone: finish what is in flight and leave.
                spdlog::warn("worker {}: master went away; draining", ::getpid());
                drain(true);
                return false;
            }
            decoder_.feed(std::string_view(read_buffer_.data(), static_cast<std::size_t>(n)));
            control::message message;
            std::string error;
            for (;;) {
                auto result = decoder_.next(message, error);
                if (result == control::decoder::result::need_more)
                    break;
                if (result == control::decoder::result::error)
                    spdlog::warn("worker {}: {}; control message dropped", ::getpid(), error);
                else
                    on_control(message);
            }
        }
    }

    void on_control(control::message& message) {
        switch (message.kind) {
        case control::kind::drain:
            drain(false);
            break;
        case control::kind::shutdown:
            drain(true);
            break;
        case control::kind::stop:
            stop();
            break;
        case control::kind::reopen:
            reopen();
            break;
        case control::kind::status:
            server_.set_master_status(message.status);
            break;
        default:
            spdlog::warn("worker {}: unexpected control message \"{}\"", ::getpid(),
                         control::to_string(message.kind));
            break;
        }
    }

    const worker_context& context_;
    asio::io_context io_{1};
    http::server server_;
    asio::signal_set signals_;
    asio::signal_set reopen_signal_;
    asio::steady_timer heartbeat_;
    asio::steady_timer deadline_;
    asio::steady_timer tunnel_deadline_; // [server] tunnel_drain_timeout
    asio::posix::stream_descriptor control_;
    control::decoder decoder_;
    std::vector<char> read_buffer_ = std::vector<char>(control::max_frame_bytes);
    bool stopping_ = false;
};

} // namespace

int worker_main(const worker_context& context) {
    log::set_role("worker");
    worker w(context);
    return w.run();
}

} // namespace bws::app
