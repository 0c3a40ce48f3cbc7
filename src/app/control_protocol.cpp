// Encoding and decoding control frames (see control_protocol.hpp for the layout).
#include "app/control_protocol.hpp"

namespace bws::app::control {

const char* to_string(kind k) {
    switch (k) {
    case kind::ready:
        return "ready";
    case kind::heartbeat:
        return "heartbeat";
    case kind::reopened:
        return "reopened";
    case kind::drained:
        return "drained";
    case kind::drain:
        return "drain";
    case kind::shutdown:
        return "shutdown";
    case kind::stop:
        return "stop";
    case kind::reopen:
        return "reopen";
    case kind::status:
        return "status";
    }
    return "unknown";
}

namespace {

void put_u32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((v >> shift) & 0xff));
    }
}

void put_u64(std::string& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((v >> shift) & 0xff));
    }
}

// Reads big-endian integers and byte strings off the front of a view; any read past the end
// makes it fail for good.
class reader {
public:
    explicit reader(std::string_view data) : data_(data) {}

    bool u32(std::uint32_t& v) { return integer(v, 4); }
    bool u64(std::uint64_t& v) { return integer(v, 8); }
    bool bytes(std::size_t n, std::string& out) {
        if (n > data_.size()) {
            return false;
        }
        out.assign(data_.substr(0, n));
        data_.remove_prefix(n);
        return true;
    }
    bool done() const { return data_.empty(); }
    std::size_t left() const { return data_.size(); }

private:
    template <typename T>
    bool integer(T& v, std::size_t n) {
        if (n > data_.size()) {
            return false;
        }
        v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v = static_cast<T>((v << 8) | static_cast<unsigned char>(data_[i]));
        }
        data_.remove_prefix(n);
        return true;
    }
    std::string_view data_;
};

std::string frame(kind k, std::string_view body) {
    std::string out;
    out.reserve(frame_header_bytes + body.size());
    put_u32(out, static_cast<std::uint32_t>(body.size() + 1));
    out.push_back(static_cast<char>(k));
    out.append(body);
    return out;
}

std::optional<std::string> bounded_frame(kind k, std::string_view body) {
    if (body.size() > max_frame_bytes - frame_header_bytes) {
        return std::nullopt;
    }
    return frame(k, body);
}

void put_counters(std::string& out, const counters& map) {
    put_u32(out, static_cast<std::uint32_t>(map.size()));
    for (const auto& [name, value] : map) {
        put_u32(out, static_cast<std::uint32_t>(name.size()));
        out.append(name);
        put_u64(out, value);
    }
}

bool get_counters(reader& in, counters& map) {
    std::uint32_t entries = 0;
    if (!in.u32(entries)) {
        return false;
    }
    // Each entry takes at least 12 bytes: a count that cannot fit is garbage, not a reason to
    // loop four billion times.
    if (entries > in.left() / 12) {
        return false;
    }
    for (std::uint32_t i = 0; i < entries; ++i) {
        std::uint32_t length = 0;
        std::string name;
        std::uint64_t value = 0;
        if (!in.u32(length) || !in.bytes(length, name) || !in.u64(value)) {
            return false;
        }
        map[std::move(name)] = value;
    }
    return true;
}

bool is_known(std::uint8_t k) {
    return k >= static_cast<std::uint8_t>(kind::ready) &&
           k <= static_cast<std::uint8_t>(kind::status);
}

// Parses one frame's body for `k`; false when it does not match what `k` carries.
bool parse_body(kind k, std::string_view body, message& out) {
    out = message{};
    out.kind = k;
    switch (k) {
    case kind::heartbeat: {
        reader in(body);
        return get_counters(in, out.site_requests) && get_counters(in, out.failures) && in.done();
    }
    case kind::status:
        out.status.assign(body);
        return true;
    default:
        return body.empty();
    }
}

} // namespace

std::string encode(kind k) {
    return frame(k, {});
}

std::optional<std::string> encode_heartbeat(const counters& site_requests,
                                            const counters& failures) {
    std::string body;
    put_counters(body, site_requests);
    put_counters(body, failures);
    return bounded_frame(kind::heartbeat, body);
}

std::optional<std::string> encode_status(std::string_view json) {
    return bounded_frame(kind::status, json);
}

std::optional<std::string> encode(const message& m) {
    switch (m.kind) {
    case kind::heartbeat:
        return encode_heartbeat(m.site_requests, m.failures);
    case kind::status:
        return encode_status(m.status);
    default:
        return encode(m.kind);
    }
}

void decoder::feed(std::string_view bytes) {
    buffer_.append(bytes);
}

decoder::result decoder::next(message& out, std::string& error) {
    reader header(buffer_);
    std::uint32_t length = 0;
    if (!header.u32(length)) {
        return result::need_more;
    }
    auto fail = [&](std::string why) {
        error = std::move(why);
        buffer_.clear();
        return result::error;
    };
    if (length == 0) {
        return fail("empty control frame");
    }
    if (length > max_frame_bytes - 4) {
        return fail("control frame of " + std::to_string(length) + " bytes exceeds the limit");
    }
    // Checked before the whole frame is in: garbage is dropped now, not after waiting for
    // bytes that will never come.
    if (buffer_.size() > 4 && !is_known(static_cast<std::uint8_t>(buffer_[4]))) {
        return fail("unknown control message kind " +
                    std::to_string(static_cast<unsigned char>(buffer_[4])));
    }
    if (buffer_.size() < 4 + static_cast<std::size_t>(length)) {
        return result::need_more;
    }
    auto k = static_cast<kind>(buffer_[4]);
    std::string_view body(buffer_.data() + frame_header_bytes, length - 1);
    if (!parse_body(k, body, out)) {
        return fail(std::string("malformed control message \"") + to_string(k) + "\"");
    }
    buffer_.erase(0, 4 + static_cast<std::size_t>(length));
    return result::message;
}

} // namespace bws::app::control
