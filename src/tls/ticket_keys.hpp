// Session-ticket keys shared by every worker: made by the master (random, never on disk) in a
// MAP_SHARED anonymous mapping created before fork, rotated by the master, read by the workers'
// ticket callback without locks (a sequence counter), so a ticket issued by one worker resumes
// on any other and on the next generation's contexts.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace bws::tls {

class ticket_keys {
public:
    struct key {
        std::array<unsigned char, 16> name;     // sent in the clear inside the ticket
        std::array<unsigned char, 32> aes_key;  // AES-256-CBC
        std::array<unsigned char, 32> hmac_key; // HMAC-SHA256
    };
    // A consistent view of both keys.
    struct view {
        key current;
        key previous;
        std::uint64_t generation; // number of rotations so far
    };

    // Maps the shared block and fills both slots with fresh random keys. Call in the master
    // before forking; returns nullptr with `error` set when mmap or the RNG fails.
    // `rotation_interval` is also the ticket lifetime given to the contexts: a ticket stays
    // decryptable for one more interval after the key that made it became the previous one.
    static std::unique_ptr<ticket_keys> create(std::chrono::seconds rotation_interval,
                                               std::string& error);
    ~ticket_keys();
    ticket_keys(const ticket_keys&) = delete;
    ticket_keys& operator=(const ticket_keys&) = delete;

    // Master only: the current key becomes the previous one, a new random key is current.
    // Workers see the change on their next handshake. False when the RNG fails (keys unchanged).
    bool rotate();

    view read() const;
    std::chrono::seconds rotation_interval() const noexcept { return interval_; }

    // Installs the ticket callback and lifetime on `ctx`; `this` must outlive the context.
    void attach(SSL_CTX* ctx) const;

private:
    static constexpr std::size_t key_words = sizeof(key) / sizeof(std::uint64_t);
    static_assert(sizeof(key) % sizeof(std::uint64_t) == 0);
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

    // Lives in the shared mapping; words are atomics so a reader racing a rotation is defined
    // behaviour and simply retries.
    struct shared_block {
        std::atomic<std::uint64_t> sequence; // odd while the master writes
        std::atomic<std::uint64_t> generation;
        std::atomic<std::uint64_t> words[2 * key_words]; // current, then previous
    };

    ticket_keys(shared_block* block, std::chrono::seconds interval)
        : block_(block), interval_(interval) {}
    void store(const key& current, const key& previous, std::uint64_t generation);

    shared_block* block_;
    std::chrono::seconds interval_;
};

// The rotation interval (and ticket lifetime) of shared_ticket_keys().
inline constexpr std::chrono::seconds shared_rotation_interval = std::chrono::hours(12);

// The one set of keys of the process, made on the first call: the config loader asks for it
// when it builds the site contexts in the master, before any fork, so every worker and every
// generation of contexts after a reload share the same mapping. nullptr when the keys cannot be
// made (nothing is logged; contexts built with nullptr issue no tickets).
const ticket_keys* shared_ticket_keys();

// Master only, called from its periodic tick: rotates shared_ticket_keys() once
// shared_rotation_interval has passed since the first call or the last rotation, so a ticket
// stays valid for one to two intervals. True when it rotated.
bool rotate_shared_ticket_keys_when_due(std::chrono::steady_clock::time_point now);

} // namespace bws::tls
