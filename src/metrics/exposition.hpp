// The Prometheus text exposition (format 0.0.4) and OpenMetrics 1.0 of a metrics scrape. Pure
// functions of a `totals` value, so they are tested without a server.
#pragma once

#include "metrics/shared_metrics.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace bws::metrics {

enum class format { prometheus, openmetrics };

inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view openmetrics_content_type =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// OpenMetrics when the Accept header names application/openmetrics-text (with a q above 0),
// the Prometheus text format otherwise.
format negotiate(std::string_view accept);
std::string_view content_type(format f);

// A label value with \, " and newline escaped (both formats).
std::string escape_label(std::string_view value);

// `now_s`: the current Unix time, for bws_uptime_seconds.
std::string render(const totals& t, format f, std::uint64_t now_s);

} // namespace bws::metrics
