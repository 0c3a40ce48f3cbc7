// The shared ticket-key block (seqlock over atomics) and the OpenSSL 3 ticket callback.
#include "tls/ticket_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <sys/mman.h>

#include <cstring>

namespace bws::tls {

namespace {

int keys_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

bool random_key(ticket_keys::key& k) {
    return RAND_bytes(k.name.data(), static_cast<int>(k.name.size())) == 1 &&
           RAND_bytes(k.aes_key.data(), static_cast<int>(k.aes_key.size())) == 1 &&
           RAND_bytes(k.hmac_key.data(), static_cast<int>(k.hmac_key.size())) == 1;
}

bool set_hmac_key(EVP_MAC_CTX* hmac, const ticket_keys::key& k) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(
            OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(k.hmac_key.data()), k.hmac_key.size()),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end()};
    return EVP_MAC_CTX_set_params(hmac, params) == 1;
}

// OpenSSL's contract: on encryption fill name/iv and init both contexts, return 1; on
// decryption return 0 for an unknown key (full handshake), 1 for the current key, 2 for the
// previous one (valid, but the client gets a fresh ticket), -1 on internal failure.
int on_ticket_key(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                  EVP_MAC_CTX* hmac, int encrypt) {
    const auto* keys =
        static_cast<const ticket_keys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keys_index()));
    if (keys == nullptr) // a context built without keys: no ticket (encrypt) or no resumption
        return 0;
    const ticket_keys::view v = keys->read();
    const int iv_size = EVP_CIPHER_get_iv_length(EVP_aes_256_cbc());
    if (encrypt) {
        std::memcpy(name, v.current.name.data(), v.current.name.size());
        if (RAND_bytes(iv, iv_size) != 1 ||
            EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, v.current.aes_key.data(), iv) !=
                1 ||
            !set_hmac_key(hmac, v.current))
            return -1;
        return 1;
    }
    const bool is_current = std::memcmp(name, v.current.name.data(), v.current.name.size()) == 0;
    const bool is_previous =
        v.generation > 0 && std::memcmp(name, v.previous.name.data(), v.previous.name.size()) == 0;
    if (!is_current && !is_previous)
        return 0;
    const ticket_keys::key& k = is_current ? v.current : v.previous;
    if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k.aes_key.data(), iv) != 1 ||
        !set_hmac_key(hmac, k))
        return -1;
    return is_current ? 1 : 2;
}

} // namespace

std::unique_ptr<ticket_keys> ticket_keys::create(std::chrono::seconds rotation_interval,
                                                 std::string& error) {
    void* memory = mmap(nullptr, sizeof(shared_block), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        error = std::string("cannot map the session ticket keys: ") + std::strerror(errno);
        return nullptr;
    }
    auto* block = new (memory) shared_block{};
    std::unique_ptr<ticket_keys> keys(new ticket_keys(block, rotation_interval));
    key current{}, previous{};
    if (!random_key(current) || !random_key(previous)) {
        error = "cannot make session ticket keys: the random generator failed";
        return nullptr;
    }
    keys->store(current, previous, 0);
    keys_index(); // allocate the ex_data index before fork, so every worker agrees on it
    return keys;
}

ticket_keys::~ticket_keys() {
    munmap(block_, sizeof(shared_block));
}

void ticket_keys::store(const key& current, const key& previous, std::uint64_t generation) {
    std::uint64_t words[2 * key_words];
    std::memcpy(words, &current, sizeof(key));
    std::memcpy(words + key_words, &previous, sizeof(key));
    const std::uint64_t seq = block_->sequence.load(std::memory_order_relaxed);
    block_->sequence.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    for (std::size_t i = 0; i < 2 * key_words; ++i)
        block_->words[i].store(words[i], std::memory_order_relaxed);
    block_->generation.store(generation, std::memory_order_relaxed);
    block_->sequence.store(seq + 2, std::memory_order_release);
}

bool ticket_keys::rotate() {
    key fresh{};
    if (!random_key(fresh))
        return false;
    const view old = read();
    store(fresh, old.current, old.generation + 1);
    return true;
}

ticket_keys::view ticket_keys::read() const {
    std::uint64_t words[2 * key_words];
    view v{};
    for (;;) {
        const std::uint64_t before = block_->sequence.load(std::memory_order_acquire);
        if (before & 1)
            continue;
        for (std::size_t i = 0; i < 2 * key_words; ++i)
            words[i] = block_->words[i].load(std::memory_order_relaxed);
        v.generation = block_->generation.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (block_->sequence.load(std::memory_order_relaxed) == before)
            break;
    }
    std::memcpy(&v.current, words, sizeof(key));
    std::memcpy(&v.previous, words + key_words, sizeof(key));
    return v;
}

namespace {

ticket_keys* shared_instance() {
    // A function-local static: made once, thread-safely, and never replaced, so the pointer
    // stays valid for contexts kept across reloads.
    static const std::unique_ptr<ticket_keys> keys = [] {
        std::string error;
        return ticket_keys::create(shared_rotation_interval, error);
    }();
    return keys.get();
}

} // namespace

const ticket_keys* shared_ticket_keys() {
    return shared_instance();
}

bool rotate_shared_ticket_keys_when_due(std::chrono::steady_clock::time_point now) {
    static std::chrono::steady_clock::time_point last = now;
    if (now - last < shared_rotation_interval)
        return false;
    ticket_keys* keys = shared_instance();
    if (keys == nullptr || !keys->rotate())
        return false;
    last = now;
    return true;
}

void ticket_keys::attach(SSL_CTX* ctx) const {
    SSL_CTX_set_ex_data(ctx, keys_index(), const_cast<ticket_keys*>(this));
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket_key);
    SSL_CTX_set_timeout(ctx, static_cast<long>(interval_.count()));
}

} // namespace bws::tls
