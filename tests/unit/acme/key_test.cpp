// Account and certificate keys: every type generates with the right size, and a saved key is
// mode 0600, replaced atomically, and loads back as the same key.
#include "acme/key.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <sys/stat.h>

namespace bws::acme {

TEST(AcmeKey, GeneratesEveryType) {
    auto ec = generate_key(key_type::ec_p256);
    ASSERT_TRUE(ec.ok());
    EXPECT_EQ(EVP_PKEY_get_base_id(ec->get()), EVP_PKEY_EC);
    EXPECT_EQ(EVP_PKEY_get_bits(ec->get()), 256);
    for (auto [type, bits] :
         {std::pair{key_type::rsa2048, 2048}, std::pair{key_type::rsa3072, 3072}}) {
        auto rsa = generate_key(type);
        ASSERT_TRUE(rsa.ok());
        EXPECT_EQ(EVP_PKEY_get_base_id(rsa->get()), EVP_PKEY_RSA);
        EXPECT_EQ(EVP_PKEY_get_bits(rsa->get()), bits);
    }
}

TEST(AcmeKey, SavedWithMode0600AndLoadsBack) {
    test::temp_dir dir("bws-acme-key");
    const auto path = dir / "account.key";
    auto key = generate_key(key_type::ec_p256);
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(save_key(key->get(), path).ok());
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    auto loaded = load_key(path);
    ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
    EXPECT_EQ(EVP_PKEY_eq(key->get(), loaded->get()), 1);

    // A second save replaces the file whole; no temporary file is left behind.
    auto other = generate_key(key_type::ec_p256);
    ASSERT_TRUE(save_key(other->get(), path).ok());
    EXPECT_EQ(EVP_PKEY_eq(other->get(), load_key(path)->get()), 1);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
        ++entries;
    EXPECT_EQ(entries, 1U);
}

TEST(AcmeKey, LoadErrorsNameTheFile) {
    test::temp_dir dir("bws-acme-key");
    auto missing = load_key(dir / "none.key");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().what.find("none.key"), std::string::npos);
    const auto junk = dir.write("junk.key", "not a key\n");
    auto bad = load_key(junk);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().what.find("junk.key"), std::string::npos);
    EXPECT_FALSE(save_key(generate_key(key_type::ec_p256)->get(), dir / "no/such/dir.key").ok());
}

} // namespace bws::acme
