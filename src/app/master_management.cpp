// The master's answers to the management API: /metrics from the shared metrics region,
// /api/status from the status view, /api/config/reload through the reload machine (answered
// when the reload finishes, like `bws --reload`), /api/config/check by loading the file.
#include "app/master_process.hpp"
#include "config/diff.hpp"
#include "config/load.hpp"
#include "metrics/exposition.hpp"
#include "metrics/shared_metrics.hpp"
#include "net/listeners.hpp"
#include "net/unix_listener.hpp"
#include "tls/certificate.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace bws::app::detail {

namespace {

management_reply json_reply(unsigned status, const boost::json::value& body) {
    management_reply reply;
    reply.status = status;
    reply.body = boost::json::serialize(body) + "\n";
    return reply;
}

boost::json::array texts(const std::vector<std::string>& lines) {
    boost::json::array out;
    for (const auto& l : lines)
        out.emplace_back(l);
    return out;
}

// The certificates a TLS site serves, as loaded for the running configuration, with the time
// left: what a monitor needs to warn before one expires.
boost::json::array certificates_of(const config::site_tls& tls) {
    boost::json::array out;
    if (!tls.certificates)
        return out;
    const auto now = std::chrono::system_clock::now();
    for (const auto& c : *tls.certificates) {
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(c.not_after() - now);
        boost::json::object o;
        o["cert_file"] = c.files().cert_file.string();
        o["subject"] = c.subject();
        o["sha256"] = c.sha256_fingerprint();
        o["not_after"] = c.not_after_text();
        o["seconds_left"] = left.count();      // negative once expired
        o["days_left"] = left.count() / 86400; // whole days, rounded toward zero
        out.push_back(std::move(o));
    }
    return out;
}

} // namespace

void master::register_metrics_sites(const config::snapshot& config) {
    auto* region = metrics::region::shared();
    if (region == nullptr)
        return;
    for (const auto& site : config.sites) {
        if (region->register_site(site.name) == metrics::other_site)
            spdlog::warn("metrics: site '{}' is counted as \"other\" (more than {} site names "
                         "since startup, or a name over {} bytes)",
                         site.name, metrics::max_sites, metrics::max_site_name);
    }
}

bool master::start_management(const worker_identity& identity, std::string& error) {
    const auto& m = options_.config->management;
    if (!m.enabled)
        return true;
    auto handler = [this](const management_request& request, management_server::responder done) {
        on_management(request, std::move(done));
    };
    if (!m.socket.empty()) {
        // The workers' group may use it (the packaged bws group: bws-health-check, admins in
        // it). A forked worker closes its copy when it unwinds the master's objects, and
        // leaves the path alone (net::remove_unix_listener checks who made it).
        const auto group = identity.change ? identity.gid : static_cast<gid_t>(-1);
        auto socket = net::open_unix_listener(m.socket, group, 64, handover_.has_value(), error);
        if (socket.fd < 0) {
            error = "management API: " + error;
            return false;
        }
        management_ = std::make_unique<management_server>(ioc_, socket, m.socket, handler);
        management_->start();
        spdlog::info("management API on unix:{}", m.socket.string());
        return true;
    }
    const config::listen_address address{m.host, m.port};
    const int fd = net::open_listener(address, 64, error);
    if (fd < 0) {
        error = "management API: " + error;
        return false;
    }
    management_ = std::make_unique<management_server>(ioc_, fd, m.host.is_v6(), handler);
    management_->start();
    spdlog::info("management API on http://{}", address.to_string());
    return true;
}

void master::on_management(const management_request& request, management_server::responder done) {
    // The key of the configuration serving now: a reload can change it.
    if (!authorized(request, current_config().management.api_key)) {
        done(json_error(401, "missing or wrong API key (Authorization: Bearer KEY or "
                             "X-API-Key: KEY)"));
        return;
    }
    std::string allow;
    switch (route_management(request.method, request.target, allow)) {
    case management_endpoint::metrics: {
        const auto f = metrics::negotiate(request.accept);
        const auto* region = metrics::region::shared();
        management_reply reply;
        reply.content_type = std::string(metrics::content_type(f));
        reply.body = metrics::render(region != nullptr ? region->scrape() : metrics::totals{}, f,
                                     static_cast<std::uint64_t>(std::time(nullptr)));
        done(std::move(reply));
        return;
    }
    case management_endpoint::status: {
        auto status =
            boost::json::parse(status_json(status_.view(supervisor_.workers(), reloads_)));
        auto& body = status.as_object();
        body["reloading"] = reloads_.pending_generation().has_value() || reloads_.queued();
        boost::json::array sites;
        for (const auto& site : current_config().sites) {
            boost::json::object s;
            s["name"] = site.name;
            s["hostnames"] = texts(site.hostnames);
            s["listen"] = config::listen_address{site.bind, site.port}.to_string();
            s["tls"] = site.tls.has_value();
            if (site.tls)
                s["certificates"] = certificates_of(*site.tls);
            s["proxy"] = site.proxy.has_value();
            sites.push_back(std::move(s));
        }
        body["sites"] = std::move(sites);
        boost::json::array listeners;
        for (const auto& l : current_config().listeners)
            listeners.emplace_back(l.to_string());
        body["listeners"] = std::move(listeners);
        done(json_reply(200, status));
        return;
    }
    case management_endpoint::reload:
        request_reload_for_api(std::move(done));
        return;
    case management_endpoint::check:
        done(check_config_file());
        return;
    case management_endpoint::wrong_method: {
        auto reply = json_error(405, "method " + request.method + " not allowed here");
        reply.allow = allow;
        done(std::move(reply));
        return;
    }
    case management_endpoint::not_found:
        break;
    }
    done(json_error(404, "no such endpoint (GET /metrics, GET /api/status, POST "
                         "/api/config/reload, GET /api/config/check)"));
}

void master::request_reload_for_api(management_server::responder done) {
    if (options_.config_file.empty()) {
        done(json_error(409, "no configuration file to reload (bws serves a directory)"));
        return;
    }
    if (phase_ != phase::running) {
        done(json_error(409, phase_ == phase::starting ? "the server is still starting"
                                                       : "the server is stopping"));
        return;
    }
    if (reloads_.pending_generation() || reloads_.queued() || !reload_waiters_.empty()) {
        done(json_error(409, "a reload is already running"));
        return;
    }
    // Before request(): a reload that fails at once finishes inside it.
    reload_waiters_.push_back(std::move(done));
    reloads_.request();
}

void master::answer_reload_waiters(bool ok) {
    if (reload_waiters_.empty())
        return;
    const auto& last = reloads_.last_reload();
    boost::json::object body;
    body["ok"] = ok;
    body["message"] = last.message;
    body["generation"] = reloads_.generation();
    body["reload_count"] = reloads_.reload_count();
    body["restart_needed"] = texts(last.restart_needed);
    unsigned status = 200;
    if (!ok) {
        // Rejected before any worker started (invalid configuration, a port that cannot be
        // opened): the client can fix that. New workers that failed: the server's side.
        status = reload_rejections_.empty() ? 500 : 422;
        body["errors"] = texts(reload_rejections_);
    }
    auto waiters = std::move(reload_waiters_);
    reload_waiters_.clear();
    for (auto& w : waiters)
        w(json_reply(status, body));
}

management_reply master::check_config_file() const {
    if (options_.config_file.empty())
        return json_error(409, "no configuration file to check (bws serves a directory)");
    const auto loaded = config::load_file(options_.config_file);
    boost::json::object body;
    body["ok"] = loaded.ok();
    body["file"] = options_.config_file.string();
    boost::json::array errors, warnings;
    for (const auto& e : loaded.errors)
        errors.emplace_back(e.to_string());
    for (const auto& w : loaded.warnings)
        warnings.emplace_back(w.to_string());
    body["errors"] = std::move(errors);
    body["warnings"] = std::move(warnings);
    if (loaded.ok())
        body["restart_needed"] =
            texts(config::restart_required_changes(*options_.config, *loaded.config));
    return json_reply(loaded.ok() ? 200 : 422, body);
}

} // namespace bws::app::detail
