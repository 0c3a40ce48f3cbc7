// Response-head serialisation and error-page filling.
#include "http/response_head.hpp"

#include <gtest/gtest.h>

namespace {

using namespace bws::http;

class ResponseHead : public ::testing::Test {
protected:
    head_context context() const {
        head_context c;
        c.date_line = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
        c.server_line = "Server: bws/1\r\n";
        c.site_block = site_block_;
        c.site_names = &site_names_;
        return c;
    }
    static response with_body(std::string body) {
        response r;
        body_piece p;
        p.bytes = std::move(body);
        r.body.push_back(std::move(p));
        return r;
    }
    std::string site_block_ = "X-Site: a\r\nCache-Control: no-cache\r\n";
    std::vector<std::string> site_names_{"x-site", "cache-control"};
    std::string out_ = "stale contents";
};

TEST_F(ResponseHead, StatusDateServerHandlerHeadersSiteHeadersLengthConnection) {
    auto r = with_body("hello");
    r.set_header("Content-Type", "text/plain");
    r.set_header("ETag", "\"1\"");
    EXPECT_EQ(serialize_head(out_, r, context(), false), 5u);
    EXPECT_EQ(out_, "HTTP/1.1 200 OK\r\n"
                    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                    "Server: bws/1\r\n"
                    "Content-Type: text/plain\r\n"
                    "ETag: \"1\"\r\n"
                    "X-Site: a\r\n"
                    "Cache-Control: no-cache\r\n"
                    "Content-Length: 5\r\n"
                    "Connection: keep-alive\r\n\r\n");
}

TEST_F(ResponseHead, SiteHeadersOverrideHandlerHeadersCaseInsensitively) {
    auto r = with_body("x");
    r.set_header("cache-CONTROL", "max-age=60");
    r.set_header("Vary", "Accept");
    serialize_head(out_, r, context(), false);
    EXPECT_EQ(out_.find("max-age"), std::string::npos) << out_;
    EXPECT_NE(out_.find("Vary: Accept\r\n"), std::string::npos);
    EXPECT_NE(out_.find("Cache-Control: no-cache\r\n"), std::string::npos);
}

TEST_F(ResponseHead, CloseNoServerAndNoSiteHeaders) {
    auto c = context();
    c.keep_alive = false;
    c.server_line = {};
    c.site_block = {};
    c.site_names = nullptr;
    auto r = with_body("");
    r.status = 404;
    serialize_head(out_, r, c, false);
    EXPECT_EQ(out_, "HTTP/1.1 404 Not Found\r\n"
                    "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                    "Content-Length: 0\r\n"
                    "Connection: close\r\n\r\n");
}

TEST_F(ResponseHead, HeadRequestsKeepTheLengthButSendNoBody) {
    auto r = with_body("twelve bytes");
    EXPECT_EQ(serialize_head(out_, r, context(), true), 0u);
    EXPECT_NE(out_.find("Content-Length: 12\r\n"), std::string::npos);
}

TEST_F(ResponseHead, BodilessStatusesGetNoLengthAndNoBody) {
    for (unsigned status : {204u, 304u}) {
        auto r = with_body("ignored");
        r.status = status;
        EXPECT_EQ(serialize_head(out_, r, context(), false), 0u);
        EXPECT_EQ(out_.find("Content-Length"), std::string::npos) << out_;
    }
}

TEST_F(ResponseHead, AHandlerContentLengthIsNotDoubled) {
    response r;
    r.status = 206;
    r.set_header("Content-Length", "3");
    body_piece file_slice;
    file_slice.file = std::make_shared<open_file>(-1);
    file_slice.length = 3;
    r.body.push_back(file_slice);
    EXPECT_EQ(serialize_head(out_, r, context(), false), 3u);
    EXPECT_EQ(out_.find("Content-Length"), out_.rfind("Content-Length"));
    EXPECT_EQ(out_.rfind("HTTP/1.1 206 Partial Content\r\n", 0), 0u);
}

TEST(ResponseErrorPage, SitePageOrBuiltInOnlyWhenAsked) {
    std::map<unsigned, std::string> pages{{404, "<p>custom</p>"}};
    response r;
    r.status = 404;
    r.use_error_page = true;
    apply_error_page(r, pages);
    ASSERT_EQ(r.body.size(), 1u);
    EXPECT_EQ(r.body[0].bytes, "<p>custom</p>");
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].second, "text/html; charset=utf-8");

    response builtin;
    builtin.status = 500;
    builtin.use_error_page = true;
    apply_error_page(builtin, pages);
    ASSERT_EQ(builtin.body.size(), 1u);
    EXPECT_NE(builtin.body[0].bytes.find("500"), std::string::npos);

    response own;
    own.status = 404;
    own.use_error_page = true;
    own.body.push_back(body_piece{"mine", nullptr, 0, 0, nullptr});
    apply_error_page(own, pages);
    ASSERT_EQ(own.body.size(), 1u);
    EXPECT_EQ(own.body[0].bytes, "mine");

    response plain;
    plain.status = 404;
    apply_error_page(plain, pages);
    EXPECT_TRUE(plain.body.empty());
}

} // namespace
