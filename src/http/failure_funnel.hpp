// The one place where a worker's sessions report peer and filesystem errors: benign ones (the
// peer went away, a timeout, our own cancellation) are ignored, every other one is logged with
// site and peer at a bounded rate and counted by category for /health/detailed.
#pragma once

#include "log/failure_report.hpp"

#include <boost/system/error_code.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace bws::http {

enum class failure_kind {
    accept,          // accepting a connection failed (EMFILE, ENOBUFS, ...)
    peer_read,       // reading a request from the peer
    peer_write,      // writing a response (writev, sendfile, the stream's own write)
    file_read,       // reading a file slice for a stream that cannot sendfile
    file_shrank,     // a file ended before the length already promised in Content-Length
    tls_handshake,   // a TLS handshake failed (no shared version or cipher, bad client
                     // certificate, refused SNI); a client that just left is benign
    conn_limit,      // a connection closed at accept: its address was at max_connections_per_ip
    conn_limit_full, // the per-address table had no free slot: admitted without a count
    rate_limit_full, // the rate table had no free slot: the request was served uncounted
    upstream,        // a proxied request's upstream refused, timed out, broke off or answered
                     // with a malformed response
    compress,        // a response compressed as it is sent could not go on (the coder's
                     // library failed: out of memory); the connection closes mid-body
    count_           // number of kinds, not a kind
};

// The category name used in logs and in failure_counts() ("peer_write", ...).
std::string_view failure_name(failure_kind kind);

class failure_funnel {
public:
    using clock = log::failure_report::clock;

    explicit failure_funnel(clock::duration report_interval = std::chrono::seconds(10));

    // Whether `ec` only says that the peer went away or that we cancelled: end of stream,
    // reset, broken pipe, not connected, timeouts, operation_aborted (and a TLS close
    // without close_notify, which the TLS stream reports as end of stream).
    static bool is_benign(const boost::system::error_code& ec);

    // Reports one failure. Benign codes of the peer kinds go to the debug log only (an end of
    // file is the peer leaving, not so for a file that shrank); anything else is counted and
    // logged (under the site's log scope) unless its category was logged less than the
    // interval ago, in which case the next report says how many were left out.
    // `detail`, when given, follows the error's message (e.g. OpenSSL's reason).
    void report(failure_kind kind, const boost::system::error_code& ec, std::string_view site,
                std::string_view peer, std::string_view detail = {});

    // Category -> failures counted so far (benign ones excluded); categories with none are
    // left out.
    std::map<std::string, std::uint64_t> counts() const;

private:
    static constexpr auto kinds = static_cast<std::size_t>(failure_kind::count_);
    std::array<std::uint64_t, kinds> counts_{};
    std::array<std::unique_ptr<log::failure_report>, kinds> limits_;
};

} // namespace bws::http
