// The RFC 8555 flow (see client.hpp).
#include "acme/client.hpp"

#include "acme/base64url.hpp"
#include "acme/jws.hpp"
#include "acme/problem.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <thread>

namespace bws::acme {

namespace json = boost::json;
using clock = std::chrono::steady_clock;

namespace {

std::string string_member(const json::object& object, std::string_view name) {
    const json::value* v = object.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

acme::error protocol_error(const std::string& what, const std::string& detail) {
    return acme::error{what, 0, {}, detail};
}

// Retry-After in seconds (RFC 9110 §10.2.3 also allows an HTTP-date, which ACME servers do
// not send for polling; that and garbage fall back to the default).
std::chrono::milliseconds retry_after(const std::string& value,
                                      std::chrono::milliseconds fallback) {
    unsigned long seconds = 0;
    const auto [ptr, err] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (value.empty() || err != std::errc{} || ptr != value.data() + value.size())
        return fallback;
    constexpr unsigned long day = 86400;
    return std::chrono::seconds(std::min(seconds, day));
}

// A URL from the server must be https (the transport refuses anything else anyway); this
// names the field when it is missing.
result<std::string> url_member(const json::object& object, std::string_view name,
                               const std::string& what) {
    std::string url = string_member(object, name);
    if (url.empty())
        return protocol_error(what, "the response has no '" + std::string(name) + "'");
    return url;
}

} // namespace

client::client(client_options options, tls::pkey_ptr key, std::string thumbprint,
               std::unique_ptr<https_transport> transport)
    : options_(std::move(options)), key_(std::move(key)), thumbprint_(std::move(thumbprint)),
      transport_(std::move(transport)) {}

client::~client() = default;

result<std::unique_ptr<client>> client::create(client_options options, tls::pkey_ptr account_key) {
    if (!account_key || jws_algorithm(account_key.get()).empty())
        return acme::error{"account key", 0, {}, "not a P-256 or RSA key"};
    auto thumbprint = jwk_thumbprint(account_key.get());
    if (!thumbprint.ok())
        return std::move(thumbprint).error();
    auto transport = https_transport::create(options.transport);
    if (!transport.ok())
        return std::move(transport).error();
    return std::unique_ptr<client>(new client(std::move(options), std::move(account_key),
                                              std::move(thumbprint.value()),
                                              std::move(transport.value())));
}

std::string client::key_authorization(const std::string& token) const {
    return token + "." + thumbprint_;
}

status client::load_directory() {
    const std::string what = "ACME directory " + options_.directory_url;
    auto res =
        transport_->request(http_method::get, options_.directory_url, {}, {}, "application/json");
    if (!res.ok())
        return std::move(res).error();
    if (res->status != 200)
        return problem_error(what, res.value());
    json::error_code ec;
    const json::value body = json::parse(res->body, ec);
    if (ec || !body.is_object())
        return protocol_error(what, "not a JSON object");
    const json::object& dir = body.as_object();
    for (auto [field, name] :
         {std::pair{&new_nonce_url_, "newNonce"}, std::pair{&new_account_url_, "newAccount"},
          std::pair{&new_order_url_, "newOrder"}}) {
        auto url = url_member(dir, name, what);
        if (!url.ok())
            return std::move(url).error();
        *field = std::move(url.value());
    }
    if (const auto* meta = dir.if_contains("meta"); meta != nullptr && meta->is_object())
        terms_of_service_ = string_member(meta->as_object(), "termsOfService");
    have_directory_ = true;
    return done{};
}

status client::next_nonce() {
    if (!nonce_.empty())
        return done{};
    if (!have_directory_)
        if (auto loaded = load_directory(); !loaded.ok())
            return loaded;
    auto res = transport_->request(http_method::head, new_nonce_url_);
    if (!res.ok())
        return std::move(res).error();
    if (res->status != 200 && res->status != 204)
        return problem_error("newNonce", res.value());
    if (!is_base64url_token(res->replay_nonce))
        return protocol_error("newNonce", "no valid Replay-Nonce header");
    nonce_ = res->replay_nonce;
    return done{};
}

result<http_response> client::post(const std::string& url, const std::string* payload, bool by_jwk,
                                   std::string_view accept) {
    for (int attempt = 0;; ++attempt) {
        if (auto ready = next_nonce(); !ready.ok())
            return std::move(ready).error();
        const std::string nonce = std::exchange(nonce_, {});
        const jws_signer signer{by_jwk ? std::string_view{} : std::string_view{account_url_}};
        auto body = sign_jws(key_.get(), signer, nonce, url, payload != nullptr ? *payload : "");
        if (!body.ok())
            return std::move(body).error();
        auto res = transport_->request(http_method::post, url, body.value(),
                                       "application/jose+json", accept);
        if (!res.ok())
            return res;
        // Every response carries the next nonce (RFC 8555 §6.5), errors included.
        if (is_base64url_token(res->replay_nonce))
            nonce_ = res->replay_nonce;
        if (res->status < 400)
            return res;
        acme::error e = problem_error("POST " + url, res.value());
        if (attempt == 0 && is_problem(e, "badNonce"))
            continue; // §6.5: the client should retry with the nonce this response gave
        return e;
    }
}

result<client::posted> client::post_json(const std::string& url, const std::string* payload,
                                         bool by_jwk, const std::string& what) {
    auto res = post(url, payload, by_jwk);
    if (!res.ok()) {
        acme::error e = std::move(res).error();
        e.what = what + ": " + e.what;
        return e;
    }
    posted out{std::move(res.value()), {}};
    json::error_code ec;
    json::value body = json::parse(out.response.body, ec);
    if (ec || !body.is_object())
        return protocol_error(what, "the response is not a JSON object");
    out.body = std::move(body.as_object());
    return out;
}

result<account> client::account_from(const posted& reply, bool created) {
    if (reply.response.location.empty())
        return protocol_error("newAccount", "no Location header");
    const std::string state = string_member(reply.body, "status");
    if (state != "valid")
        return protocol_error("newAccount", "the account is " + (state.empty() ? "?" : state));
    account_url_ = reply.response.location;
    return account{account_url_, created};
}

result<account> client::find_account() {
    if (!have_directory_)
        if (auto loaded = load_directory(); !loaded.ok())
            return std::move(loaded).error();
    const std::string payload = R"({"onlyReturnExisting":true})";
    auto reply = post_json(new_account_url_, &payload, true, "account lookup");
    if (!reply.ok())
        return std::move(reply).error();
    return account_from(reply.value(), false);
}

result<account> client::register_account(const std::vector<std::string>& emails) {
    auto existing = find_account();
    if (existing.ok() || !is_problem(existing.error(), "accountDoesNotExist"))
        return existing;
    json::array contact;
    for (const std::string& email : emails)
        contact.emplace_back(email.rfind("mailto:", 0) == 0 ? email : "mailto:" + email);
    json::object request;
    request["termsOfServiceAgreed"] = true;
    if (!contact.empty())
        request["contact"] = std::move(contact);
    const std::string payload = json::serialize(request);
    auto reply = post_json(new_account_url_, &payload, true, "newAccount");
    if (!reply.ok())
        return std::move(reply).error();
    return account_from(reply.value(), reply->response.status == 201);
}

result<json::object> client::poll(const std::string& url,
                                  const std::vector<std::string_view>& waiting,
                                  const std::string& what) {
    const clock::time_point deadline = clock::now() + options_.poll_limit;
    for (;;) {
        auto res = post(url, nullptr, false);
        if (!res.ok()) {
            acme::error e = std::move(res).error();
            e.what = what + ": " + e.what;
            return e;
        }
        json::error_code ec;
        json::value body = json::parse(res->body, ec);
        if (ec || !body.is_object())
            return protocol_error(what, "the response is not a JSON object");
        const std::string state = string_member(body.as_object(), "status");
        if (std::find(waiting.begin(), waiting.end(), state) == waiting.end())
            return std::move(body.as_object());
        const auto now = clock::now();
        if (now >= deadline)
            return protocol_error(what, "still " + state + " after " +
                                            std::to_string(options_.poll_limit.count()) + " ms");
        const auto remaining =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        std::this_thread::sleep_for(
            std::min(retry_after(res->retry_after, options_.poll_interval), remaining));
    }
}

status client::authorize(const std::string& authorization_url, const http01_responder& responder) {
    const std::string what = "authorization " + authorization_url;
    auto authz = post_json(authorization_url, nullptr, false, what);
    if (!authz.ok())
        return std::move(authz).error();
    const std::string state = string_member(authz->body, "status");
    if (state == "valid")
        return done{}; // reused from an earlier order
    if (state != "pending")
        return protocol_error(what, "the authorization is " + state);

    http01_challenge challenge;
    if (const auto* id = authz->body.if_contains("identifier"); id != nullptr && id->is_object())
        challenge.identifier = string_member(id->as_object(), "value");
    std::string challenge_url;
    if (const auto* list = authz->body.if_contains("challenges");
        list != nullptr && list->is_array())
        for (const json::value& c : list->as_array())
            if (c.is_object() && string_member(c.as_object(), "type") == "http-01") {
                challenge_url = string_member(c.as_object(), "url");
                challenge.token = string_member(c.as_object(), "token");
            }
    if (challenge_url.empty())
        return protocol_error(what,
                              "no http-01 challenge offered for '" + challenge.identifier + "'");
    // The token becomes part of a URL path and of what the responder serves: only the
    // base64url alphabet, so it can never name another file or inject anything.
    if (!is_base64url_token(challenge.token))
        return protocol_error(what, "the http-01 token is not base64url");
    challenge.key_authorization = key_authorization(challenge.token);

    if (auto published = responder.publish(challenge); !published.ok())
        return published;
    struct withdraw_guard {
        const http01_responder& responder;
        const http01_challenge& challenge;
        ~withdraw_guard() {
            if (responder.withdraw)
                responder.withdraw(challenge);
        }
    } guard{responder, challenge};

    const std::string empty_object = "{}";
    if (auto triggered = post(challenge_url, &empty_object, false); !triggered.ok()) {
        acme::error e = std::move(triggered).error();
        e.what = what + ": " + e.what;
        return e;
    }
    auto decided = poll(authorization_url, {"pending"}, what);
    if (!decided.ok())
        return std::move(decided).error();
    const std::string final_state = string_member(decided.value(), "status");
    if (final_state == "valid")
        return done{};
    // The challenge's "error" says why (RFC 8555 §7.1.5).
    std::string failed = what;
    failed.append(" for '").append(challenge.identifier).append("' is ").append(final_state);
    if (const auto* list = decided->if_contains("challenges"); list != nullptr && list->is_array())
        for (const json::value& c : list->as_array())
            if (c.is_object() && string_member(c.as_object(), "type") == "http-01")
                if (const auto* err = c.as_object().if_contains("error");
                    err != nullptr && err->is_object())
                    return problem_error(failed, err->as_object());
    return protocol_error(what, "the authorization is " + final_state);
}

result<issued_certificate> client::issue(const std::vector<std::string>& names,
                                         const std::string& csr_der,
                                         const http01_responder& responder) {
    if (account_url_.empty())
        return protocol_error("newOrder", "no account: find or register it first");
    if (names.empty())
        return protocol_error("newOrder", "no names");
    if (!responder.publish)
        return protocol_error("newOrder", "no http-01 responder");

    json::array identifiers;
    for (const std::string& name : names)
        identifiers.emplace_back(json::object{{"type", "dns"}, {"value", name}});
    const std::string payload = json::serialize(json::object{{"identifiers", identifiers}});
    auto order = post_json(new_order_url_, &payload, false, "newOrder");
    if (!order.ok())
        return std::move(order).error();
    issued_certificate out;
    out.order_url = order->response.location;
    if (out.order_url.empty())
        return protocol_error("newOrder", "no Location header");
    auto finalize_url = url_member(order->body, "finalize", "newOrder");
    if (!finalize_url.ok())
        return std::move(finalize_url).error();

    if (const auto* list = order->body.if_contains("authorizations");
        list != nullptr && list->is_array()) {
        for (const json::value& url : list->as_array()) {
            if (!url.is_string())
                return protocol_error("newOrder", "an authorization is not a URL");
            if (auto authorized = authorize(std::string(url.as_string()), responder);
                !authorized.ok())
                return std::move(authorized).error();
        }
    }

    const std::string order_what = "order " + out.order_url;
    auto ready = poll(out.order_url, {"pending"}, order_what);
    if (!ready.ok())
        return std::move(ready).error();
    const auto order_failed = [&order_what](const json::object& state) -> acme::error {
        if (const auto* err = state.if_contains("error"); err != nullptr && err->is_object())
            return problem_error(order_what + " is " + string_member(state, "status"),
                                 err->as_object());
        return protocol_error(order_what, "the order is " + string_member(state, "status"));
    };
    if (string_member(ready.value(), "status") != "ready")
        return order_failed(ready.value());

    const std::string csr = json::serialize(json::object{{"csr", base64url_encode(csr_der)}});
    if (auto finalized = post(finalize_url.value(), &csr, false); !finalized.ok()) {
        acme::error e = std::move(finalized).error();
        e.what = "finalize: " + e.what;
        return e;
    }
    auto issued = poll(out.order_url, {"ready", "processing"}, order_what);
    if (!issued.ok())
        return std::move(issued).error();
    if (string_member(issued.value(), "status") != "valid")
        return order_failed(issued.value());
    auto certificate_url = url_member(issued.value(), "certificate", order_what);
    if (!certificate_url.ok())
        return std::move(certificate_url).error();
    out.certificate_url = std::move(certificate_url.value());

    auto chain = post(out.certificate_url, nullptr, false, "application/pem-certificate-chain");
    if (!chain.ok()) {
        acme::error e = std::move(chain).error();
        e.what = "certificate download: " + e.what;
        return e;
    }
    if (chain->body.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
        return protocol_error("certificate download", "the response is not a PEM chain");
    out.chain_pem = std::move(chain->body);
    return out;
}

} // namespace bws::acme
