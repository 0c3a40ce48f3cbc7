// https URL splitting for the ACME transport, and the problem document reader.
#include "acme/problem.hpp"
#include "acme/url.hpp"

#include <gtest/gtest.h>

namespace bws::acme {

TEST(AcmeUrl, SplitsHostPortAndTarget) {
    auto u = parse_https_url("https://acme-v02.api.letsencrypt.org/directory");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->host, "acme-v02.api.letsencrypt.org");
    EXPECT_EQ(u->port, "443");
    EXPECT_EQ(u->target, "/directory");
    EXPECT_FALSE(u->host_is_ip);
    EXPECT_EQ(u->host_header(), "acme-v02.api.letsencrypt.org");

    auto ip = parse_https_url("HTTPS://127.0.0.1:14000/order/abc?x=1#frag");
    ASSERT_TRUE(ip.ok());
    EXPECT_EQ(ip->host, "127.0.0.1");
    EXPECT_EQ(ip->port, "14000");
    EXPECT_EQ(ip->target, "/order/abc?x=1");
    EXPECT_TRUE(ip->host_is_ip);
    EXPECT_EQ(ip->host_header(), "127.0.0.1:14000");

    auto v6 = parse_https_url("https://[::1]:8443");
    ASSERT_TRUE(v6.ok());
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->target, "/");
    EXPECT_TRUE(v6->host_is_ip);
    EXPECT_EQ(v6->host_header(), "[::1]:8443");
}

TEST(AcmeUrl, RefusesWhatIsNotAPlainHttpsUrl) {
    for (const char* bad :
         {"http://ca.test/dir", "ca.test/dir", "https://", "https://:443/", "https://user@ca.test/",
          "https://ca.test:0/", "https://ca.test:70000/", "https://ca.test:12a/", "https://[::1/",
          "https://[zz]/", "https://ca test/", "https://ca.test\r\nX: y/"})
        EXPECT_FALSE(parse_https_url(bad).ok()) << bad;
}

TEST(AcmeProblem, ReadsTypeDetailAndSubproblems) {
    http_response res;
    res.status = 403;
    res.content_type = "application/problem+json";
    res.body =
        R"({"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"no",)"
        R"("subproblems":[{"type":"urn:ietf:params:acme:error:caa","detail":"CAA forbids"}]})";
    const acme::error e = problem_error("newOrder", res);
    EXPECT_EQ(e.http_status, 403U);
    EXPECT_EQ(e.type, "urn:ietf:params:acme:error:rejectedIdentifier");
    EXPECT_EQ(e.detail, "no; CAA forbids");
    EXPECT_TRUE(is_problem(e, "rejectedIdentifier"));
    EXPECT_FALSE(is_problem(e, "rejected"));
    EXPECT_EQ(e.to_string(),
              "newOrder (HTTP 403): urn:ietf:params:acme:error:rejectedIdentifier no; CAA forbids");

    res.body = "<html>gateway timeout</html>";
    res.status = 504;
    const acme::error plain = problem_error("GET x", res);
    EXPECT_EQ(plain.http_status, 504U);
    EXPECT_TRUE(plain.type.empty());
}

} // namespace bws::acme
