// JOSE for ACME: the account key's public JWK (RFC 7517), its RFC 7638 thumbprint (what key
// authorizations end with), and requests signed as JWS in the flattened JSON serialisation
// (RFC 7515 §7.2.2) with ES256 (P-256 keys) or RS256 (RSA keys), as RFC 8555 §6.2 requires.
#pragma once

#include "acme/error.hpp"

#include <boost/json/object.hpp>
#include <openssl/evp.h>

#include <string>
#include <string_view>

namespace bws::acme {

// "ES256" for a P-256 key, "RS256" for RSA, "" for anything else.
std::string jws_algorithm(EVP_PKEY* key);

// The public JWK: {"crv","kty","x","y"} for EC, {"e","kty","n"} for RSA.
result<boost::json::object> public_jwk(EVP_PKEY* key);

// base64url(SHA-256(the JWK's required members, sorted, without whitespace)).
result<std::string> jwk_thumbprint(const boost::json::object& jwk);
result<std::string> jwk_thumbprint(EVP_PKEY* key);

// Which key identifies the signer: the JWK itself (newAccount, before there is an account)
// or the account URL (every later request).
struct jws_signer {
    std::string_view kid; // empty: embed the JWK
};

// {"protected","payload","signature"} for `payload` (the JSON text; "" for POST-as-GET)
// with a protected header of alg, nonce, url and jwk or kid.
result<std::string> sign_jws(EVP_PKEY* key, const jws_signer& signer, std::string_view nonce,
                             std::string_view url, std::string_view payload);

// The raw signature over `input` (ES256: r||s, 64 bytes; RS256: PKCS#1 v1.5).
result<std::string> jws_signature(EVP_PKEY* key, std::string_view input);

} // namespace bws::acme
