// The CSR parses back with the certificate key's public key, a valid signature, CN = the
// first name and every name as a subjectAltName DNS entry.
#include "acme/csr.hpp"
#include "acme/key.hpp"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace bws::acme {

namespace {

struct parsed_csr {
    std::string cn;
    std::vector<std::string> dns;
    bool signature_ok = false;
    bool key_matches = false;
};

parsed_csr parse(const std::string& der, EVP_PKEY* key) {
    parsed_csr out;
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
    if (req == nullptr)
        return out;
    EVP_PKEY* pub = X509_REQ_get0_pubkey(req);
    out.key_matches = pub != nullptr && EVP_PKEY_eq(pub, key) == 1;
    out.signature_ok = X509_REQ_verify(req, pub) == 1;
    std::array<char, 256> cn{};
    if (X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn.data(),
                                  int(cn.size())) > 0)
        out.cn = cn.data();
    STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
    auto* names =
        static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
        if (name->type == GEN_DNS)
            out.dns.emplace_back(
                reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                ASN1_STRING_length(name->d.dNSName));
    }
    GENERAL_NAMES_free(names);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
    return out;
}

} // namespace

TEST(AcmeCsr, CarriesEveryNameAsSanAndTheFirstAsCn) {
    for (const key_type type : {key_type::ec_p256, key_type::rsa2048}) {
        auto key = generate_key(type);
        ASSERT_TRUE(key.ok());
        const std::vector<std::string> names{"example.test", "www.example.test",
                                             "a.b.example.test"};
        auto der = make_csr(key->get(), names);
        ASSERT_TRUE(der.ok()) << der.error().to_string();
        const parsed_csr csr = parse(der.value(), key->get());
        EXPECT_TRUE(csr.signature_ok);
        EXPECT_TRUE(csr.key_matches);
        EXPECT_EQ(csr.cn, "example.test");
        EXPECT_EQ(csr.dns, names);
    }
}

TEST(AcmeCsr, LongFirstNameGoesInTheSanOnly) {
    auto key = generate_key(key_type::ec_p256);
    const std::string longname = std::string(60, 'a') + ".example.test";
    auto der = make_csr(key->get(), {longname});
    ASSERT_TRUE(der.ok());
    const parsed_csr csr = parse(der.value(), key->get());
    EXPECT_TRUE(csr.cn.empty());
    EXPECT_EQ(csr.dns, std::vector<std::string>{longname});
}

TEST(AcmeCsr, RefusesNoNameOrAnEmptyOne) {
    auto key = generate_key(key_type::ec_p256);
    EXPECT_FALSE(make_csr(key->get(), {}).ok());
    EXPECT_FALSE(make_csr(key->get(), {"a.test", ""}).ok());
}

} // namespace bws::acme
