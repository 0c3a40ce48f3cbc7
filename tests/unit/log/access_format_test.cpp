// Exact combined lines, JSON lines that parse, and the escaping of hostile bytes.
#include "log/access_format.hpp"

#include <boost/json.hpp>
#include <cstdlib>
#include <gtest/gtest.h>

namespace bws::log {
namespace {

using namespace std::chrono;

// Runs the formatting under a fixed TZ and restores the previous one.
class LogAccessFormat : public ::testing::Test {
protected:
    void use_tz(const char* tz) {
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    void SetUp() override {
        if (const char* tz = std::getenv("TZ"))
            saved_ = tz;
        use_tz("UTC0");
    }
    void TearDown() override {
        if (saved_)
            ::setenv("TZ", saved_->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }

    static access_record sample(system_clock::time_point time) {
        access_record r;
        r.time = time;
        r.site = "main";
        r.client_address = "192.0.2.7";
        r.method = "GET";
        r.target = "/index.html?q=1";
        r.status = 200;
        r.bytes_sent = 5123;
        r.duration = microseconds(1234);
        r.user_agent = "curl/8.0";
        r.referer = "https://example.com/";
        r.request_id = "7f3a";
        return r;
    }

    std::optional<std::string> saved_;
};

// 2026-11-28T18:20:01.123Z
const auto t0 = system_clock::time_point(seconds(1795890001)) + milliseconds(123);

TEST_F(LogAccessFormat, CombinedLineIsExact) {
    std::string out;
    append_combined(out, sample(t0));
    EXPECT_EQ(out, "192.0.2.7 - - [28/Nov/2026:18:20:01 +0000] \"GET /index.html?q=1 HTTP/1.1\" "
                   "200 5123 \"https://example.com/\" \"curl/8.0\"\n");
}

TEST_F(LogAccessFormat, CombinedEmptyFieldsZeroBytesAndOffset) {
    use_tz("EST5"); // a second not formatted before, so the per-second cache is fresh
    auto r = sample(t0 + seconds(3600));
    r.bytes_sent = 0;
    r.status = 304;
    r.referer = "";
    r.user_agent = "";
    r.version_minor = 0;
    std::string out;
    append_combined(out, r);
    EXPECT_EQ(out, "192.0.2.7 - - [28/Nov/2026:14:20:01 -0500] \"GET /index.html?q=1 HTTP/1.0\" "
                   "304 0 \"-\" \"-\"\n");
}

TEST_F(LogAccessFormat, CombinedEscapesQuotesBackslashControlAndHighBytes) {
    auto r = sample(t0);
    r.target = "/a\"b\\c\n\x01\xc3\xa9";
    r.user_agent = "x\" \"y";
    std::string out;
    append_combined(out, r);
    EXPECT_NE(out.find("\"GET /a\\x22b\\x5cc\\x0a\\x01\\xc3\\xa9 HTTP/1.1\""), std::string::npos)
        << out;
    EXPECT_NE(out.find("\"x\\x22 \\x22y\"\n"), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST_F(LogAccessFormat, JsonLineParsesWithAllFields) {
    std::string out;
    append_json(out, sample(t0));
    ASSERT_EQ(out.back(), '\n');
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
    const auto value = boost::json::parse(out);
    const auto& o = value.as_object();
    EXPECT_EQ(o.at("time").as_string(), "2026-11-28T18:20:01.123+00:00");
    EXPECT_EQ(o.at("site").as_string(), "main");
    EXPECT_EQ(o.at("client").as_string(), "192.0.2.7");
    EXPECT_EQ(o.at("method").as_string(), "GET");
    EXPECT_EQ(o.at("target").as_string(), "/index.html?q=1");
    EXPECT_EQ(o.at("protocol").as_string(), "HTTP/1.1");
    EXPECT_EQ(o.at("status").as_int64(), 200);
    EXPECT_EQ(o.at("bytes").as_int64(), 5123);
    EXPECT_DOUBLE_EQ(o.at("duration_ms").as_double(), 1.234);
    EXPECT_EQ(o.at("user_agent").as_string(), "curl/8.0");
    EXPECT_EQ(o.at("referer").as_string(), "https://example.com/");
    EXPECT_EQ(o.at("request_id").as_string(), "7f3a");
    EXPECT_EQ(o.size(), 12u);
}

TEST_F(LogAccessFormat, TlsFieldsInJsonAndTheClientSubjectAsRemoteUser) {
    auto r = sample(t0);
    r.tls_version = "TLSv1.3";
    r.tls_cipher = "TLS_AES_128_GCM_SHA256";
    std::string out;
    append_json(out, r);
    auto o = boost::json::parse(out).as_object();
    EXPECT_EQ(o.at("tls_version").as_string(), "TLSv1.3");
    EXPECT_EQ(o.at("tls_cipher").as_string(), "TLS_AES_128_GCM_SHA256");
    EXPECT_FALSE(o.contains("client_subject"));
    EXPECT_EQ(o.size(), 14u);

    r.client_subject = "CN=alice,O=Example \"Ltd\"";
    out.clear();
    append_json(out, r);
    o = boost::json::parse(out).as_object();
    EXPECT_EQ(o.at("client_subject").as_string(), "CN=alice,O=Example \"Ltd\"");
    out.clear();
    append_combined(out, r);
    EXPECT_EQ(out.rfind("192.0.2.7 - \"CN=alice,O=Example \\x22Ltd\\x22\" [28/Nov/2026:", 0), 0u)
        << out;
}

TEST_F(LogAccessFormat, BasicAuthUserAsRemoteUserAndJsonUser) {
    auto r = sample(t0);
    r.remote_user = "alice";
    std::string out;
    append_combined(out, r);
    EXPECT_EQ(out.rfind("192.0.2.7 - alice [28/Nov/2026:", 0), 0u) << out;
    out.clear();
    append_json(out, r);
    auto o = boost::json::parse(out).as_object();
    EXPECT_EQ(o.at("user").as_string(), "alice");
    r.remote_user = "";
    out.clear();
    append_json(out, r);
    EXPECT_FALSE(boost::json::parse(out).as_object().contains("user"));
}

TEST_F(LogAccessFormat, JsonEscapesQuotesControlCharsAndInvalidUtf8) {
    auto r = sample(t0);
    const std::string hostile = "q\"b\\s\n\r\t\x01\x1f\x7f \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
                                "bad:\xff\xc3(\xed\xa0\x80\xc0\xaf";
    r.user_agent = hostile;
    r.target = std::string_view("/nul\0here", 9);
    std::string out;
    append_json(out, r);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
    boost::system::error_code ec;
    const auto value = boost::json::parse(out, ec);
    ASSERT_FALSE(ec) << out;
    EXPECT_EQ(value.at("user_agent").as_string(),
              "q\"b\\s\n\r\t\x01\x1f\x7f \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 bad:"
              "\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf"
              "\xbd");
    EXPECT_EQ(value.at("target").as_string(), boost::json::string_view("/nul\0here", 9));
    EXPECT_NE(out.find("\\u0001"), std::string::npos);
    EXPECT_NE(out.find("\\\""), std::string::npos);
}

TEST_F(LogAccessFormat, Rfc3339Milliseconds) {
    std::string out;
    append_rfc3339_ms(out, t0 + milliseconds(877));
    EXPECT_EQ(out, "2026-11-28T18:20:02.000+00:00");
    out.clear();
    append_rfc3339_ms(out, system_clock::time_point(seconds(1795890001)) + microseconds(9999));
    EXPECT_EQ(out, "2026-11-28T18:20:01.009+00:00");
}

} // namespace
} // namespace bws::log
