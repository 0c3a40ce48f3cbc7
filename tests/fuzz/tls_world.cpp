// Builds the fuzzed TLS port (see tls_world.hpp) the way the server builds a port's table:
// certificate::load, site_context::build, context_table.
#include "tls_world.hpp"

#include "../unit/tls/test_certs.hpp"
#include "tls/certificate.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace bws::fuzz {

namespace {

using tls::testing::key_kind;
using tls::testing::leaf_options;
using tls::testing::pem_files;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "tls_world: %s\n", what.c_str());
    std::abort();
}

leaf_options leaf(std::vector<std::string> names, key_kind kind) {
    leaf_options o;
    o.common_name = names.front();
    o.dns_names = std::move(names);
    o.kind = kind;
    return o;
}

struct site_spec {
    std::vector<std::string> names;
    std::vector<pem_files> files;
    tls::settings config;
};

std::unique_ptr<tls::context_table> make_table(const std::vector<site_spec>& specs,
                                               const tls::ticket_keys* keys, bool strict) {
    std::vector<tls::table_site> sites;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        std::vector<tls::diagnostic> out;
        std::vector<tls::certificate> certs;
        for (const pem_files& f : specs[i].files) {
            auto cert = tls::certificate::load({f.cert_file, f.key_file}, out);
            if (!cert)
                fail("cannot load " + f.cert_file.string());
            certs.push_back(std::move(*cert));
        }
        auto context =
            tls::site_context::build(specs[i].config, certs, keys, specs[i].names.front(), out);
        if (!context)
            fail("cannot build site " + specs[i].names.front() + ": " +
                 (out.empty() ? std::string() : out.front().message));
        sites.push_back({i, specs[i].names, std::move(context)});
    }
    return std::make_unique<tls::context_table>(std::move(sites), 0, strict);
}

tls_world make_world() {
    tls_world w;
    std::string error;
    w.keys = tls::ticket_keys::create(std::chrono::hours(1), error);
    if (!w.keys)
        fail(error);
    // The PEM files are needed only until the contexts are built (the CA file of the client
    // verification is read then too); temp_directory removes them on leaving this scope.
    tls::testing::temp_directory dir;
    tls::testing::cert_factory ca(dir.path, "bws fuzz CA");
    std::vector<site_spec> specs(3);
    specs[0].names = {"a.example.com", "www.a.example.com"};
    specs[0].files = {ca.issue("a-rsa", leaf(specs[0].names, key_kind::rsa)),
                      ca.issue("a-ecdsa", leaf(specs[0].names, key_kind::ecdsa))};
    specs[1].names = {"b.example.com"};
    specs[1].files = {ca.issue("b", leaf(specs[1].names, key_kind::ecdsa))};
    specs[1].config.max_version = tls::tls_version::tls1_2;
    specs[1].config.tls12_ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384";
    specs[2].names = {"*.c.example.com"};
    specs[2].files = {ca.issue("c", leaf(specs[2].names, key_kind::ecdsa))};
    specs[2].config.min_version = tls::tls_version::tls1_3;
    specs[2].config.tls13_ciphersuites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
    specs[2].config.client_verify = tls::client_cert_mode::optional;
    specs[2].config.client_ca_file = ca.ca_file();
    for (site_spec& s : specs)
        for (const pem_files& f : s.files)
            s.config.certificates.push_back({f.cert_file, f.key_file});
    w.lenient = make_table(specs, w.keys.get(), false);
    w.strict = make_table(specs, w.keys.get(), true);
    return w;
}

} // namespace

const tls_world& world() {
    static const tls_world instance = make_world();
    return instance;
}

} // namespace bws::fuzz
