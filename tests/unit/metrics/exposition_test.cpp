// The exposition formats: families, label escaping, cumulative histograms, OpenMetrics rules
// and content negotiation.
#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

namespace bws::metrics {
namespace {

totals sample_totals() {
    totals t;
    site_totals s;
    s.name = "we\"b\\1\nx";
    s.cells.requests[0][1] = 5;                   // GET 2xx
    s.cells.requests[3][4] = 2;                   // other 5xx
    s.cells.duration[0] = 4;                      // <= 5 ms
    s.cells.duration[7] = 2;                      // <= 1 s
    s.cells.duration[duration_bounds.size()] = 1; // > 10 s
    s.cells.duration_sum_us = 12'500'000;
    s.cells.bytes_out = 1234;
    t.sites.push_back(s);
    t.open_connections = 3;
    t.idle_connections = 1;
    t.server.reloads_ok = 2;
    t.server.generation = 3;
    t.server.start_time_s = 1000;
    return t;
}

bool contains(const std::string& text, std::string_view what) {
    return text.find(what) != std::string::npos;
}

TEST(Exposition, EscapesLabelValues) {
    EXPECT_EQ(escape_label("plain"), "plain");
    EXPECT_EQ(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(Exposition, PrometheusTextFormat) {
    const auto text = render(sample_totals(), format::prometheus, 1060);
    const std::string site = "site=\"we\\\"b\\\\1\\nx\"";
    EXPECT_TRUE(contains(text, "# TYPE bws_http_requests_total counter\n"));
    EXPECT_TRUE(contains(text, "# HELP bws_http_requests_total "));
    EXPECT_TRUE(
        contains(text, "bws_http_requests_total{" + site + ",method=\"GET\",status=\"2xx\"} 5\n"));
    EXPECT_TRUE(contains(text, "bws_http_requests_total{" + site +
                                   ",method=\"other\",status=\"5xx\"} 2\n"));
    // Zero series of the request counter are left out; the others are always there.
    EXPECT_FALSE(contains(text, "method=\"POST\""));
    EXPECT_TRUE(contains(text, "bws_http_sent_body_bytes_total{" + site + "} 1234\n"));
    // Cumulative buckets, +Inf equal to the count.
    EXPECT_TRUE(contains(text, "# TYPE bws_http_request_duration_seconds histogram\n"));
    EXPECT_TRUE(
        contains(text, "bws_http_request_duration_seconds_bucket{" + site + ",le=\"0.005\"} 4\n"));
    EXPECT_TRUE(
        contains(text, "bws_http_request_duration_seconds_bucket{" + site + ",le=\"0.5\"} 4\n"));
    EXPECT_TRUE(
        contains(text, "bws_http_request_duration_seconds_bucket{" + site + ",le=\"1\"} 6\n"));
    EXPECT_TRUE(
        contains(text, "bws_http_request_duration_seconds_bucket{" + site + ",le=\"+Inf\"} 7\n"));
    EXPECT_TRUE(contains(text, "bws_http_request_duration_seconds_count{" + site + "} 7\n"));
    EXPECT_TRUE(contains(text, "bws_http_request_duration_seconds_sum{" + site + "} 12.5\n"));
    EXPECT_TRUE(contains(text, "bws_connections_open 3\n"));
    EXPECT_TRUE(contains(text, "bws_reloads_total{outcome=\"success\"} 2\n"));
    EXPECT_TRUE(contains(text, "bws_generation 3\n"));
    EXPECT_TRUE(contains(text, "bws_uptime_seconds 60\n"));
    // No upstream histogram for a site that never proxied.
    EXPECT_FALSE(contains(text, "bws_upstream_duration_seconds_bucket"));
    EXPECT_FALSE(contains(text, "# EOF"));
    EXPECT_EQ(text.back(), '\n');
}

TEST(Exposition, OpenMetricsNamesCounterFamiliesWithoutTotalAndEnds) {
    const auto text = render(sample_totals(), format::openmetrics, 1060);
    EXPECT_TRUE(contains(text, "# TYPE bws_http_requests counter\n"));
    EXPECT_FALSE(contains(text, "# TYPE bws_http_requests_total"));
    EXPECT_TRUE(contains(text, "bws_http_requests_total{site="));
    EXPECT_TRUE(contains(text, "# TYPE bws_connections_open gauge\n"));
    const std::string eof = "# EOF\n";
    ASSERT_GE(text.size(), eof.size());
    EXPECT_EQ(text.substr(text.size() - eof.size()), eof);
}

TEST(Exposition, NegotiatesOpenMetricsOnlyWhenAsked) {
    EXPECT_EQ(negotiate(""), format::prometheus);
    EXPECT_EQ(negotiate("text/plain"), format::prometheus);
    EXPECT_EQ(negotiate("*/*"), format::prometheus);
    EXPECT_EQ(negotiate("application/openmetrics-text; version=1.0.0,text/plain;q=0.5"),
              format::openmetrics);
    EXPECT_EQ(negotiate("Application/OpenMetrics-Text"), format::openmetrics);
    EXPECT_EQ(negotiate("application/openmetrics-text;q=0, text/plain"), format::prometheus);
    EXPECT_EQ(negotiate("application/openmetrics-text;q=0.1"), format::openmetrics);
    EXPECT_EQ(content_type(format::prometheus), "text/plain; version=0.0.4; charset=utf-8");
}

} // namespace
} // namespace bws::metrics
