// Active health checks and periodic host lookups in the master (see upstream_monitor.hpp).
#include "proxy/upstream_monitor.hpp"

#include "proxy/address_update.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <array>
#include <charconv>
#include <map>

namespace bws::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

struct upstream_monitor::target {
    explicit target(asio::io_context& ioc)
        : check_timer(ioc), deadline(ioc), resolve_timer(ioc), socket(ioc), resolver(ioc) {}

    std::string site, pool, url, host;
    std::uint16_t port = 80;
    config::active_health_check check;
    milliseconds resolve_interval{0};
    bool literal = false; // an IP literal: nothing to look up
    health_table* table = nullptr;
    std::uint32_t slot = health_table::no_slot;
    health_view view;
    std::vector<net::ip_address> addresses;

    asio::steady_timer check_timer;
    asio::steady_timer deadline;
    asio::steady_timer resolve_timer;
    tcp::socket socket;
    tcp::resolver resolver;
    std::string request;
    std::string reply;
    std::array<char, 256> buffer{};
    std::chrono::steady_clock::time_point started{};
    std::size_t address = 0; // index of the address being tried
    std::uint64_t round = 0; // handlers of an earlier check or lookup see a newer round
    bool timed_out = false;
    bool stopped = false;
    boost::system::error_code last_error;
};

namespace {

using target_ptr = std::shared_ptr<upstream_monitor::target>;

std::string describe(const upstream_monitor::target& t) {
    return fmt::format("upstream {} (site {}, pool {})", t.url, t.site, t.pool);
}

std::string reason(const upstream_monitor::target& t) {
    switch (t.view.last) {
    case check_result::bad_status:
        return fmt::format("status {}", t.view.last_status);
    case check_result::timeout:
        return fmt::format("timeout after {} ms", t.check.timeout.count());
    case check_result::error:
        return "network error: " + t.last_error.message();
    default:
        return std::string(to_string(t.view.last));
    }
}

std::string list(const std::vector<net::ip_address>& addresses) {
    std::vector<std::string> text;
    text.reserve(addresses.size());
    for (const auto& a : addresses)
        text.push_back(a.to_string());
    return text.empty() ? "none" : fmt::format("{}", fmt::join(text, ", "));
}

void schedule_check(const target_ptr& t);

void finish(const target_ptr& t, check_result result, unsigned status) {
    ++t->round; // whatever of this check is still queued is stale now
    t->deadline.cancel();
    boost::system::error_code ignored;
    t->socket.close(ignored);
    const auto before = t->view.counter.state;
    t->view.last = result;
    if (status != 0)
        t->view.last_status = status;
    const bool changed = t->view.counter.record(result == check_result::ok, t->check.retries);
    t->table->publish_health(t->slot, t->view);
    const auto now = t->view.counter.state;
    if (changed && now == health_state::unhealthy)
        spdlog::warn("{} is unhealthy after {} failed check{}: {}", describe(*t),
                     t->view.counter.failures, t->view.counter.failures == 1 ? "" : "s",
                     reason(*t));
    else if (changed && before == health_state::unhealthy)
        spdlog::info("{} is healthy again after {} passed check{}", describe(*t),
                     t->view.counter.successes, t->view.counter.successes == 1 ? "" : "s");
    else if (result != check_result::ok)
        spdlog::debug("{}: health check failed ({}), {} in a row", describe(*t), reason(*t),
                      t->view.counter.failures);
    schedule_check(t);
}

// "HTTP/1.1 200 OK": the status; 0 when the reply does not start with an HTTP/1.x status line.
unsigned status_of(std::string_view reply) {
    if (reply.size() < 12 || reply.substr(0, 7) != "HTTP/1." || reply[8] != ' ')
        return 0;
    unsigned status = 0;
    auto [p, ec] = std::from_chars(reply.data() + 9, reply.data() + 12, status);
    if (ec != std::errc() || p != reply.data() + 12 || status < 100 || status > 599)
        return 0;
    return status;
}

void evaluate(const target_ptr& t) {
    const unsigned status = status_of(t->reply);
    if (status == 0)
        finish(t, t->timed_out ? check_result::timeout : check_result::bad_response, 0);
    else if (status >= t->check.expect_min && status <= t->check.expect_max)
        finish(t, check_result::ok, status);
    else
        finish(t, check_result::bad_status, status);
}

void read_reply(const target_ptr& t) {
    t->socket.async_read_some(
        asio::buffer(t->buffer),
        [t, round = t->round](const boost::system::error_code& ec, std::size_t n) {
            if (t->stopped || round != t->round)
                return;
            t->reply.append(t->buffer.data(), n);
            // The status line is all a check needs.
            if (ec || t->reply.find("\r\n") != std::string::npos || t->reply.size() >= 1024)
                evaluate(t);
            else
                read_reply(t);
        });
}

void connect_next(const target_ptr& t) {
    if (t->address >= t->addresses.size()) {
        const auto result = t->timed_out ? check_result::timeout
                            : t->last_error == asio::error::connection_refused ||
                                    t->last_error == boost::system::error_code{}
                                ? check_result::refused
                                : check_result::error;
        finish(t, result, 0);
        return;
    }
    boost::system::error_code ignored;
    t->socket.close(ignored);
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(t->addresses[t->address].to_string(), ec);
    t->socket.async_connect(
        tcp::endpoint(ip, t->port), [t, round = t->round](const boost::system::error_code& e) {
            if (t->stopped || round != t->round)
                return;
            if (e) {
                if (t->timed_out) {
                    finish(t, check_result::timeout, 0);
                    return;
                }
                t->last_error = e;
                ++t->address;
                connect_next(t);
                return;
            }
            asio::async_write(
                t->socket, asio::buffer(t->request),
                [t, round](const boost::system::error_code& w, std::size_t) {
                    if (t->stopped || round != t->round)
                        return;
                    if (w) {
                        t->last_error = w;
                        finish(t, t->timed_out ? check_result::timeout : check_result::error, 0);
                        return;
                    }
                    read_reply(t);
                });
        });
}

void start_check(const target_ptr& t) {
    t->started = std::chrono::steady_clock::now();
    ++t->round;
    t->address = 0;
    t->timed_out = false;
    t->reply.clear();
    t->last_error = {};
    t->deadline.expires_after(t->check.timeout);
    t->deadline.async_wait([t, round = t->round](const boost::system::error_code& ec) {
        if (ec || t->stopped || round != t->round)
            return;
        t->timed_out = true;
        boost::system::error_code ignored;
        t->socket.close(ignored); // the pending operation ends with operation_aborted
    });
    connect_next(t);
}

void schedule_check(const target_ptr& t) {
    // A steady cadence: the next check is due an interval after this one started.
    t->check_timer.expires_at(t->started + t->check.interval);
    t->check_timer.async_wait([t](const boost::system::error_code& ec) {
        if (!ec && !t->stopped)
            start_check(t);
    });
}

void schedule_resolve(const target_ptr& t) {
    t->resolve_timer.expires_after(t->resolve_interval);
    t->resolve_timer.async_wait([t](const boost::system::error_code& ec) {
        if (ec || t->stopped)
            return;
        t->resolver.async_resolve(
            t->host, std::to_string(t->port),
            [t](const boost::system::error_code& e, const tcp::resolver::results_type& results) {
                if (t->stopped)
                    return;
                std::vector<net::ip_address> found;
                for (const auto& entry : results)
                    if (auto a = net::ip_address::parse(entry.endpoint().address().to_string()))
                        found.push_back(*a);
                if (e || found.empty()) {
                    spdlog::warn("{}: cannot resolve '{}' ({}); keeping the last good "
                                 "addresses ({})",
                                 describe(*t), t->host, e ? e.message() : "no address",
                                 list(t->addresses));
                } else if (auto next = updated_addresses(t->addresses, found)) {
                    spdlog::info("{}: '{}' now resolves to {} (was {})", describe(*t), t->host,
                                 list(*next), list(t->addresses));
                    t->addresses = std::move(*next);
                    t->table->publish_addresses(t->slot, t->addresses);
                }
                schedule_resolve(t);
            });
    });
}

void stop_target(upstream_monitor::target& t) {
    t.stopped = true;
    ++t.round;
    t.check_timer.cancel();
    t.deadline.cancel();
    t.resolve_timer.cancel();
    t.resolver.cancel();
    boost::system::error_code ignored;
    t.socket.close(ignored);
}

template <class F>
void for_each_server(const config::snapshot& config, F&& f) {
    for (const auto& site : config.sites) {
        if (!site.proxy)
            continue;
        for (const auto& pool : site.proxy->pools)
            for (const auto& server : pool.servers)
                f(site, pool, server);
    }
}

} // namespace

upstream_monitor::upstream_monitor(asio::io_context& ioc, health_table* table)
    : ioc_(ioc), table_(table) {}

upstream_monitor::~upstream_monitor() {
    stop();
}

void upstream_monitor::prepare(const config::snapshot& config) {
    if (table_ == nullptr)
        return;
    bool warned = false;
    for_each_server(config, [&](const config::site& site, const config::upstream_pool& pool,
                                const config::upstream_server& server) {
        const auto key = health_table::key_of(site.name, pool.name, server.url);
        const auto slot = table_->claim(key);
        if (slot == health_table::no_slot) {
            if (!std::exchange(warned, true))
                spdlog::warn("the shared upstream table is full ({} servers): further servers "
                             "get no active health check and no new lookups",
                             health_table::slot_count);
            return;
        }
        table_->publish_addresses(slot, server.addresses);
    });
}

void upstream_monitor::commit(const config::snapshot_ptr& config) {
    stop();
    targets_.clear();
    config_ = config;
    if (table_ == nullptr || !config)
        return;
    std::map<std::uint64_t, bool> wanted;
    for_each_server(*config, [&](const config::site& site, const config::upstream_pool& pool,
                                 const config::upstream_server& server) {
        const auto key = health_table::key_of(site.name, pool.name, server.url);
        wanted[key] = true;
        const auto slot = table_->find(key);
        if (slot == health_table::no_slot)
            return;
        auto t = std::make_shared<target>(ioc_);
        t->site = site.name;
        t->pool = pool.name;
        t->url = server.url;
        t->host = server.host;
        t->port = server.port;
        t->check = site.proxy->health_check;
        t->resolve_interval = site.proxy->resolve_interval;
        t->literal = net::ip_address::parse(server.host).has_value();
        t->table = table_;
        t->slot = slot;
        t->addresses = server.addresses;
        // A server that stays keeps what the checks found; one no longer checked is
        // unknown (healthy to the balancers).
        t->view = t->check.enabled ? table_->health(slot, key) : health_view{};
        table_->publish_health(slot, t->view);
        t->request = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n"
                                 "User-Agent: bws-health-check\r\nAccept: */*\r\n\r\n",
                                 t->check.path, server.authority);
        targets_.push_back(std::move(t));
    });
    // What no server of this configuration holds any more (removed servers, and what a
    // failed reload claimed) goes back; old workers still draining see its key vanish and
    // treat the server as unknown.
    for (std::uint32_t i = 0; i < health_table::slot_count; ++i) {
        const auto key = table_->key_at(i);
        if (key != 0 && !wanted.count(key))
            table_->release(i);
    }
    for (const auto& t : targets_) {
        if (t->check.enabled) {
            t->started = std::chrono::steady_clock::now() - t->check.interval;
            schedule_check(t); // the first check at once
        }
        if (!t->literal && t->resolve_interval.count() > 0)
            schedule_resolve(t);
    }
}

void upstream_monitor::stop() {
    for (const auto& t : targets_)
        stop_target(*t);
}

} // namespace bws::proxy
