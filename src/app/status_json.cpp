// Building the status JSON with Boost.JSON.
#include "app/status_json.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <ctime>

namespace bws::app {

std::string rfc3339(std::chrono::system_clock::time_point time) {
    std::time_t t = std::chrono::system_clock::to_time_t(time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

namespace {

std::uint64_t total_requests(const master_view& view) {
    std::uint64_t total = 0;
    for (const auto& [site, n] : view.site_requests) {
        total += n;
    }
    return total;
}

} // namespace

std::string status_json(const master_view& view) {
    boost::json::object root;
    root["master_pid"] = view.master_pid;
    root["generation"] = view.generation;
    boost::json::array workers;
    for (const auto& w : view.workers) {
        boost::json::object failures;
        for (const auto& [category, n] : w.failures) {
            failures[category] = n;
        }
        workers.push_back(boost::json::object{{"pid", w.pid},
                                              {"generation", w.generation},
                                              {"state", w.state},
                                              {"failures", std::move(failures)}});
    }
    root["workers"] = std::move(workers);
    root["reload_count"] = view.reload_count;
    boost::json::object last;
    if (view.last_reload.time) {
        last["time"] = rfc3339(*view.last_reload.time);
        last["result"] = view.last_reload.ok ? "ok" : "failed";
    } else {
        last["time"] = nullptr;
        last["result"] = "none";
    }
    last["message"] = view.last_reload.message;
    boost::json::array restart_needed;
    for (const auto& key : view.last_reload.restart_needed) {
        restart_needed.emplace_back(key);
    }
    last["restart_needed"] = std::move(restart_needed);
    root["last_reload"] = std::move(last);
    boost::json::object requests;
    for (const auto& [site, n] : view.site_requests) {
        requests[site] = n;
    }
    root["requests"] = std::move(requests);
    root["requests_total"] = total_requests(view);
    root["uptime_seconds"] = view.uptime.count();
    root["version"] = view.version;
    root["draining"] = view.draining;
    return boost::json::serialize(root);
}

std::string status_line(const master_view& view) {
    auto plural = [](std::size_t n, const char* word) {
        return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
    };
    return fmt::format("{}serving {} on {}, {}, generation {}, {}",
                       view.draining ? "draining (/health answers 503); " : "",
                       plural(view.site_count, "site"), plural(view.listener_count, "listener"),
                       plural(view.workers.size(), "worker"), view.generation,
                       plural(total_requests(view), "request"));
}

std::string reload_status_line(const master_view& view) {
    const auto& last = view.last_reload;
    std::string text = "reload #" + std::to_string(view.reload_count);
    if (!last.ok) {
        text += " failed: " + last.message;
    } else {
        text += " ok";
        for (std::size_t i = 0; i < last.restart_needed.size(); ++i) {
            text += (i == 0 ? "; restart needed to apply " : ", ") + last.restart_needed[i];
        }
    }
    return text + "; " + status_line(view);
}

} // namespace bws::app
