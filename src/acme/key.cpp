// Key generation, PEM conversion and atomic key files (see key.hpp).
#include "acme/key.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace bws::acme {

namespace {

struct pkey_ctx_deleter {
    void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_deleter>;

unsigned rsa_bits(key_type type) {
    switch (type) {
    case key_type::rsa2048:
        return 2048;
    case key_type::rsa3072:
        return 3072;
    case key_type::rsa4096:
        return 4096;
    case key_type::ec_p256:
        break;
    }
    return 0;
}

acme::error system_error(const std::string& what, int err) {
    return acme::error{what, 0, {}, std::strerror(err)};
}

} // namespace

result<tls::pkey_ptr> generate_key(key_type type) {
    const bool ec = type == key_type::ec_p256;
    pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, ec ? "EC" : "RSA", nullptr));
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0)
        return openssl_error("key generation: init");
    const int set = ec ? EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256")
                       : EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), int(rsa_bits(type)));
    if (set <= 0)
        return openssl_error("key generation: parameters");
    EVP_PKEY* key = nullptr;
    if (EVP_PKEY_generate(ctx.get(), &key) <= 0)
        return openssl_error("key generation");
    return tls::pkey_ptr(key);
}

std::string key_to_pem(EVP_PKEY* key) {
    tls::bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return {};
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    std::string pem(data, static_cast<std::size_t>(size));
    // The memory BIO's copy holds the key too: wipe it before it is freed.
    OPENSSL_cleanse(data, static_cast<std::size_t>(size));
    return pem;
}

result<tls::pkey_ptr> key_from_pem(const std::string& pem) {
    tls::bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio)
        return openssl_error("key: out of memory");
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (key == nullptr)
        return openssl_error("key: not a PEM private key");
    return tls::pkey_ptr(key);
}

status write_file_atomically(const std::filesystem::path& path, const std::string& content,
                             unsigned mode) {
    std::string temp = path.string() + ".tmp.XXXXXX";
    std::vector<char> name(temp.begin(), temp.end());
    name.push_back('\0');
    const int fd = ::mkstemp(name.data()); // created 0600
    if (fd < 0)
        return system_error("create " + temp, errno);
    temp = name.data();
    const auto fail = [&](const std::string& what) {
        const int err = errno;
        ::close(fd);
        ::unlink(temp.c_str());
        return status(system_error(what + " " + temp, err));
    };
    if (::fchmod(fd, static_cast<mode_t>(mode)) != 0)
        return fail("chmod");
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail("write");
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0)
        return fail("fsync");
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return system_error("close " + temp, err);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return system_error("rename to " + path.string(), err);
    }
    return done{};
}

status save_key(EVP_PKEY* key, const std::filesystem::path& path) {
    std::string pem = key_to_pem(key);
    if (pem.empty())
        return openssl_error("key: PEM encoding");
    status saved = write_file_atomically(path, pem, 0600);
    OPENSSL_cleanse(pem.data(), pem.size());
    return saved;
}

result<tls::pkey_ptr> load_key(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return acme::error{"open " + path.string(), 0, {}, std::strerror(errno)};
    std::ostringstream text;
    text << in.rdbuf();
    std::string pem = text.str();
    result<tls::pkey_ptr> key = key_from_pem(pem);
    OPENSSL_cleanse(pem.data(), pem.size());
    if (!key.ok())
        return acme::error{path.string() + ": " + key.error().what, 0, {}, key.error().detail};
    return key;
}

} // namespace bws::acme
