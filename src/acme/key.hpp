// Private keys for ACME: the account key that signs every request and the certificate key a
// CSR carries. Generated with OpenSSL 3's EVP API, kept as PEM (PKCS#8), written to disk with
// mode 0600 atomically (a temporary file in the same directory, then rename) so a crash never
// leaves half a key where the next start would read it.
#pragma once

#include "acme/error.hpp"
#include "tls/openssl_ptr.hpp"

#include <filesystem>
#include <string>

namespace bws::acme {

enum class key_type { ec_p256, rsa2048, rsa3072, rsa4096 };

result<tls::pkey_ptr> generate_key(key_type type);

std::string key_to_pem(EVP_PKEY* key);
result<tls::pkey_ptr> key_from_pem(const std::string& pem);

// Writes `key` as PEM to `path` (mode 0600, replacing any file there only once it is
// complete).
status save_key(EVP_PKEY* key, const std::filesystem::path& path);
result<tls::pkey_ptr> load_key(const std::filesystem::path& path);

// Writes `content` to `path` with `mode`: temp file next to it, fsync, rename.
status write_file_atomically(const std::filesystem::path& path, const std::string& content,
                             unsigned mode);

} // namespace bws::acme
