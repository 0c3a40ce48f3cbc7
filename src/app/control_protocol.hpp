// The master <-> worker control protocol: every message kind, its encoding and its decoding,
// used by both sides (supervisor.cpp in the master, worker.cpp in the worker).
//
// The channel is an AF_UNIX SOCK_SEQPACKET socketpair, so a send is atomic and one packet holds
// whole frames; the framing still makes every frame self-delimiting and bounded, so a decoder
// copes with frames split across reads or several in one read, and rejects garbage instead of
// guessing. A frame is
//     u32 length (big-endian, of what follows)   u8 kind   body
// and a body is empty, raw bytes (status JSON), or for a heartbeat two counter maps, each
//     u32 entries, then per entry: u32 name length, name bytes, u64 value (big-endian).
// Names are bytes: spaces, '=', newlines, NUL and non-UTF-8 all round-trip.
//
//   worker -> master  ready       all listeners accepting
//                     heartbeat   every second: liveness, requests per site, failures per
//                                 category
//                     reopened    log files reopened after "reopen"
//                     drained     no connections left, about to exit 0
//   master -> worker  drain       (reload) stop accepting, finish in-flight, answer each
//                                 keep-alive connection's next request with Connection: close
//                     shutdown    (graceful stop) the same, idle keep-alive closed at once
//                     stop        exit now
//                     reopen      reopen log files
//                     status      the master's view (JSON), for /health/detailed
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace bws::app::control {

enum class kind : std::uint8_t {
    ready = 1,
    heartbeat,
    reopened,
    drained,
    drain,
    shutdown,
    stop,
    reopen,
    status,
};
const char* to_string(kind k);

using counters = std::map<std::string, std::uint64_t>;

struct message {
    control::kind kind = kind::ready;
    counters site_requests; // heartbeat: requests served per site
    counters failures;      // heartbeat: failures per category
    std::string status;     // status: the master's JSON view
};

// The largest frame either side sends or accepts, header included. Both ends read with a
// buffer this big; it stays below the default AF_UNIX send buffer, so a send never fails with
// EMSGSIZE for a frame the encoder accepted.
constexpr std::size_t max_frame_bytes = 128 * 1024;
constexpr std::size_t frame_header_bytes = 5; // length + kind

// Encoders return nullopt when the frame would exceed max_frame_bytes.
// A message without a body (ready, reopened, drained, drain, shutdown, stop, reopen).
std::string encode(kind k);
std::optional<std::string> encode_heartbeat(const counters& site_requests,
                                            const counters& failures);
std::optional<std::string> encode_status(std::string_view json);
// Any message; what `kind` does not use is ignored.
std::optional<std::string> encode(const message& m);

// Reassembles frames from whatever the reads deliver.
class decoder {
public:
    enum class result { message, need_more, error };

    void feed(std::string_view bytes);
    // The next complete message into `out`. On error (oversize, unknown kind, a body that does
    // not parse) `error` says why and everything buffered is dropped: on a packet channel the
    // next read starts a new frame.
    result next(message& out, std::string& error);
    std::size_t buffered() const { return buffer_.size(); }

private:
    std::string buffer_;
};

} // namespace bws::app::control
