// The TLS port of the tls_client_hello fuzz target and of its seed generator: three sites with
// different certificates and protocol settings, built with bws's own site_context and
// context_table from certificates generated at start-up, once lenient about unknown SNI and once
// refusing it.
#pragma once

#include "tls/context.hpp"
#include "tls/ticket_keys.hpp"

#include <memory>

namespace bws::fuzz {

struct tls_world {
    // Site 0 "a.example.com", "www.a.example.com": RSA and ECDSA, the defaults; the port's
    // default site. Site 1 "b.example.com": ECDSA, TLS 1.2 only, two TLS 1.2 ciphers. Site 2
    // "*.c.example.com": ECDSA, TLS 1.3 only, two TLS 1.3 suites, client certificates optional.
    // Every site issues tickets with one shared set of keys.
    std::unique_ptr<tls::ticket_keys> keys;
    std::unique_ptr<tls::context_table> lenient; // unknown SNI → site 0
    std::unique_ptr<tls::context_table> strict;  // unknown SNI → unrecognized_name alert
};

// Made on the first call (the key files live in a temporary directory only while they are
// loaded); aborts when anything fails, since no input could be judged then.
const tls_world& world();

} // namespace bws::fuzz
