// Fuzz target: the request-head parser fed as the session feeds it, in one piece and split at an
// input-dependent point and inside the first CRLF; the outcome must not depend on the split.
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace {

using bws::fuzz::parse_like_session;

struct run {
    bws::http::request_parser parser;
    std::string buffer;
    bws::fuzz::parse_outcome outcome;
    explicit run(const bws::config::limits& limits) : parser(limits) {}
};

// A split point that every mutation moves: FNV-1a of the input, modulo its length + 1.
std::size_t split_point(std::string_view in) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : in)
        h = (h ^ c) * 16777619u;
    return in.empty() ? 0 : h % (in.size() + 1);
}

void check_same(run& a, run& b, std::size_t at) {
    // Beast reports a malformed head as soon as it sees it in one piece, but after a short
    // first read it waits for the whole head: only compare outcomes where both runs ended.
    auto ended = [](const run& r) {
        return r.outcome.complete || r.outcome.body_refused || r.outcome.error_status != 0;
    };
    if (!ended(a) || !ended(b))
        return;
    // A head both too large and malformed: whether Beast meets the limit or the bad byte first
    // depends on the reads (it checks the size of the whole head once it has found its end).
    auto limit = [](unsigned s) { return s == 413 || s == 414 || s == 431; };
    if (a.outcome.error_status != 0 && b.outcome.error_status != 0 &&
        (limit(a.outcome.error_status) || limit(b.outcome.error_status)))
        return;
    if (a.outcome.complete != b.outcome.complete ||
        a.outcome.error_status != b.outcome.error_status)
        std::fprintf(stderr, "whole: complete %d status %u; split at %zu: complete %d status %u\n",
                     a.outcome.complete, a.outcome.error_status, at, b.outcome.complete,
                     b.outcome.error_status);
    BWS_FUZZ_CHECK(a.outcome.complete == b.outcome.complete);
    BWS_FUZZ_CHECK(a.outcome.body_refused == b.outcome.body_refused);
    BWS_FUZZ_CHECK(a.outcome.error_status == b.outcome.error_status);
    if (!a.outcome.complete && !a.outcome.body_refused)
        return;
    const auto& x = a.parser.head();
    const auto& y = b.parser.head();
    BWS_FUZZ_CHECK(x.method == y.method && x.method_string == y.method_string);
    BWS_FUZZ_CHECK(x.target == y.target && x.version == y.version);
    BWS_FUZZ_CHECK(x.host == y.host && x.host_seen == y.host_seen);
    BWS_FUZZ_CHECK(x.connection_close == y.connection_close);
    BWS_FUZZ_CHECK(x.connection_keep_alive == y.connection_keep_alive);
    BWS_FUZZ_CHECK(x.range == y.range && x.if_range == y.if_range);
    BWS_FUZZ_CHECK(x.if_none_match == y.if_none_match && x.if_match == y.if_match);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bws::config::limits limits; // the defaults, as without a [server.limits]
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    run whole(limits);
    whole.outcome = parse_like_session(whole.parser, whole.buffer, in);
    if (whole.outcome.complete || whole.outcome.body_refused) {
        const auto& head = whole.parser.head();
        BWS_FUZZ_CHECK(!head.target.empty());
        BWS_FUZZ_CHECK(head.version == 10 || head.version == 11);
        BWS_FUZZ_CHECK(head.target.size() <= limits.max_uri_bytes);
    }

    const auto at = split_point(in);
    run split(limits);
    split.outcome = parse_like_session(split.parser, split.buffer, in.substr(0, at), in.substr(at));
    check_same(whole, split, at);

    if (auto crlf = in.find("\r\n"); crlf != std::string_view::npos) {
        run cut(limits);
        cut.outcome =
            parse_like_session(cut.parser, cut.buffer, in.substr(0, crlf + 1), in.substr(crlf + 1));
        check_same(whole, cut, crlf + 1);
    }
    return 0;
}
