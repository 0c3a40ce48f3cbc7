// Renders a scrape as Prometheus text 0.0.4 or OpenMetrics 1.0. The two differ where the
// OpenMetrics specification says so: a counter family is named without its "_total" suffix in
// "# TYPE" and "# HELP" (the samples keep it), "# HELP" escapes quotes too, and the exposition
// ends with "# EOF".
#include "metrics/exposition.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>

namespace bws::metrics {

namespace {

constexpr std::string_view method_names[method_classes] = {"GET", "HEAD", "POST", "other"};
constexpr std::string_view status_names[status_classes] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

std::string escape_help(std::string_view text, format f) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && f == format::openmetrics)
            out += "\\\"";
        else
            out += c;
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

class writer {
public:
    explicit writer(format f) : f_(f) {}

    // `name` without "_total" for counters; the suffix is added to samples.
    void family(std::string_view name, std::string_view type, std::string_view help) {
        const bool counter = type == "counter";
        const std::string head =
            counter && f_ == format::prometheus ? std::string(name) + "_total" : std::string(name);
        fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", head,
                       escape_help(help, f_), head, type);
    }
    void sample(std::string_view name, std::string_view labels, std::uint64_t value) {
        fmt::format_to(std::back_inserter(out_), "{}{}{}{} {}\n", name, labels.empty() ? "" : "{",
                       labels, labels.empty() ? "" : "}", value);
    }
    void sample(std::string_view name, std::string_view labels, double value) {
        fmt::format_to(std::back_inserter(out_), "{}{}{}{} {}\n", name, labels.empty() ? "" : "{",
                       labels, labels.empty() ? "" : "}", value);
    }
    void histogram(std::string_view name, std::string_view labels,
                   const std::uint64_t (&buckets)[duration_buckets], std::uint64_t sum_us) {
        std::uint64_t cumulative = 0;
        const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
        const std::string bucket = std::string(name) + "_bucket";
        for (std::size_t i = 0; i < duration_buckets; ++i) {
            cumulative += buckets[i];
            const auto le = i < duration_bounds.size() ? fmt::format("{}", duration_bounds[i])
                                                       : std::string("+Inf");
            sample(bucket, fmt::format("{}le=\"{}\"", prefix, le), cumulative);
        }
        sample(std::string(name) + "_sum", labels, static_cast<double>(sum_us) / 1e6);
        sample(std::string(name) + "_count", labels, cumulative);
    }
    std::string take() {
        if (f_ == format::openmetrics)
            out_ += "# EOF\n";
        return std::move(out_);
    }

private:
    format f_;
    std::string out_;
};

std::string site_label(const site_totals& s) {
    return "site=\"" + escape_label(s.name) + "\"";
}

void per_site(writer& w, const totals& t, std::string_view name, std::string_view help,
              std::uint64_t site_cells::*member) {
    w.family(name, "counter", help);
    for (const auto& s : t.sites)
        w.sample(std::string(name) + "_total", site_label(s), s.cells.*member);
}

} // namespace

format negotiate(std::string_view accept) {
    const auto text = lower(accept);
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos)
            end = text.size();
        std::string_view item(text.data() + start, end - start);
        start = end + 1;
        if (item.find("application/openmetrics-text") == std::string_view::npos)
            continue;
        // A q of 0 refuses the type.
        auto q = item.find("q=");
        if (q != std::string_view::npos) {
            auto value = item.substr(q + 2);
            const bool zero = !value.empty() && value[0] == '0' &&
                              value.find_first_of("123456789") == std::string_view::npos;
            if (zero)
                continue;
        }
        return format::openmetrics;
    }
    return format::prometheus;
}

std::string_view content_type(format f) {
    return f == format::openmetrics ? openmetrics_content_type : prometheus_content_type;
}

std::string escape_label(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string render(const totals& t, format f, std::uint64_t now_s) {
    writer w(f);
    w.family("bws_http_requests", "counter",
             "HTTP requests answered, by site, method class and status class.");
    for (const auto& s : t.sites) {
        for (std::size_t m = 0; m < method_classes; ++m) {
            for (std::size_t c = 0; c < status_classes; ++c) {
                if (s.cells.requests[m][c] == 0)
                    continue;
                w.sample("bws_http_requests_total",
                         fmt::format("{},method=\"{}\",status=\"{}\"", site_label(s),
                                     method_names[m], status_names[c]),
                         s.cells.requests[m][c]);
            }
        }
    }
    per_site(w, t, "bws_http_received_bytes", "Bytes read from clients (heads and bodies).",
             &site_cells::bytes_in);
    per_site(w, t, "bws_http_sent_body_bytes", "Response body bytes sent to clients.",
             &site_cells::bytes_out);
    w.family("bws_http_request_duration_seconds", "histogram",
             "Time from the first byte of a request to the end of its response.");
    for (const auto& s : t.sites)
        w.histogram("bws_http_request_duration_seconds", site_label(s), s.cells.duration,
                    s.cells.duration_sum_us);
    per_site(w, t, "bws_tls_handshakes", "TLS handshakes completed or failed, by site (SNI).",
             &site_cells::tls_handshakes);
    per_site(w, t, "bws_tls_handshake_failures", "TLS handshakes that failed, by site (SNI).",
             &site_cells::tls_failures);
    per_site(w, t, "bws_upstream_requests", "Requests passed to an upstream by the proxy.",
             &site_cells::upstream_requests);
    per_site(w, t, "bws_upstream_failures",
             "Proxied requests that got no response from an upstream.",
             &site_cells::upstream_failures);
    per_site(w, t, "bws_rate_limited_requests",
             "Requests refused with 429 by the rate limit, by site.", &site_cells::rate_limited);
    w.family("bws_upstream_duration_seconds", "histogram",
             "Time from picking an upstream to the end of the proxied response.");
    for (const auto& s : t.sites)
        if (s.cells.upstream_requests != 0)
            w.histogram("bws_upstream_duration_seconds", site_label(s), s.cells.upstream_duration,
                        s.cells.upstream_duration_sum_us);
    w.family("bws_connections_open", "gauge", "Client connections open in all workers.");
    w.sample("bws_connections_open", "", static_cast<std::uint64_t>(t.open_connections));
    w.family("bws_connections_idle", "gauge",
             "Keep-alive connections waiting for a request (sampled once a second).");
    w.sample("bws_connections_idle", "", static_cast<std::uint64_t>(t.idle_connections));
    w.family("bws_log_lines_dropped", "counter",
             "Log lines that could not be written (full disk, journal gone).");
    w.sample("bws_log_lines_dropped_total", "", t.log_lines_dropped);
    w.family("bws_reloads", "counter", "Configuration reloads, by outcome.");
    w.sample("bws_reloads_total", "outcome=\"success\"", t.server.reloads_ok);
    w.sample("bws_reloads_total", "outcome=\"failure\"", t.server.reloads_failed);
    w.family("bws_worker_crashes", "counter", "Workers that exited without being asked to.");
    w.sample("bws_worker_crashes_total", "", t.server.worker_crashes);
    w.family("bws_worker_respawns", "counter", "Workers started to replace one that exited.");
    w.sample("bws_worker_respawns_total", "", t.server.worker_respawns);
    w.family("bws_generation", "gauge", "The worker generation serving (1 + successful reloads).");
    w.sample("bws_generation", "", t.server.generation);
    w.family("bws_start_time_seconds", "gauge", "Unix time the server started.");
    w.sample("bws_start_time_seconds", "", t.server.start_time_s);
    w.family("bws_uptime_seconds", "gauge", "Seconds since the server started.");
    w.sample("bws_uptime_seconds", "",
             now_s > t.server.start_time_s ? now_s - t.server.start_time_s : 0);
    return w.take();
}

} // namespace bws::metrics
