// Range parsing and multipart/byteranges framing (see range.hpp).
#include "files/range.hpp"

#include "http/header_text.hpp"

#include <algorithm>
#include <limits>
#include <random>

namespace bws::files {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// One or more digits; saturates instead of overflowing (a huge start is simply unsatisfiable,
// a huge suffix length means the whole file).
bool parse_number(std::string_view s, std::uint64_t& value) {
    if (s.empty())
        return false;
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c))
            return false;
        auto d = static_cast<std::uint64_t>(c - '0');
        v = v > (max - d) / 10 ? max : v * 10 + d;
    }
    value = v;
    return true;
}

// Merges overlapping and adjacent ranges. A merged range takes the place of its first member in
// the request; ranges that touch nothing keep their order.
std::vector<byte_range> coalesce(const std::vector<byte_range>& ranges) {
    if (ranges.size() < 2)
        return ranges;
    std::vector<std::size_t> by_start(ranges.size());
    for (std::size_t i = 0; i < by_start.size(); ++i)
        by_start[i] = i;
    std::sort(by_start.begin(), by_start.end(), [&](std::size_t a, std::size_t b) {
        return ranges[a].first < ranges[b].first || (ranges[a].first == ranges[b].first && a < b);
    });
    struct merged {
        byte_range range;
        std::size_t position; // the smallest request index among its members
    };
    std::vector<merged> groups;
    for (std::size_t i : by_start) {
        const byte_range& r = ranges[i];
        // last < size <= UINT64_MAX, so last + 1 cannot wrap.
        if (!groups.empty() && r.first <= groups.back().range.last + 1) {
            auto& g = groups.back();
            g.range.last = std::max(g.range.last, r.last);
            g.position = std::min(g.position, i);
        } else {
            groups.push_back({r, i});
        }
    }
    std::sort(groups.begin(), groups.end(),
              [](const merged& a, const merged& b) { return a.position < b.position; });
    std::vector<byte_range> out;
    out.reserve(groups.size());
    for (const auto& g : groups)
        out.push_back(g.range);
    return out;
}

} // namespace

range_result parse_range(std::string_view header, std::uint64_t size, std::size_t max_ranges) {
    range_result result;
    header = http::trim_ows(header);
    // An empty file has nothing to slice: every Range gets the whole (empty) body, whatever
    // its ranges, as range.hpp promises.
    if (max_ranges == 0 || size == 0 || !http::istarts_with(header, "bytes="))
        return result;
    std::string_view set = header.substr(6);

    bool any_spec = false;
    std::size_t pos = 0;
    while (pos <= set.size()) {
        std::size_t comma = set.find(',', pos);
        if (comma == std::string_view::npos)
            comma = set.size();
        std::string_view spec = http::trim_ows(set.substr(pos, comma - pos));
        pos = comma + 1;
        if (spec.empty())
            continue; // RFC 9110 §5.6.1: empty list elements do not count
        any_spec = true;

        std::size_t dash = spec.find('-');
        if (dash == std::string_view::npos)
            return {};
        std::string_view first_text = http::trim_ows(spec.substr(0, dash));
        std::string_view last_text = http::trim_ows(spec.substr(dash + 1));
        std::uint64_t start = 0;
        std::uint64_t end = 0; // exclusive
        if (first_text.empty()) {
            std::uint64_t suffix = 0;
            if (!parse_number(last_text, suffix))
                return {};
            start = suffix < size ? size - suffix : 0;
            end = size;
        } else {
            if (!parse_number(first_text, start))
                return {};
            if (last_text.empty()) {
                end = size;
            } else {
                std::uint64_t last = 0;
                if (!parse_number(last_text, last))
                    return {};
                end = last >= size ? size : last + 1;
            }
        }

        if (start < end) {
            if (result.ranges.size() == max_ranges)
                return {};
            result.ranges.push_back({start, end - 1});
        }
    }
    if (!any_spec)
        return {};
    if (result.ranges.empty()) {
        result.outcome = range_outcome::unsatisfiable;
        return result;
    }
    result.ranges = coalesce(result.ranges);
    result.outcome = range_outcome::satisfiable;
    return result;
}

std::string content_range(const byte_range& range, std::uint64_t size) {
    return "bytes " + std::to_string(range.first) + '-' + std::to_string(range.last) + '/' +
           std::to_string(size);
}

std::string unsatisfied_content_range(std::uint64_t size) {
    return "bytes */" + std::to_string(size);
}

std::string make_boundary() {
    // One generator per thread, seeded once: boundaries need to be unpredictable enough not to
    // occur in file data by accident, not cryptographically strong.
    thread_local std::mt19937_64 generator{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string boundary(20, '0');
    std::uint64_t bits = generator();
    std::uint64_t more = generator();
    for (std::size_t i = 0; i < boundary.size(); ++i) {
        std::uint64_t& source = i < 16 ? bits : more;
        boundary[i] = hex[source & 0xf];
        source >>= 4;
    }
    return boundary;
}

std::string multipart_part_header(std::string_view boundary, std::string_view content_type,
                                  const byte_range& range, std::uint64_t size, bool first_part) {
    std::string out;
    out.reserve(boundary.size() + content_type.size() + 80);
    if (!first_part)
        out += "\r\n";
    out += "--";
    out += boundary;
    out += "\r\nContent-Type: ";
    out += content_type;
    out += "\r\nContent-Range: ";
    out += content_range(range, size);
    out += "\r\n\r\n";
    return out;
}

std::string multipart_trailer(std::string_view boundary) {
    std::string out = "\r\n--";
    out += boundary;
    out += "--\r\n";
    return out;
}

} // namespace bws::files
