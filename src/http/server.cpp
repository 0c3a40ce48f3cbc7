// Worker HTTP server: per-generation site preparation, accept loops, the timeout sweep, and
// draining.
#include "http/server.hpp"

#include "content/compressed_cache.hpp"
#include "files/file_cache.hpp"
#include "files/http_date.hpp"
#include "files/static_handler.hpp"
#include "http/health_json.hpp"
#include "http/read_buffer.hpp"
#include "http/session.hpp"
#include "http/tls_stream.hpp"
#include "log/context.hpp"
#include "metrics/shared_metrics.hpp"
#include "proxy/site_upstreams.hpp"
#include "tls/certificate.hpp"
#include "tls/context.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <unistd.h>

namespace bws::http {

namespace asio = boost::asio;

namespace {

constexpr auto sweep_interval = std::chrono::milliseconds(250);
constexpr std::size_t read_blocks_kept = 256; // 4 MiB of read buffers stay at hand
constexpr std::size_t max_error_page_bytes = 1024 * 1024;

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool read_small_file(const std::filesystem::path& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;
    std::ostringstream data;
    data << in.rdbuf();
    out = data.str();
    return out.size() <= max_error_page_bytes;
}

} // namespace

server::server(asio::io_context& io, config::snapshot_ptr config,
               const std::vector<app::inherited_listener>& listeners, unsigned generation,
               server_options options)
    : io_(io), config_(std::move(config)), generation_(generation),
      file_cache_(std::make_shared<files::file_cache>()),
      compressed_cache_(std::make_shared<content::compressed_cache>()), options_(options),
      sweep_timer_(io) {
    if (config_->server.server_header && !config_->security.hide_server_header)
        server_header_ = fmt::format("Server: bws/{}\r\n", BWS_VERSION);

    sites_.resize(config_->sites.size());
    routes_.resize(config_->sites.size());
    for (std::size_t i = 0; i < config_->sites.size(); ++i) {
        const auto& site = config_->sites[i];
        auto& runtime = sites_[i];
        runtime.config = &site;
        // The master registered every site name before forking this worker.
        const auto* region = metrics::region::shared();
        runtime.metrics_site = region ? region->find_site(site.name) : metrics::other_site;
        log::site_scope scope(site.name);
        // The router never sends an api_only site's requests to the static files.
        if (!site.api_only)
            runtime.files = std::make_unique<files::static_handler>(site, config_->server.limits,
                                                                    file_cache_, compressed_cache_);
        routes_[i].api_only = site.api_only;
        if (site.metrics)
            routes_[i].metrics_path = site.metrics->path;
        for (const auto& [name, value] : site.headers) {
            runtime.header_block += fmt::format("{}: {}\r\n", name, value);
            runtime.header_names.push_back(lower(name));
        }
        // Security headers after the site's own, which win over them by name.
        for (const auto& [name, value] :
             site.security_headers ? *site.security_headers : config_->security.headers) {
            if (std::find(runtime.header_names.begin(), runtime.header_names.end(), lower(name)) !=
                runtime.header_names.end())
                continue;
            runtime.header_block += fmt::format("{}: {}\r\n", name, value);
            runtime.header_names.push_back(lower(name));
        }
        // HSTS goes on every response of a TLS site (a site is TLS or plain as a whole, so it
        // never reaches plain HTTP), unless [sites.headers] sets the header itself.
        if (site.tls && site.tls->hsts_max_age &&
            std::find(runtime.header_names.begin(), runtime.header_names.end(),
                      "strict-transport-security") == runtime.header_names.end()) {
            runtime.header_block += fmt::format(
                "Strict-Transport-Security: max-age={}{}{}\r\n", site.tls->hsts_max_age->count(),
                site.tls->hsts_include_subdomains ? "; includeSubDomains" : "",
                site.tls->hsts_preload ? "; preload" : "");
            runtime.header_names.emplace_back("strict-transport-security");
        }
        for (const auto& [status, path] : site.error_pages) {
            std::string body;
            if (read_small_file(path, body))
                runtime.error_pages.emplace(status, std::move(body));
            else
                spdlog::warn("cannot read error page {} for {}; using the built-in one",
                             path.string(), status);
        }
        runtime.access_log = log::make_access_log(*config_, site);
        if (site.cors)
            runtime.cors = make_cors_plan(*site.cors);
        if (site.proxy) {
            runtime.upstreams = std::make_unique<proxy::site_upstreams>(*site.proxy, site.name);
            routes_[i].proxy = &*site.proxy;
            keep_fields_ = true;
        }
        spdlog::info("site {} ready: {} on {}, {}", site.name, fmt::join(site.hostnames, ", "),
                     config::listen_address{site.bind, site.port}.to_string(),
                     site.api_only ? std::string("api only (no static files)")
                                   : "root " + site.static_dir.string());
        if (runtime.access_log && std::find(distinct_logs_.begin(), distinct_logs_.end(),
                                            runtime.access_log) == distinct_logs_.end())
            distinct_logs_.push_back(runtime.access_log);
    }

    for (const auto& inherited : listeners) {
        listener_runtime runtime;
        runtime.address = inherited.address;
        std::optional<std::size_t> first, marked;
        for (std::size_t i = 0; i < config_->sites.size(); ++i) {
            const auto& site = config_->sites[i];
            if (site.port != inherited.address.port || site.bind != inherited.address.bind)
                continue;
            for (const auto& name : site.hostnames)
                runtime.vhosts.add_name(name, i);
            if (!first)
                first = i;
            if (site.is_default && !marked)
                marked = i;
        }
        // The loader marks one default per listener; the first site there is the fallback.
        runtime.default_site = marked.value_or(first.value_or(0));
        runtime.vhosts.set_default(runtime.default_site);
        if (first && config_->sites[*first].tls) {
            runtime.tls = make_tls_table(runtime);
            if (!runtime.tls) {
                // Serving plain HTTP on a TLS port would be worse than not serving it.
                listeners_.push_back(std::move(runtime));
                continue;
            }
        }
        auto protocol = inherited.address.bind.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
        runtime.acceptor = std::make_unique<asio::ip::tcp::acceptor>(io_);
        boost::system::error_code ec;
        // dup(): the acceptor owns (and closes) its own descriptor; the inherited one stays
        // with the caller, which may hand it to the next generation.
        runtime.acceptor->assign(protocol, ::dup(inherited.fd), ec);
        if (ec)
            spdlog::error("cannot use listener {}: {}", inherited.address.to_string(),
                          ec.message());
        listeners_.push_back(std::move(runtime));
    }
}

server::~server() {
    stop();
}

void server::start() {
    for (std::size_t i = 0; i < listeners_.size(); ++i)
        do_accept(i);
    sweep_timer_.expires_after(sweep_interval);
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !stopped_)
            on_sweep();
    });
}

void server::do_accept(std::size_t index) {
    auto& listener = listeners_[index];
    if (!listener.acceptor || !listener.acceptor->is_open() || draining_)
        return;
    if (sessions_.size() >= limits().max_connections) {
        // Leave further connections in the kernel's accept queue (where other workers can
        // take them) until this worker has room again.
        accept_paused_ = true;
        return;
    }
    listener.acceptor->async_accept([this, index](boost::system::error_code ec,
                                                  asio::ip::tcp::socket socket) {
        if (ec == asio::error::operation_aborted)
            return;
        if (draining_) {
            // Accepted just before the drain began (the completion was already queued): the
            // client has connected and will send a request, so serve it (with Connection:
            // close) instead of dropping it.
            if (!ec)
                start_session(std::move(socket), index);
            return;
        }
        if (ec) {
            // EMFILE and friends: report (rate-limited) and try again shortly instead of
            // spinning.
            failures_.report(failure_kind::accept, ec, {}, {});
            auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
            timer->async_wait(
                [this, index, timer](boost::system::error_code) { do_accept(index); });
            return;
        }
        start_session(std::move(socket), index);
        do_accept(index);
    });
}

bool server::admit_client(const asio::ip::tcp::socket& socket, net::conn_ticket& ticket) {
    const auto limit = limits().max_connections_per_ip;
    auto* table = net::conn_limit_table::shared();
    if (limit == 0 || table == nullptr)
        return true;
    boost::system::error_code ec;
    auto peer = socket.remote_endpoint(ec);
    if (ec)
        return true; // already gone: the session finds out on its first read
    switch (table->admit(net::client_key(peer.address()), static_cast<std::uint32_t>(limit),
                         net::conn_limit_table::current_owner(), ticket)) {
    case net::admission::admitted:
        return true;
    case net::admission::table_full:
        // Refusing everyone new because the table is full would turn a flood of addresses
        // into an outage: serve uncounted, and say so.
        failures_.report(failure_kind::conn_limit_full,
                         boost::system::errc::make_error_code(boost::system::errc::no_buffer_space),
                         {}, peer.address().to_string(), "serving without a per-address count");
        return true;
    case net::admission::over_limit:
        break;
    }
    failures_.report(failure_kind::conn_limit,
                     boost::system::errc::make_error_code(boost::system::errc::connection_refused),
                     {}, peer.address().to_string(),
                     fmt::format("over max_connections_per_ip = {}", limit));
    return false;
}

void server::start_session(asio::ip::tcp::socket socket, std::size_t listener) {
    // Closed at once when over the limit: a 503 would need a write (and, on TLS, a handshake)
    // that the client is not entitled to.
    net::conn_ticket ticket;
    if (!admit_client(socket, ticket))
        return;
    if (const auto& table = listeners_[listener].tls) {
        auto ssl = table->new_ssl();
        if (!ssl) {
            failures_.report(failure_kind::tls_handshake,
                             boost::system::error_code(ENOMEM, boost::system::system_category()),
                             {}, {});
            return; // the socket closes: nothing can be said without TLS
        }
        auto s = std::make_shared<session<tls_stream>>(
            *this, tls_stream(std::move(socket), std::move(ssl)), listener);
        s->adopt_ticket(std::move(ticket));
        s->start();
        return;
    }
    auto s = std::make_shared<session<plain_stream>>(
        *this, plain_stream(std::move(socket), options_.zero_copy), listener);
    s->adopt_ticket(std::move(ticket));
    s->start();
}

std::unique_ptr<tls::context_table> server::make_tls_table(const listener_runtime& listener) const {
    std::vector<tls::table_site> sites;
    std::size_t default_index = 0;
    bool strict = false;
    for (std::size_t i = 0; i < config_->sites.size(); ++i) {
        const auto& site = config_->sites[i];
        if (site.port != listener.address.port || site.bind != listener.address.bind)
            continue;
        if (!site.tls || !site.tls->context) {
            spdlog::error("listener {}: site {} has no loaded TLS certificate; not serving the "
                          "port",
                          listener.address.to_string(), site.name);
            return nullptr;
        }
        if (i == listener.default_site)
            default_index = sites.size();
        strict = strict || site.tls->strict_sni;
        sites.push_back({i, site.hostnames, site.tls->context});
    }
    if (sites.empty())
        return nullptr;
    return std::make_unique<tls::context_table>(std::move(sites), default_index, strict);
}

bool server::certificate_covers(std::size_t site, const std::string& host) const {
    const auto& tls = config_->sites[site].tls;
    if (!tls || !tls->certificates)
        return false;
    return std::any_of(tls->certificates->begin(), tls->certificates->end(),
                       [&](const tls::certificate& c) { return c.covers_host(host); });
}

std::optional<std::uint16_t> server::https_port(std::string_view host) const {
    for (const auto& listener : listeners_)
        if (listener.tls)
            if (listener.vhosts.find(host))
                return listener.address.port;
    return std::nullopt;
}

std::map<std::string, std::uint64_t> server::failure_counts() const {
    auto out = failures_.counts();
    for (const auto& site : sites_)
        if (site.tls_handshake_failures > 0)
            out["tls_handshake:" + site.config->name] = site.tls_handshake_failures;
    return out;
}

template <class F>
void server::for_each_session(F&& f) {
    // Snapshot first: acting on a session can close and unregister it while we iterate.
    std::vector<std::weak_ptr<session_base>> all;
    all.reserve(sessions_.size());
    for (auto* s : sessions_)
        all.push_back(s->weak_from_this());
    for (auto& weak : all)
        if (auto s = weak.lock())
            f(*s);
}

void server::on_sweep() {
    auto now = clock::now();
    for_each_session([now](session_base& s) {
        if (s.deadline() <= now)
            s.on_deadline();
        else if (s.park_at() <= now)
            s.park();
    });
    // Read buffers given up since the last sweep (parked or closed connections) leave RAM,
    // but for a few for the next connections.
    read_block_pool::shared().release_idle(read_blocks_kept);
    if (trim_policy_.should_trim(sessions_.size())) {
        const auto start = clock::now();
        const bool released = sys::release_free_heap();
        spdlog::debug(
            "{} connections open: freed heap memory {} in {} us", sessions_.size(),
            released ? "given back" : "kept (nothing to give back)",
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start).count());
    }
    flush_logs();
    for (auto& site : sites_)
        if (site.upstreams)
            site.upstreams->prune(now);
    sweep_timer_.expires_after(sweep_interval);
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !stopped_)
            on_sweep();
    });
}

void server::drain(std::function<void()> on_drained, bool close_idle) {
    if (draining_) {
        if (close_idle && !close_idle_) {
            close_idle_ = true;
            for_each_session([](session_base& s) { s.on_drain(true); });
        }
        return;
    }
    draining_ = true;
    close_idle_ = close_idle;
    on_drained_ = std::move(on_drained);
    for (auto& listener : listeners_) {
        boost::system::error_code ec;
        if (listener.acceptor)
            listener.acceptor->close(ec);
    }
    for_each_session([close_idle](session_base& s) { s.on_drain(close_idle); });
    check_drained();
}

void server::check_drained() {
    if (draining_ && sessions_.empty() && on_drained_) {
        // Re-check when the post runs: an accept completion queued before the drain may have
        // started a session in between.
        asio::post(io_, [this] {
            if (draining_ && sessions_.empty() && on_drained_) {
                auto callback = std::move(on_drained_);
                on_drained_ = nullptr;
                callback();
            }
        });
    }
}

void server::close_tunnels() {
    std::size_t closed = 0;
    for_each_session([&closed](session_base& s) {
        if (s.tunneling()) {
            s.close();
            ++closed;
        }
    });
    if (closed > 0)
        spdlog::info("closed {} upgraded connection(s) at tunnel_drain_timeout", closed);
}

void server::stop() {
    draining_ = true;
    stopped_ = true;
    boost::system::error_code ec;
    sweep_timer_.cancel();
    for (auto& listener : listeners_)
        if (listener.acceptor)
            listener.acceptor->close(ec);
    for_each_session([](session_base& s) { s.close(); });
    flush_logs();
}

std::list<session_base*>::iterator server::register_session(session_base* s) {
    metrics::count_connection(1);
    return sessions_.insert(sessions_.end(), s);
}

void server::unregister_session(std::list<session_base*>::iterator position) {
    metrics::count_connection(-1);
    sessions_.erase(position);
    if (accept_paused_ && !draining_ && sessions_.size() < limits().max_connections) {
        accept_paused_ = false;
        for (std::size_t i = 0; i < listeners_.size(); ++i)
            do_accept(i);
    }
    check_drained();
}

std::size_t server::default_site(std::size_t listener) const {
    return listeners_[listener].default_site;
}

const std::string& server::date_header() {
    auto now = std::time(nullptr);
    if (now != date_second_) {
        date_second_ = now;
        date_header_ = "Date: ";
        date_header_ += files::format_http_date(now);
        date_header_ += "\r\n";
    }
    return date_header_;
}

std::string server::next_request_id() {
    return fmt::format("{:x}-{:x}", static_cast<unsigned>(::getpid()), ++request_counter_);
}

void server::flush_logs() {
    for (auto& log : distinct_logs_)
        log->flush();
}

} // namespace bws::http
