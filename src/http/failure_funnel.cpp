// Failure funnel (see failure_funnel.hpp). The rate limit is log::failure_report's, one per
// category, so a flood of one kind of error cannot hide the first report of another.
#include "http/failure_funnel.hpp"

#include "log/context.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>

namespace bws::http {

namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(failure_kind::count_)> names{
    "accept",     "peer_read",       "peer_write",      "file_read", "file_shrank", "tls_handshake",
    "conn_limit", "conn_limit_full", "rate_limit_full", "upstream",  "compress"};

} // namespace

std::string_view failure_name(failure_kind kind) {
    return names[static_cast<std::size_t>(kind)];
}

failure_funnel::failure_funnel(clock::duration report_interval) {
    for (std::size_t i = 0; i < kinds; ++i)
        limits_[i] = std::make_unique<log::failure_report>(std::string(names[i]), report_interval);
}

bool failure_funnel::is_benign(const boost::system::error_code& ec) {
    namespace error = boost::asio::error;
    if (ec == error::eof || ec == error::operation_aborted ||
        ec == boost::beast::http::error::end_of_stream)
        return true;
    if (ec.category() != boost::system::system_category())
        return false;
    switch (ec.value()) {
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
    case ETIMEDOUT:
    case ECONNABORTED:
    case ECANCELED:
        return true;
    default:
        return false;
    }
}

void failure_funnel::report(failure_kind kind, const boost::system::error_code& ec,
                            std::string_view site, std::string_view peer, std::string_view detail) {
    const auto name = failure_name(kind);
    const bool from_peer = kind == failure_kind::peer_read || kind == failure_kind::peer_write ||
                           kind == failure_kind::tls_handshake;
    if (from_peer && is_benign(ec)) {
        spdlog::debug("{} {}: {}", peer, name, ec.message());
        return;
    }
    const auto index = static_cast<std::size_t>(kind);
    ++counts_[index];
    std::uint64_t unreported = 0;
    if (!limits_[index]->admit(1, unreported))
        return;
    log::site_scope scope(site);
    // A failing accept() means this worker cannot take connections: an error, not a warning.
    const auto level = kind == failure_kind::accept ? spdlog::level::err : spdlog::level::warn;
    std::string what = ec.message();
    if (!detail.empty()) {
        what += ": ";
        what += detail;
    }
    if (unreported > 1)
        spdlog::log(level, "{} {}: {} ({} more since the last report)", peer.empty() ? "-" : peer,
                    name, what, unreported - 1);
    else
        spdlog::log(level, "{} {}: {}", peer.empty() ? "-" : peer, name, what);
}

std::map<std::string, std::uint64_t> failure_funnel::counts() const {
    std::map<std::string, std::uint64_t> out;
    for (std::size_t i = 0; i < kinds; ++i)
        if (counts_[i] != 0)
            out.emplace(std::string(names[i]), counts_[i]);
    return out;
}

} // namespace bws::http
