// An ACME client (RFC 8555) for one account on one CA: reads the directory, finds or creates
// the account, and issues a certificate over HTTP-01: order, authorizations, challenges
// answered by a caller-provided responder, finalize with a CSR, download the PEM chain.
// Every call blocks (see https_transport.hpp) and polls with Retry-After honoured and a bounded
// total time; nonces are reused from every response and a badNonce rejection is retried once.
// Failures are acme::error values carrying the CA's problem type and detail.
#pragma once

#include "acme/error.hpp"
#include "acme/https_transport.hpp"
#include "tls/openssl_ptr.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bws::acme {

struct client_options {
    std::string directory_url;
    transport_options transport;
    // The longest wait for one state change (an authorization, the order becoming ready, the
    // certificate being issued).
    std::chrono::milliseconds poll_limit{std::chrono::minutes(2)};
    // The pause between polls when the server sends no Retry-After.
    std::chrono::milliseconds poll_interval{std::chrono::seconds(1)};
};

// What the CA will fetch: http://<identifier>/.well-known/acme-challenge/<token> answering
// <key_authorization>. The token is checked to be base64url before anything sees it.
struct http01_challenge {
    std::string identifier;
    std::string token;
    std::string key_authorization;
};

// Called around each pending HTTP-01 challenge: publish before the CA is told to validate
// (an error aborts the issuance), withdraw once the authorization is decided.
struct http01_responder {
    std::function<status(const http01_challenge&)> publish;
    std::function<void(const http01_challenge&)> withdraw;
};

struct account {
    std::string url;      // the key ID of every later request
    bool created = false; // true when newAccount made it, false when it existed
};

struct issued_certificate {
    std::string chain_pem; // leaf first, then the intermediates
    std::string order_url;
    std::string certificate_url;
};

class client {
public:
    // No network traffic yet; fails only for an unusable account key or CA bundle.
    static result<std::unique_ptr<client>> create(client_options options,
                                                  tls::pkey_ptr account_key);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // GET the directory (done on demand by the calls below).
    status load_directory();
    // The directory's meta.termsOfService, "" when none or not loaded.
    const std::string& terms_of_service() const { return terms_of_service_; }

    // The account this key already has (newAccount with onlyReturnExisting); the error type
    // is ...:accountDoesNotExist when there is none.
    result<account> find_account();
    // The existing account, or a new one with these contacts ("mailto:" added to bare
    // addresses) and the terms of service agreed to.
    result<account> register_account(const std::vector<std::string>& emails);
    const std::string& account_url() const { return account_url_; }

    // Orders a certificate for `names` (DNS identifiers), satisfies every pending
    // authorization over HTTP-01 through `responder`, finalizes with `csr_der` and downloads
    // the chain. Needs an account (find_account or register_account first).
    result<issued_certificate> issue(const std::vector<std::string>& names,
                                     const std::string& csr_der, const http01_responder& responder);

    // The key authorization for `token` with this account key (token "." thumbprint).
    std::string key_authorization(const std::string& token) const;

private:
    client(client_options options, tls::pkey_ptr key, std::string thumbprint,
           std::unique_ptr<https_transport> transport);

    struct posted {
        http_response response;
        boost::json::object body; // empty unless the response was a JSON object
    };
    // A JWS-signed POST of `payload` (nullptr: POST-as-GET) with a fresh nonce, by JWK when
    // `by_jwk` (newAccount) or by account URL.
    result<http_response> post(const std::string& url, const std::string* payload, bool by_jwk,
                               std::string_view accept = {});
    result<posted> post_json(const std::string& url, const std::string* payload, bool by_jwk,
                             const std::string& what);
    // POST-as-GET `url` until its "status" leaves `waiting`, or poll_limit passes.
    result<boost::json::object> poll(const std::string& url,
                                     const std::vector<std::string_view>& waiting,
                                     const std::string& what);
    status next_nonce();
    status authorize(const std::string& authorization_url, const http01_responder& responder);
    result<account> account_from(const posted& reply, bool created);

    client_options options_;
    tls::pkey_ptr key_;
    std::string thumbprint_;
    std::unique_ptr<https_transport> transport_;
    bool have_directory_ = false;
    std::string new_nonce_url_, new_account_url_, new_order_url_, terms_of_service_;
    std::string nonce_;
    std::string account_url_;
};

} // namespace bws::acme
