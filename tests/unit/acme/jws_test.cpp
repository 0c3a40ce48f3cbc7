// JWK, RFC 7638 thumbprints and JWS signatures, checked against the RFC's example and by
// verifying what was signed with OpenSSL.
#include "acme/base64url.hpp"
#include "acme/jws.hpp"
#include "acme/key.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

namespace bws::acme {

namespace {

// RFC 7638 §3.1's example RSA key and its thumbprint.
constexpr const char* rfc7638_n =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
    "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
constexpr const char* rfc7638_thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

// The public RSA key (n, e) as an EVP_PKEY.
tls::pkey_ptr rsa_public_key(const std::string& n, const std::string& e) {
    BIGNUM* bn_n =
        BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), int(n.size()), nullptr);
    BIGNUM* bn_e =
        BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), int(e.size()), nullptr);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
    EVP_PKEY* key = nullptr;
    EVP_PKEY_fromdata_init(ctx);
    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return tls::pkey_ptr(key);
}

// Verifies a JWS signature (raw r||s for EC, converted back to DER) over `input`.
bool verifies(EVP_PKEY* key, const std::string& input, const std::string& signature) {
    std::string der = signature;
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        if (signature.size() != 64)
            return false;
        const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
        ECDSA_SIG* sig = ECDSA_SIG_new();
        ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, nullptr), BN_bin2bn(raw + 32, 32, nullptr));
        unsigned char* out = nullptr;
        const int size = i2d_ECDSA_SIG(sig, &out);
        der.assign(reinterpret_cast<const char*>(out), static_cast<std::size_t>(size));
        OPENSSL_free(out);
        ECDSA_SIG_free(sig);
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok =
        EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

} // namespace

TEST(AcmeJws, ThumbprintOfRfc7638Example) {
    boost::json::object jwk{
        {"kty", "RSA"}, {"n", rfc7638_n}, {"e", "AQAB"}, {"alg", "RS256"}, {"kid", "2011-04-29"}};
    auto thumbprint = jwk_thumbprint(jwk);
    ASSERT_TRUE(thumbprint.ok()) << thumbprint.error().to_string();
    EXPECT_EQ(thumbprint.value(), rfc7638_thumbprint);
}

TEST(AcmeJws, JwkOfAnRsaKeyGivesTheRfc7638Thumbprint) {
    const auto key = rsa_public_key(*base64url_decode(rfc7638_n), *base64url_decode("AQAB"));
    ASSERT_TRUE(key);
    auto jwk = public_jwk(key.get());
    ASSERT_TRUE(jwk.ok()) << jwk.error().to_string();
    EXPECT_EQ(jwk->at("n").as_string(), rfc7638_n);
    EXPECT_EQ(jwk->at("e").as_string(), "AQAB");
    EXPECT_EQ(jwk->at("kty").as_string(), "RSA");
    auto thumbprint = jwk_thumbprint(key.get());
    ASSERT_TRUE(thumbprint.ok());
    EXPECT_EQ(thumbprint.value(), rfc7638_thumbprint);
}

TEST(AcmeJws, EcJwkHasFixedSizeCoordinates) {
    auto key = generate_key(key_type::ec_p256);
    ASSERT_TRUE(key.ok());
    auto jwk = public_jwk(key->get());
    ASSERT_TRUE(jwk.ok());
    EXPECT_EQ(jwk->at("crv").as_string(), "P-256");
    EXPECT_EQ(jwk->at("kty").as_string(), "EC");
    EXPECT_EQ(base64url_decode(jwk->at("x").as_string())->size(), 32U);
    EXPECT_EQ(base64url_decode(jwk->at("y").as_string())->size(), 32U);
    EXPECT_EQ(jwk->size(), 4U);
    EXPECT_EQ(jws_algorithm(key->get()), "ES256");
}

TEST(AcmeJws, Es256SignatureIsRawRsAndVerifies) {
    auto key = generate_key(key_type::ec_p256);
    ASSERT_TRUE(key.ok());
    for (int i = 0; i < 20; ++i) { // r or s with a leading zero byte must stay 32 bytes
        const std::string input = "header." + std::to_string(i);
        auto sig = jws_signature(key->get(), input);
        ASSERT_TRUE(sig.ok()) << sig.error().to_string();
        ASSERT_EQ(sig->size(), 64U);
        EXPECT_TRUE(verifies(key->get(), input, sig.value()));
        EXPECT_FALSE(verifies(key->get(), input + "x", sig.value()));
    }
}

TEST(AcmeJws, FlattenedJwsWithJwkThenKid) {
    auto key = generate_key(key_type::ec_p256);
    ASSERT_TRUE(key.ok());
    auto jws = sign_jws(key->get(), {}, "nonce-1", "https://ca.test/new-acct", R"({"a":1})");
    ASSERT_TRUE(jws.ok()) << jws.error().to_string();
    const auto object = boost::json::parse(jws.value()).as_object();
    ASSERT_EQ(object.size(), 3U);
    const std::string protected64(object.at("protected").as_string());
    const std::string payload64(object.at("payload").as_string());
    const auto header = boost::json::parse(*base64url_decode(protected64)).as_object();
    EXPECT_EQ(header.at("alg").as_string(), "ES256");
    EXPECT_EQ(header.at("nonce").as_string(), "nonce-1");
    EXPECT_EQ(header.at("url").as_string(), "https://ca.test/new-acct");
    EXPECT_EQ(header.at("jwk").as_object(), public_jwk(key->get()).value());
    EXPECT_FALSE(header.contains("kid"));
    EXPECT_EQ(*base64url_decode(payload64), R"({"a":1})");
    EXPECT_TRUE(verifies(key->get(), protected64 + "." + payload64,
                         *base64url_decode(object.at("signature").as_string())));

    auto by_kid = sign_jws(key->get(), {"https://ca.test/acct/7"}, "n2", "https://ca.test/x", "");
    ASSERT_TRUE(by_kid.ok());
    const auto second = boost::json::parse(by_kid.value()).as_object();
    EXPECT_EQ(second.at("payload").as_string(), ""); // POST-as-GET
    const auto header2 =
        boost::json::parse(*base64url_decode(second.at("protected").as_string())).as_object();
    EXPECT_EQ(header2.at("kid").as_string(), "https://ca.test/acct/7");
    EXPECT_FALSE(header2.contains("jwk"));
}

TEST(AcmeJws, Rs256SignsAndVerifies) {
    auto key = generate_key(key_type::rsa2048);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(jws_algorithm(key->get()), "RS256");
    EXPECT_EQ(EVP_PKEY_get_bits(key->get()), 2048);
    auto jws = sign_jws(key->get(), {"kid"}, "n", "https://ca.test/", "{}");
    ASSERT_TRUE(jws.ok());
    const auto object = boost::json::parse(jws.value()).as_object();
    const std::string input = std::string(object.at("protected").as_string()) + "." +
                              std::string(object.at("payload").as_string());
    const auto sig = *base64url_decode(object.at("signature").as_string());
    EXPECT_EQ(sig.size(), 256U);
    EXPECT_TRUE(verifies(key->get(), input, sig));
}

TEST(AcmeJws, ThumbprintRejectsIncompleteJwk) {
    EXPECT_FALSE(jwk_thumbprint(boost::json::object{{"kty", "RSA"}, {"e", "AQAB"}}).ok());
    EXPECT_FALSE(jwk_thumbprint(boost::json::object{{"kty", "oct"}, {"k", "AQAB"}}).ok());
    EXPECT_FALSE(
        jwk_thumbprint(boost::json::object{{"kty", "EC"}, {"crv", "P-384"}, {"x", "A"}, {"y", "B"}})
            .ok());
}

} // namespace bws::acme
