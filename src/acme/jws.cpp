// JWK, thumbprints and JWS signing (see jws.hpp).
#include "acme/jws.hpp"

#include "acme/base64url.hpp"

#include <boost/json/serialize.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>

#include <array>
#include <memory>

namespace bws::acme {

namespace {

struct bn_deleter {
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
using bn_ptr = std::unique_ptr<BIGNUM, bn_deleter>;
struct md_ctx_deleter {
    void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct ecdsa_sig_deleter {
    void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
};

constexpr int p256_coordinate = 32;

bool is_p256(EVP_PKEY* key) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return false;
    std::array<char, 64> group{};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                       &length) != 1)
        return false;
    const std::string_view name(group.data(), length);
    return name == "prime256v1" || name == "P-256";
}

// A big-endian unsigned integer parameter, left-padded with zeros to `width` bytes when
// width > 0 (EC coordinates are fixed-size), minimal otherwise (RSA n and e).
result<std::string> bn_param(EVP_PKEY* key, const char* name, int width) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1)
        return openssl_error(std::string("key parameter ") + name);
    const bn_ptr bn(raw);
    const int size = width > 0 ? width : BN_num_bytes(bn.get());
    std::string bytes(static_cast<std::size_t>(size), '\0');
    auto* out = reinterpret_cast<unsigned char*>(bytes.data());
    if (BN_bn2binpad(bn.get(), out, size) != size)
        return openssl_error(std::string("key parameter ") + name);
    return bytes;
}

result<std::string> member(const boost::json::object& jwk, std::string_view name) {
    const boost::json::value* v = jwk.if_contains(name);
    if (v == nullptr || !v->is_string() || !is_base64url_token(v->as_string()))
        return acme::error{"JWK: missing or invalid member '" + std::string(name) + "'", 0, {}, {}};
    return std::string(v->as_string());
}

} // namespace

std::string jws_algorithm(EVP_PKEY* key) {
    if (is_p256(key))
        return "ES256";
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
        return "RS256";
    return {};
}

result<boost::json::object> public_jwk(EVP_PKEY* key) {
    boost::json::object jwk;
    if (is_p256(key)) {
        auto x = bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, p256_coordinate);
        auto y = bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, p256_coordinate);
        if (!x.ok())
            return std::move(x).error();
        if (!y.ok())
            return std::move(y).error();
        jwk["crv"] = "P-256";
        jwk["kty"] = "EC";
        jwk["x"] = base64url_encode(x.value());
        jwk["y"] = base64url_encode(y.value());
        return jwk;
    }
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
        auto n = bn_param(key, OSSL_PKEY_PARAM_RSA_N, 0);
        auto e = bn_param(key, OSSL_PKEY_PARAM_RSA_E, 0);
        if (!n.ok())
            return std::move(n).error();
        if (!e.ok())
            return std::move(e).error();
        jwk["e"] = base64url_encode(e.value());
        jwk["kty"] = "RSA";
        jwk["n"] = base64url_encode(n.value());
        return jwk;
    }
    return acme::error{"JWK: the key is neither P-256 nor RSA", 0, {}, {}};
}

result<std::string> jwk_thumbprint(const boost::json::object& jwk) {
    // RFC 7638 §3.2: only the required members, in lexicographic order, no whitespace. The
    // values are base64url (checked), so none needs JSON escaping.
    const boost::json::value* kty = jwk.if_contains("kty");
    std::string canonical;
    if (kty != nullptr && kty->is_string() && kty->as_string() == "EC") {
        auto crv = jwk.if_contains("crv");
        if (crv == nullptr || !crv->is_string() || crv->as_string() != "P-256")
            return acme::error{"JWK: only the P-256 curve is supported", 0, {}, {}};
        auto x = member(jwk, "x");
        auto y = member(jwk, "y");
        if (!x.ok())
            return std::move(x).error();
        if (!y.ok())
            return std::move(y).error();
        canonical =
            R"({"crv":"P-256","kty":"EC","x":")" + x.value() + R"(","y":")" + y.value() + R"("})";
    } else if (kty != nullptr && kty->is_string() && kty->as_string() == "RSA") {
        auto e = member(jwk, "e");
        auto n = member(jwk, "n");
        if (!e.ok())
            return std::move(e).error();
        if (!n.ok())
            return std::move(n).error();
        canonical = R"({"e":")" + e.value() + R"(","kty":"RSA","n":")" + n.value() + R"("})";
    } else {
        return acme::error{"JWK: unsupported key type", 0, {}, {}};
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(canonical.data(), canonical.size(), digest.data(), &size, EVP_sha256(),
                   nullptr) != 1)
        return openssl_error("JWK thumbprint: SHA-256");
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), size));
}

result<std::string> jwk_thumbprint(EVP_PKEY* key) {
    auto jwk = public_jwk(key);
    if (!jwk.ok())
        return std::move(jwk).error();
    return jwk_thumbprint(jwk.value());
}

result<std::string> jws_signature(EVP_PKEY* key, std::string_view input) {
    const std::string alg = jws_algorithm(key);
    if (alg.empty())
        return acme::error{"JWS: the key is neither P-256 nor RSA", 0, {}, {}};
    const std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1)
        return openssl_error("JWS: sign init");
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    std::size_t size = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &size, data, input.size()) != 1)
        return openssl_error("JWS: sign");
    std::string der(size, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &size, data,
                       input.size()) != 1)
        return openssl_error("JWS: sign");
    der.resize(size);
    if (alg == "RS256")
        return der;
    // ECDSA signs as DER SEQUENCE{r, s}; JWS wants r and s as two 32-byte big-endian
    // integers (RFC 7518 §3.4).
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    const std::unique_ptr<ECDSA_SIG, ecdsa_sig_deleter> sig(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    if (!sig)
        return openssl_error("JWS: ECDSA signature decoding");
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::string raw(2 * p256_coordinate, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(r, out, p256_coordinate) != p256_coordinate ||
        BN_bn2binpad(s, out + p256_coordinate, p256_coordinate) != p256_coordinate)
        return openssl_error("JWS: ECDSA signature encoding");
    return raw;
}

result<std::string> sign_jws(EVP_PKEY* key, const jws_signer& signer, std::string_view nonce,
                             std::string_view url, std::string_view payload) {
    boost::json::object header;
    header["alg"] = jws_algorithm(key);
    if (signer.kid.empty()) {
        auto jwk = public_jwk(key);
        if (!jwk.ok())
            return std::move(jwk).error();
        header["jwk"] = std::move(jwk.value());
    } else {
        header["kid"] = signer.kid;
    }
    header["nonce"] = nonce;
    header["url"] = url;
    const std::string protected64 = base64url_encode(boost::json::serialize(header));
    const std::string payload64 = base64url_encode(payload);
    auto signature = jws_signature(key, protected64 + "." + payload64);
    if (!signature.ok())
        return std::move(signature).error();
    boost::json::object jws;
    jws["protected"] = protected64;
    jws["payload"] = payload64;
    jws["signature"] = base64url_encode(signature.value());
    return boost::json::serialize(jws);
}

} // namespace bws::acme
