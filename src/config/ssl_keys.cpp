// The keys of [sites.ssl] and [[sites.ssl.certificates]]: name, type and checks, field; and the
// rules between them once the table has been read.
#include "config/ssl_keys.hpp"

#include <algorithm>

namespace bws::config::detail {
namespace {

using tls::client_cert_mode;
using tls::tls_version;

// The shortest max-age the HSTS preload list (hstspreload.org) accepts: one year.
constexpr std::chrono::seconds preload_min_age{31536000};

std::string version_name(tls_version v) {
    return v == tls_version::tls1_3 ? "TLSv1.3" : "TLSv1.2";
}

// "1.2" or "TLSv1.2" (any case); the versions before TLS 1.2 get their own message, so that an
// original BWS file listing them learns why they are refused.
std::optional<tls_version> read_version(value_reader& in, const toml::node& v, std::string_view key,
                                        std::string_view accepted) {
    auto text = in.string(v, key);
    if (!text)
        return std::nullopt;
    const std::string name = lower(*text);
    if (name == "1.2" || name == "tlsv1.2")
        return tls_version::tls1_2;
    if (name == "1.3" || name == "tlsv1.3")
        return tls_version::tls1_3;
    constexpr std::string_view insecure[] = {"sslv2",   "sslv3", "tlsv1", "tlsv1.0",
                                             "tlsv1.1", "1.0",   "1.1"};
    if (std::find(std::begin(insecure), std::end(insecure), name) != std::end(insecure))
        in.error(v, key,
                 "'" + *text +
                     "' is insecure and not supported (bws supports TLSv1.2 and TLSv1.3)");
    else
        in.error(v, key, "'" + *text + "' is not one of " + std::string(accepted));
    return std::nullopt;
}

bool read_enabled(value_reader& in, const toml::node& v, ssl_draft& d) {
    d.enabled_given = true;
    auto b = in.boolean(v, "enabled");
    if (b)
        d.enabled = *b;
    return b.has_value();
}

bool read_min_version(value_reader& in, const toml::node& v, ssl_draft& d) {
    d.min_version = read_version(in, v, "min_tls_version", "1.2, 1.3, TLSv1.2, TLSv1.3");
    return d.min_version.has_value();
}

bool read_protocols(value_reader& in, const toml::node& v, ssl_draft& d) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "protocols", "an array of strings");
        return false;
    }
    if (array->empty()) {
        in.error(v, "protocols", "must list at least one of TLSv1.2, TLSv1.3");
        return false;
    }
    std::optional<std::pair<tls_version, tls_version>> range;
    bool ok = true;
    for (const auto& element : *array) {
        const auto version = read_version(in, element, "protocols", "TLSv1.2, TLSv1.3");
        if (!version)
            ok = false;
        else if (!range)
            range.emplace(*version, *version);
        else
            range.emplace(std::min(range->first, *version), std::max(range->second, *version));
    }
    if (ok)
        d.protocols = range;
    return ok;
}

// An OpenSSL list (ciphers, ciphersuites, groups): checked by OpenSSL when the context is
// built; here only that it is one line of text (a NUL would cut it short silently).
template <class Field>
key_entry<ssl_draft> openssl_list(std::string_view name, Field field) {
    return keys<ssl_draft>::custom(name, [=](value_reader& in, const toml::node& v, ssl_draft& d) {
        auto text = in.nonempty_string(v, name);
        if (!text)
            return false;
        if (has_control(*text)) {
            in.error(v, name, "contains a line break or control character");
            return false;
        }
        std::invoke(field, d) = *text;
        return true;
    });
}

const std::vector<key_entry<certificate_draft>>& certificate_keys() {
    using k = keys<certificate_draft>;
    static const std::vector<key_entry<certificate_draft>> table{
        k::path("cert_file", &certificate_draft::cert_file).mandatory(),
        k::path("key_file", &certificate_draft::key_file).mandatory(),
    };
    return table;
}

bool read_certificates(value_reader& in, const toml::node& v, ssl_draft& d) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "certificates", "an array of tables ([[sites.ssl.certificates]])");
        return false;
    }
    for (const auto& element : *array) {
        const auto* t = element.as_table();
        if (t == nullptr) {
            in.type_error(element, "certificates", "a table");
            continue;
        }
        certificate_draft c;
        const auto missing =
            read_table(in, *t, "[[sites.ssl.certificates]]", certificate_keys(), c, &c.where);
        for (std::string_view key : missing)
            in.out().error(value_reader::pos(*t),
                           "[[sites.ssl.certificates]] entry is missing the required key '" +
                               std::string(key) + "'");
        // An entry with a rejected value was reported already; it is left out.
        if (c.where.contains("cert_file") && c.where.contains("key_file"))
            d.certificates.push_back(std::move(c));
    }
    return true;
}

template <class Field>
auto in_tls(Field field) {
    return [field](ssl_draft & d) -> auto& {
        return std::invoke(field, d.tls);
    };
}
template <class Field>
auto in_settings(Field field) {
    return [field](ssl_draft & d) -> auto& {
        return std::invoke(field, d.tls.settings);
    };
}

const std::vector<key_entry<ssl_draft>>& ssl_keys() {
    using k = keys<ssl_draft>;
    using tls::settings;
    constexpr std::string_view acme = "automatic certificates (ACME)";
    static const std::vector<key_entry<ssl_draft>> table{
        k::custom("enabled", read_enabled),
        k::path("cert_file", &ssl_draft::cert_file),
        k::path("key_file", &ssl_draft::key_file),
        k::custom("certificates", read_certificates),
        k::custom("min_tls_version", read_min_version),
        k::custom("protocols", read_protocols),
        openssl_list("ciphers", in_settings(&settings::tls12_ciphers)),
        openssl_list("ciphersuites", in_settings(&settings::tls13_ciphersuites)),
        openssl_list("groups", in_settings(&settings::groups)),
        k::max_age("hsts_max_age", in_tls(&site_tls::hsts_max_age)),
        k::flag("hsts_include_subdomains", in_tls(&site_tls::hsts_include_subdomains)),
        k::flag("hsts_preload", in_tls(&site_tls::hsts_preload)),
        k::path("client_ca_file", in_settings(&settings::client_ca_file)),
        k::choice("client_verify", in_settings(&settings::client_verify),
                  {{"off", client_cert_mode::none},
                   {"optional", client_cert_mode::optional},
                   {"required", client_cert_mode::required}}),
        k::count("client_verify_depth", in_settings(&settings::client_verify_depth), 0, 100),
        k::flag("session_tickets", in_settings(&settings::session_tickets)),
        k::flag("strict_sni", in_tls(&site_tls::strict_sni)),
        k::not_yet("auto_cert", "'auto_cert'", acme),
        k::not_yet("domains", "'domains'", acme),
        k::not_yet("acme", "[sites.ssl.acme]", acme),
    };
    return table;
}

} // namespace

bool read_ssl(value_reader& in, const toml::node& v, ssl_draft& d) {
    const auto* t = in.table(v, "[sites.ssl]");
    if (t == nullptr)
        return false;
    d.where.table = value_reader::pos(v);
    d.cert_file_written = t->contains("cert_file");
    d.key_file_written = t->contains("key_file");
    d.certificate_written =
        d.cert_file_written || d.key_file_written || t->contains("certificates");
    const std::size_t errors = in.out().errors.size();
    read_table(in, *t, "[sites.ssl]", ssl_keys(), d, &d.where.keys);
    d.had_errors = in.out().errors.size() > errors;
    return true;
}

std::optional<site_tls> finish_ssl(ssl_draft& d, const std::string& what, report& out) {
    const source_pos& table = d.where.table;
    auto pos = [&](std::string_view key) -> const source_pos& {
        return position(d.where.keys, key, table);
    };
    if (!d.enabled_given)
        out.warning(table, "[sites.ssl] of " + what +
                               " has no 'enabled = true', so the site serves plain HTTP (write "
                               "enabled = false to keep it off without this warning)");
    if (!d.enabled)
        return std::nullopt;

    site_tls result = std::move(d.tls);
    tls::settings& settings = result.settings;
    auto& places = d.where.certificates;
    bool half_pair = false;
    if (d.cert_file && d.key_file) {
        settings.certificates.push_back({*d.cert_file, *d.key_file});
        places.emplace_back(pos("cert_file"), pos("key_file"));
    } else if (d.cert_file && !d.key_file_written) {
        out.error(pos("cert_file"), "cert_file needs key_file in [sites.ssl]");
        half_pair = true;
    } else if (d.key_file && !d.cert_file_written) {
        out.error(pos("key_file"), "key_file needs cert_file in [sites.ssl]");
        half_pair = true;
    } // else: one of them was refused, and reported

    for (const certificate_draft& c : d.certificates) {
        settings.certificates.push_back({c.cert_file, c.key_file});
        places.emplace_back(position(c.where, "cert_file", table),
                            position(c.where, "key_file", table));
    }
    // Not when a certificate was written but refused: that is reported already.
    if (settings.certificates.empty() && !half_pair && !(d.certificate_written && d.had_errors))
        out.error(table, what + ": [sites.ssl] is enabled but names no certificate (set cert_file "
                                "and key_file, or add [[sites.ssl.certificates]])");

    if (d.protocols) {
        settings.min_version = d.protocols->first;
        settings.max_version = d.protocols->second;
        if (d.min_version && *d.min_version != d.protocols->first) {
            const source_pos& listed = pos("protocols");
            out.error(pos("min_tls_version"),
                      "min_tls_version " + version_name(*d.min_version) +
                          " disagrees with protocols (line " + std::to_string(listed.line) +
                          "), whose lowest version is " + version_name(d.protocols->first));
        }
    } else if (d.min_version) {
        settings.min_version = *d.min_version;
    }

    if (settings.client_verify != client_cert_mode::none && settings.client_ca_file.empty())
        out.error(
            pos("client_verify"),
            std::string("client_verify = \"") +
                (settings.client_verify == client_cert_mode::required ? "required" : "optional") +
                "\" needs client_ca_file in [sites.ssl]");
    if (settings.client_verify == client_cert_mode::none && !settings.client_ca_file.empty())
        out.warning(pos("client_ca_file"),
                    "client_ca_file is not used while client_verify is \"off\"");

    if (result.hsts_preload) {
        if (!result.hsts_include_subdomains)
            out.warning(pos("hsts_preload"), "hsts_preload: the HSTS preload list requires "
                                             "hsts_include_subdomains = true");
        if (!result.hsts_max_age || *result.hsts_max_age < preload_min_age)
            out.warning(pos("hsts_preload"), "hsts_preload: the HSTS preload list requires "
                                             "hsts_max_age of at least 1 year (31536000 s)");
    } else if (result.hsts_include_subdomains && !result.hsts_max_age) {
        out.warning(pos("hsts_include_subdomains"),
                    "hsts_include_subdomains has no effect without hsts_max_age");
    }
    return result;
}

} // namespace bws::config::detail
