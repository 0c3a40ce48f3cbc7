// The certificate signing request an ACME order is finalized with (RFC 8555 §7.4): the
// certificate key's public half, every name as a subjectAltName DNS entry (what CAs read) and
// the first name as the subject CN (what older tools show), signed with SHA-256.
#pragma once

#include "acme/error.hpp"

#include <openssl/evp.h>

#include <string>
#include <vector>

namespace bws::acme {

// DER bytes of the CSR. Fails for no names, or a name that is empty.
result<std::string> make_csr(EVP_PKEY* certificate_key, const std::vector<std::string>& names);

} // namespace bws::acme
