// bws_make_test_pki: writes test CAs and certificates as PEM files into a directory, so the
// scripted TLS integration tests (tls_test.py) get the same generated PKI as the C++ unit tests
// (test_certs.hpp), expired and mismatched certificates included, without the openssl CLI.
//
// Usage: bws_make_test_pki DIR SPEC...
//   ca:STEM[:SUBJECT]                 a new CA written to DIR/STEM.pem; the leaves after it are
//                                     signed by it
//   leaf:STEM:rsa|ecdsa:NAME[,NAME...][:client][:expired][:mismatched]
//                                     DIR/STEM.crt (leaf, then its CA) and DIR/STEM.key; the
//                                     first NAME is the common name, all are DNS SANs; `client`
//                                     makes a clientAuth certificate, `expired` one that ended
//                                     yesterday, `mismatched` a key file holding another key
// Prints each file written, one a line. Exit status 0, 1 on a failure, 2 on a usage error.
#include "test_certs.hpp"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using bws::tls::testing::cert_factory;
using bws::tls::testing::key_kind;
using bws::tls::testing::leaf_options;
using bws::tls::testing::pem_files;

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::istringstream in(text);
    std::string part;
    while (std::getline(in, part, separator))
        parts.push_back(part);
    if (!text.empty() && text.back() == separator)
        parts.emplace_back();
    return parts;
}

int usage(const std::string& why) {
    std::cerr << "bws_make_test_pki: " << why << "\n"
              << "usage: bws_make_test_pki DIR SPEC...\n"
                 "  ca:STEM[:SUBJECT]\n"
                 "  leaf:STEM:rsa|ecdsa:NAME[,NAME...][:client][:expired][:mismatched]\n";
    return 2;
}

bool plain_stem(const std::string& stem) {
    return !stem.empty() && stem.find('/') == std::string::npos && stem != "." && stem != "..";
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3)
        return usage("need a directory and at least one SPEC");
    const fs::path dir = argv[1];
    try {
        fs::create_directories(dir);
        std::unique_ptr<cert_factory> ca;
        for (int i = 2; i < argc; ++i) {
            const std::string spec = argv[i];
            const auto parts = split(spec, ':');
            if (parts.size() >= 2 && parts.size() <= 3 && parts[0] == "ca") {
                if (!plain_stem(parts[1]))
                    return usage("bad file stem in '" + spec + "'");
                const std::string subject =
                    parts.size() == 3 ? parts[2] : "bws test CA " + parts[1];
                ca = std::make_unique<cert_factory>(dir, subject);
                const fs::path target = dir / (parts[1] + ".pem");
                fs::copy_file(ca->ca_file(), target, fs::copy_options::overwrite_existing);
                fs::remove(ca->ca_file());
                std::cout << target.string() << "\n";
                continue;
            }
            if (parts.size() < 4 || parts[0] != "leaf")
                return usage("cannot read '" + spec + "'");
            if (!ca)
                return usage("'" + spec + "' comes before any ca:STEM");
            if (!plain_stem(parts[1]))
                return usage("bad file stem in '" + spec + "'");
            leaf_options options;
            if (parts[2] == "rsa")
                options.kind = key_kind::rsa;
            else if (parts[2] == "ecdsa")
                options.kind = key_kind::ecdsa;
            else
                return usage("key kind must be rsa or ecdsa in '" + spec + "'");
            options.dns_names = split(parts[3], ',');
            if (options.dns_names.empty() || options.dns_names.front().empty())
                return usage("no name in '" + spec + "'");
            options.common_name = options.dns_names.front();
            bool mismatched = false;
            for (std::size_t p = 4; p < parts.size(); ++p) {
                if (parts[p] == "client") {
                    options.client = true;
                } else if (parts[p] == "expired") {
                    options.valid_from_seconds = -2 * 86400;
                    options.valid_until_seconds = -86400;
                } else if (parts[p] == "mismatched") {
                    mismatched = true;
                } else {
                    return usage("unknown option '" + parts[p] + "' in '" + spec + "'");
                }
            }
            const pem_files files =
                mismatched ? ca->issue_mismatched(parts[1], options) : ca->issue(parts[1], options);
            std::cout << files.cert_file.string() << "\n" << files.key_file.string() << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "bws_make_test_pki: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
