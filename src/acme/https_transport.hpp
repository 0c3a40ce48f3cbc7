// The ACME client's HTTPS transport: one request, one TLS connection, blocking the calling
// thread until the response arrives or the request's time limit passes. Blocking is on purpose:
// ACME is control-plane traffic of a few requests per certificate, run by the master or a
// helper process, never on a worker's event loop, so a private io_context per request keeps
// it simple and bounded (connection reuse is not worth it at this volume).
#pragma once

#include "acme/error.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bws::acme {

struct transport_options {
    std::filesystem::path ca_file; // PEM bundle to verify the server with; empty: system store
    std::chrono::milliseconds timeout{std::chrono::seconds(30)}; // per request, all phases
    std::size_t body_limit = std::size_t{1} << 20;               // a chain is a few KiB
};

struct http_response {
    unsigned status = 0;
    std::string body;
    std::string content_type;
    std::string location;
    std::string replay_nonce;
    std::string retry_after;
    std::vector<std::string> links; // every Link header (alternate chains, terms of service)
};

enum class http_method { get, head, post };

class https_transport {
public:
    // Fails when the CA bundle cannot be read or holds no certificate.
    static result<std::unique_ptr<https_transport>> create(const transport_options& options);
    ~https_transport();
    https_transport(const https_transport&) = delete;
    https_transport& operator=(const https_transport&) = delete;

    // `body` and `content_type` are sent for POST only; `accept` when not empty.
    result<http_response> request(http_method method, std::string_view url,
                                  std::string_view body = {}, std::string_view content_type = {},
                                  std::string_view accept = {});

private:
    struct impl;
    explicit https_transport(std::unique_ptr<impl> state);
    std::unique_ptr<impl> impl_;
};

} // namespace bws::acme
