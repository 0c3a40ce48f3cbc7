// The environment checks of upstream transports (see upstream_url.hpp): the CA file of https://
// upstreams read and parsed once by the loader, and Unix sockets that are not there yet.
#include "config/upstream_url.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

namespace bws::config::detail {

namespace {

// The number of PEM certificates in `text`; -1 when one of them does not parse.
int count_certificates(const std::string& text) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
    if (!bio)
        return -1;
    int count = 0;
    for (;;) {
        X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (cert == nullptr)
            break;
        X509_free(cert);
        ++count;
    }
    // The loop ends at the end of the text (PEM_R_NO_START_LINE) or at a broken certificate.
    const unsigned long last = ERR_peek_last_error();
    const bool clean_end = last == 0 || (ERR_GET_LIB(last) == ERR_LIB_PEM &&
                                         ERR_GET_REASON(last) == PEM_R_NO_START_LINE);
    ERR_clear_error();
    return clean_end ? count : -1;
}

bool has_tls_server(const site_proxy& proxy) {
    for (const auto& pool : proxy.pools)
        for (const auto& server : pool.servers)
            if (server.transport == upstream_transport::tls)
                return true;
    return false;
}

} // namespace

void check_upstream_files(snapshot& config, report& out) {
    for (auto& site : config.sites) {
        if (!site.proxy)
            continue;
        auto& proxy = *site.proxy;
        for (const auto& pool : proxy.pools)
            for (const auto& server : pool.servers) {
                if (server.transport != upstream_transport::unix_socket)
                    continue;
                std::error_code ec;
                const auto st = std::filesystem::status(server.unix_path, ec);
                if (ec || st.type() != std::filesystem::file_type::socket)
                    out.warning(server.pos,
                                "url: '" + server.unix_path.string() +
                                    (ec || st.type() == std::filesystem::file_type::not_found
                                         ? "' does not exist yet"
                                         : "' is not a socket") +
                                    " (requests fail with 502 until the backend listens there)");
            }
        if (proxy.tls.ca_file.empty())
            continue;
        std::ifstream in(proxy.tls.ca_file, std::ios::binary);
        std::ostringstream text;
        if (in)
            text << in.rdbuf();
        if (!in || in.bad()) {
            out.error(proxy.tls.ca_pos, "ca_file: cannot read '" + proxy.tls.ca_file.string() +
                                            "': " + std::generic_category().message(errno));
            continue;
        }
        proxy.tls.ca_pem = text.str();
        const int count = count_certificates(proxy.tls.ca_pem);
        if (count <= 0) {
            out.error(proxy.tls.ca_pos, "ca_file: '" + proxy.tls.ca_file.string() + "' " +
                                            (count == 0 ? "has no PEM certificate"
                                                        : "has a PEM certificate that "
                                                          "does not parse"));
            proxy.tls.ca_pem.clear();
            continue;
        }
        if (!has_tls_server(proxy))
            out.warning(proxy.tls.ca_pos, "ca_file: the site has no https:// upstream to verify");
    }
}

} // namespace bws::config::detail
