// What an ACME operation returns: a value or an error carrying, when the server sent one, the
// RFC 8555 §6.7 problem document's `type` and `detail` and the HTTP status. The library never
// lets an exception escape; the caller decides whether to log, retry or give up.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace bws::acme {

struct error {
    std::string what;         // what failed, in our words ("newOrder", "connect to ...")
    unsigned http_status = 0; // 0 when no HTTP response was involved
    std::string type;         // problem type, e.g. "urn:ietf:params:acme:error:badNonce"
    std::string detail;       // the server's human-readable detail

    // One line for a log: what, then status, type and detail when present.
    std::string to_string() const;
};

// A value or an error (std::expected is C++23).
template <class T>
class result {
public:
    result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    result(acme::error e) : v_(std::in_place_index<1>, std::move(e)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    const acme::error& error() const& { return std::get<1>(v_); }
    acme::error&& error() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, acme::error> v_;
};

// For operations that return nothing but can fail.
struct done {};
using status = result<done>;

// The text of OpenSSL's most recent error queue entry, after `what`, with the queue cleared.
acme::error openssl_error(const std::string& what);

} // namespace bws::acme
