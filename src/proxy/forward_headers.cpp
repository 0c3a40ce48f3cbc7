// Request-head rewriting for the upstream (see forward_headers.hpp).
#include "proxy/forward_headers.hpp"

#include "http/header_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace bws::proxy {

namespace {

using http::iequals;

constexpr std::string_view hop_by_hop[] = {"connection", "keep-alive", "proxy-connection",
                                           "te",         "trailer",    "transfer-encoding",
                                           "upgrade"};

// Headers the proxy sets itself (framing, Host, the forwarding headers) or handles itself
// (Expect: the front answers 100-continue before it reads the body).
constexpr std::string_view replaced[] = {"host",
                                         "content-length",
                                         "expect",
                                         "x-forwarded-for",
                                         "x-forwarded-proto",
                                         "x-forwarded-host",
                                         "x-real-ip",
                                         "forwarded"};

bool in(std::string_view name, const auto& list) {
    return std::any_of(std::begin(list), std::end(list),
                       [&](std::string_view x) { return iequals(name, x); });
}

// RFC 7239 §6: an IPv6 node is quoted and bracketed; a host with a port is quoted too.
std::string forwarded_node(std::string_view ip) {
    if (ip.find(':') != std::string_view::npos)
        return "\"[" + std::string(ip) + "]\"";
    return std::string(ip);
}

std::string quoted_if_needed(std::string_view value) {
    const bool token = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
    if (token)
        return std::string(value);
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + '"';
}

} // namespace

bool is_trusted(std::string_view client_ip, const net::address_set& trusted) {
    if (trusted.empty())
        return false;
    const auto address = net::ip_address::parse(client_ip);
    return address && trusted.contains(*address);
}

std::vector<std::string> connection_tokens(const header_list& fields) {
    std::vector<std::string> tokens;
    for (const auto& [name, value] : fields) {
        if (!iequals(name, "connection"))
            continue;
        http::for_each_list_item(value, [&](std::string_view token) {
            std::string t(token);
            std::transform(t.begin(), t.end(), t.begin(), http::ascii_lower);
            tokens.push_back(std::move(t));
        });
    }
    return tokens;
}

bool is_hop_by_hop(std::string_view name, const std::vector<std::string>& connection_tokens) {
    if (in(name, hop_by_hop))
        return true;
    return std::any_of(connection_tokens.begin(), connection_tokens.end(),
                       [&](const std::string& t) { return iequals(name, t); });
}

void build_request_head(std::string& out, const forward_request& r,
                        const config::upstream_server& server,
                        const config::proxy_headers& headers) {
    out.clear();
    auto it = std::back_inserter(out);
    fmt::format_to(it, "{} {} HTTP/1.1\r\n", r.method, r.target);
    const std::string_view host =
        headers.preserve_host && !r.host.empty() ? r.host : std::string_view(server.authority);
    fmt::format_to(it, "Host: {}\r\n", host);
    static const header_list none;
    const header_list& fields = r.fields != nullptr ? *r.fields : none;
    const auto tokens = connection_tokens(fields);
    for (const auto& field : fields) {
        // Named references, not a structured binding: clang 14 cannot capture those in lambdas.
        const std::string& name = field.first;
        const std::string& value = field.second;
        if (is_hop_by_hop(name, tokens) || in(name, replaced))
            continue;
        if (std::any_of(headers.remove.begin(), headers.remove.end(),
                        [&](const std::string& x) { return iequals(name, x); }))
            continue;
        if (std::any_of(headers.add.begin(), headers.add.end(),
                        [&](const auto& x) { return iequals(name, x.first); }))
            continue; // the operator's value replaces the client's
        fmt::format_to(it, "{}: {}\r\n", name, value);
    }
    // From a trusted proxy, what it says about the client is kept (repeated fields joined).
    std::string xff, xfp, xfh, xri, fwd;
    if (r.trusted_peer) {
        auto join = [](std::string& to, std::string_view value) {
            if (!to.empty())
                to += ", ";
            to += value;
        };
        for (const auto& field : fields) {
            const auto& name = field.first;
            if (iequals(name, "x-forwarded-for"))
                join(xff, field.second);
            else if (iequals(name, "x-forwarded-proto"))
                join(xfp, field.second);
            else if (iequals(name, "x-forwarded-host"))
                join(xfh, field.second);
            else if (iequals(name, "x-real-ip"))
                join(xri, field.second);
            else if (iequals(name, "forwarded"))
                join(fwd, field.second);
        }
    }
    const std::string_view proto = r.https ? "https" : "http";
    if (headers.add_x_forwarded) {
        // The chain grows by the peer; the original client is the trusted proxy's last word.
        const auto last_hop =
            xff.substr(xff.rfind(',') == std::string::npos ? 0 : xff.rfind(',') + 1);
        const std::string_view real_ip = !xri.empty() ? std::string_view(xri)
                                         : !http::trim_ows(last_hop).empty()
                                             ? http::trim_ows(last_hop)
                                             : r.client_ip;
        if (xff.empty())
            fmt::format_to(it, "X-Forwarded-For: {}\r\n", r.client_ip);
        else
            fmt::format_to(it, "X-Forwarded-For: {}, {}\r\n", xff, r.client_ip);
        fmt::format_to(it, "X-Forwarded-Proto: {}\r\n",
                       xfp.empty() ? proto : std::string_view(xfp));
        if (!xfh.empty())
            fmt::format_to(it, "X-Forwarded-Host: {}\r\n", xfh);
        else if (!r.host.empty())
            fmt::format_to(it, "X-Forwarded-Host: {}\r\n", r.host);
        fmt::format_to(it, "X-Real-IP: {}\r\n", real_ip);
    } else if (r.trusted_peer) {
        for (const auto& [name, value] :
             std::initializer_list<std::pair<std::string_view, std::string_view>>{
                 {"X-Forwarded-For", xff},
                 {"X-Forwarded-Proto", xfp},
                 {"X-Forwarded-Host", xfh},
                 {"X-Real-IP", xri}})
            if (!value.empty())
                fmt::format_to(it, "{}: {}\r\n", name, value);
    }
    if (headers.add_forwarded) {
        out += "Forwarded: ";
        if (!fwd.empty()) {
            out += fwd;
            out += ", ";
        }
        fmt::format_to(it, "for={};proto={}", forwarded_node(r.client_ip), proto);
        if (!r.host.empty())
            fmt::format_to(it, ";host={}", quoted_if_needed(r.host));
        out += "\r\n";
    } else if (!fwd.empty()) {
        fmt::format_to(it, "Forwarded: {}\r\n", fwd);
    }
    for (const auto& [name, value] : headers.add)
        fmt::format_to(it, "{}: {}\r\n", name, value);
    if (!r.upgrade.empty())
        fmt::format_to(it, "Connection: Upgrade\r\nUpgrade: {}\r\n", r.upgrade);
    if (r.content_length)
        fmt::format_to(it, "Content-Length: {}\r\n", *r.content_length);
    else if (r.chunked)
        out += "Transfer-Encoding: chunked\r\n";
    out += "\r\n";
}

} // namespace bws::proxy
