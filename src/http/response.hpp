// A response as handlers describe it, before the session serialises it: status, headers and a
// body made of in-memory bytes and file slices (file slices go out with sendfile on plain TCP).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bws::content {
class stream_encoder; // content/stream_encoder.hpp
}

namespace bws::http {

// An open, read-only file shared between the file cache and the responses that send it.
class open_file {
public:
    explicit open_file(int fd) noexcept : fd_(fd) {}
    ~open_file();
    open_file(const open_file&) = delete;
    open_file& operator=(const open_file&) = delete;
    int fd() const noexcept { return fd_; }

private:
    int fd_;
};

struct body_piece {
    std::string bytes;               // used when file and shared are null
    std::shared_ptr<open_file> file; // when set: send [offset, offset + length) of it
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    // When set (and file is not): bytes shared with a cache, the whole of them, sent without
    // copying them into every response (compressed bodies, content/compressed_cache.hpp).
    std::shared_ptr<const std::string> shared;
    // When set (with file): the file slice is compressed by it as it is read and goes out in
    // HTTP/1.1 chunked framing, so its size on the wire is not known up front (size() is 0
    // and the response is `streamed`). Shared only to keep body_piece copyable: one
    // response's piece owns it.
    std::shared_ptr<content::stream_encoder> encoder;

    // The in-memory bytes of a piece without a file.
    std::string_view memory() const { return shared ? std::string_view(*shared) : bytes; }
    std::uint64_t size() const {
        if (encoder)
            return 0;
        return file ? length : memory().size();
    }
};

struct response {
    unsigned status = 200;
    // Handler headers. The session adds Date, Server, Connection and Content-Length itself and
    // the site's configured headers after these.
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<body_piece> body;
    // Set by handlers that report an error status without a body of their own: the session
    // fills in the site's error page (or the built-in one).
    bool use_error_page = false;
    // The body follows later (the proxy streams it): the handler's headers carry the
    // framing, so no Content-Length is added.
    bool streamed = false;
    // A 101 that switches protocols: "Connection: Upgrade" instead of keep-alive/close.
    bool upgrade = false;

    std::uint64_t content_length() const {
        std::uint64_t n = 0;
        for (const auto& p : body)
            n += p.size();
        return n;
    }
    void set_header(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
    }
};

} // namespace bws::http
