// The shared upstream table (see health_table.hpp).
#include "proxy/health_table.hpp"

#include <netinet/in.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace bws::proxy {

namespace {

health_table* mapped = nullptr;

// Health word: state (8 bits) | last result (8) | last status (16) | failures (16) |
// successes (16), counts saturating.
std::uint64_t pack(const health_view& v) {
    const auto clamp = [](unsigned x) { return std::uint64_t{std::min(x, 0xffffu)}; };
    return std::uint64_t{static_cast<std::uint8_t>(v.counter.state)} |
           std::uint64_t{static_cast<std::uint8_t>(v.last)} << 8 | clamp(v.last_status) << 16 |
           clamp(v.counter.failures) << 32 | clamp(v.counter.successes) << 48;
}

health_view unpack(std::uint64_t word) {
    health_view v;
    v.counter.state = static_cast<health_state>(word & 0xff);
    v.last = static_cast<check_result>(word >> 8 & 0xff);
    v.last_status = static_cast<unsigned>(word >> 16 & 0xffff);
    v.counter.failures = static_cast<unsigned>(word >> 32 & 0xffff);
    v.counter.successes = static_cast<unsigned>(word >> 48 & 0xffff);
    return v;
}

} // namespace

std::string_view to_string(health_state state) {
    switch (state) {
    case health_state::unknown:
        return "unknown";
    case health_state::healthy:
        return "healthy";
    case health_state::unhealthy:
        return "unhealthy";
    }
    return "unknown";
}

std::string_view to_string(check_result result) {
    switch (result) {
    case check_result::none:
        return "none";
    case check_result::ok:
        return "ok";
    case check_result::refused:
        return "connection refused";
    case check_result::timeout:
        return "timeout";
    case check_result::bad_status:
        return "status";
    case check_result::bad_response:
        return "not an HTTP response";
    case check_result::error:
        return "network error";
    }
    return "none";
}

bool health_counter::record(bool ok, unsigned threshold) {
    const auto before = state;
    if (ok) {
        failures = 0;
        ++successes;
        if (state == health_state::unknown ||
            (state == health_state::unhealthy && successes >= threshold))
            state = health_state::healthy;
    } else {
        successes = 0;
        ++failures;
        if (state != health_state::unhealthy && failures >= threshold)
            state = health_state::unhealthy;
    }
    return state != before;
}

health_table* health_table::create() {
    void* memory = ::mmap(nullptr, sizeof(health_table), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
        return nullptr;
    // Zero pages are every field's initial value: placement-new writes nothing.
    return new (memory) health_table;
}

health_table* health_table::shared() {
    if (mapped == nullptr)
        mapped = create(); // never unmapped: used until the process exits
    return mapped;
}

const health_table* health_table::existing() {
    return mapped;
}

std::uint64_t health_table::key_of(std::string_view site, std::string_view pool,
                                   std::string_view url) {
    // FNV-1a over the three parts, each followed by a separator byte no name contains.
    std::uint64_t h = 1469598103934665603ull;
    for (std::string_view part : {site, pool, url}) {
        for (unsigned char c : part) {
            h ^= c;
            h *= 1099511628211ull;
        }
        h ^= 0xff;
        h *= 1099511628211ull;
    }
    return h == 0 ? 1 : h;
}

std::uint32_t health_table::claim(std::uint64_t key) {
    if (auto found = find(key); found != no_slot)
        return found;
    for (std::uint32_t i = 0; i < slot_count; ++i) {
        auto& s = slots_[i];
        if (at(s.key).load(std::memory_order_acquire) != 0)
            continue;
        // Only the master writes, so no one else takes the slot meanwhile.
        at(s.health).store(0, std::memory_order_relaxed);
        const auto seq = at(s.sequence).load(std::memory_order_relaxed);
        at(s.sequence).store(seq + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        at(s.count).store(0, std::memory_order_relaxed);
        at(s.sequence).store(seq + 2, std::memory_order_release);
        at(s.key).store(key, std::memory_order_release);
        return i;
    }
    return no_slot;
}

void health_table::release(std::uint32_t slot) {
    if (slot < slot_count)
        at(slots_[slot].key).store(0, std::memory_order_release);
}

void health_table::publish_health(std::uint32_t slot, const health_view& view) {
    if (slot < slot_count)
        at(slots_[slot].health).store(pack(view), std::memory_order_release);
}

void health_table::publish_addresses(std::uint32_t slot,
                                     const std::vector<net::ip_address>& addresses) {
    if (slot >= slot_count)
        return;
    auto& s = slots_[slot];
    const auto n = std::min(addresses.size(), max_addresses);
    const auto seq = at(s.sequence).load(std::memory_order_relaxed);
    at(s.sequence).store(seq + 1, std::memory_order_relaxed); // odd: being written
    std::atomic_thread_fence(std::memory_order_release);
    std::uint64_t families = 0;
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t w[2];
        std::memcpy(w, addresses[i].bytes().data(), sizeof w);
        at(s.words[2 * i]).store(w[0], std::memory_order_relaxed);
        at(s.words[2 * i + 1]).store(w[1], std::memory_order_relaxed);
        if (addresses[i].is_v6())
            families |= std::uint64_t{1} << i;
    }
    at(s.families).store(families, std::memory_order_relaxed);
    at(s.count).store(static_cast<std::uint32_t>(n), std::memory_order_relaxed);
    at(s.sequence).store(seq + 2, std::memory_order_release);
}

std::uint32_t health_table::find(std::uint64_t key) const {
    for (std::uint32_t i = 0; i < slot_count; ++i)
        if (at(slots_[i].key).load(std::memory_order_acquire) == key)
            return i;
    return no_slot;
}

health_view health_table::health(std::uint32_t slot, std::uint64_t key) const {
    if (slot >= slot_count)
        return {};
    const auto& s = slots_[slot];
    const auto word = at(s.health).load(std::memory_order_acquire);
    if (at(s.key).load(std::memory_order_acquire) != key)
        return {};
    return unpack(word);
}

std::optional<std::vector<net::ip_address>>
health_table::addresses(std::uint32_t slot, std::uint64_t key, std::uint32_t& sequence) const {
    if (slot >= slot_count)
        return std::nullopt;
    const auto& s = slots_[slot];
    for (;;) {
        const auto before = at(s.sequence).load(std::memory_order_acquire);
        if (before == sequence || at(s.key).load(std::memory_order_acquire) != key)
            return std::nullopt;
        if (before & 1)
            continue; // the master is writing: it takes a few stores
        const auto n =
            std::min<std::size_t>(at(s.count).load(std::memory_order_relaxed), max_addresses);
        const auto families = at(s.families).load(std::memory_order_relaxed);
        std::uint64_t words[max_addresses * 2];
        for (std::size_t i = 0; i < 2 * n; ++i)
            words[i] = at(s.words[i]).load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (at(s.sequence).load(std::memory_order_relaxed) != before)
            continue; // torn: read again
        if (n == 0)
            return std::nullopt; // nothing published: the configuration's addresses stand
        sequence = before;
        std::vector<net::ip_address> out;
        for (std::size_t i = 0; i < n; ++i) {
            sockaddr_storage storage{};
            const bool v6 = (families >> i) & 1;
            if (v6) {
                auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
                a->sin6_family = AF_INET6;
                std::memcpy(&a->sin6_addr, &words[2 * i], 16);
            } else {
                auto* a = reinterpret_cast<sockaddr_in*>(&storage);
                a->sin_family = AF_INET;
                std::memcpy(&a->sin_addr, &words[2 * i], 4);
            }
            if (auto address = net::ip_address::from_sockaddr(storage))
                out.push_back(address->first);
        }
        return out;
    }
}

} // namespace bws::proxy
