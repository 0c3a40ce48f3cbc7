// Fuzz target: a request's whole way to its response head without a socket: the session's parse
// loop (pipelined requests included), the router over a fixed vhost table, the static handler
// over a small document tree made once per process, the error page and the serialised head,
// whose framing is checked: no bare CR or LF, one header block, one Content-Length.
#include "fuzz_check.hpp"

#include "files/file_cache.hpp"
#include "files/static_handler.hpp"
#include "http/response_head.hpp"
#include "http/router.hpp"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using namespace bws;

constexpr int max_pipelined = 4;

struct site_runtime {
    config::site config;
    std::unique_ptr<files::static_handler> files;
    std::string header_block;
    std::vector<std::string> header_names;
    std::map<unsigned, std::string> error_pages;
};

struct world {
    fs::path root;
    config::limits limits;
    std::vector<site_runtime> sites;
    http::vhost_table vhosts;

    world() {
        std::string dir = (fs::temp_directory_path() / "bws-fuzz-XXXXXX").string();
        if (mkdtemp(dir.data()) == nullptr)
            std::abort();
        root = dir;
        auto write = [&](const fs::path& rel, std::string_view text) {
            fs::create_directories((root / rel).parent_path());
            std::ofstream(root / rel, std::ios::binary) << text;
        };
        write("index.html", "<h1>main</h1>\n");
        write("hello.txt", "hello\n");
        write("digits.txt", std::string(100, '7'));
        write("empty.txt", "");
        write("100%.txt", "percent\n");
        write("sp ace.txt", "space\n");
        write("dir/index.html", "<h1>dir</h1>\n");
        write("dir/sub/a.css", "a{}\n");
        write(".hidden", "secret\n");
        write(".well-known/acme", "token\n");
        fs::create_directories(root / "noindex");
        std::error_code ec;
        fs::create_directory_symlink("/etc", root / "escape", ec);
        fs::create_symlink("hello.txt", root / "inside-link", ec);

        auto add = [&](std::string name, std::vector<std::string> hostnames,
                       std::vector<std::pair<std::string, std::string>> headers) {
            site_runtime s;
            s.config.name = std::move(name);
            s.config.hostnames = std::move(hostnames);
            s.config.static_dir = root;
            s.config.headers = std::move(headers);
            for (const auto& [n, v] : s.config.headers) {
                s.header_block += n + ": " + v + "\r\n";
                std::string lower(n);
                for (char& c : lower)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                s.header_names.push_back(lower);
            }
            sites.push_back(std::move(s));
        };
        add("main", {"main.test"}, {{"X-Site", "main"}, {"Cache-Control", "no-cache"}});
        add("blog", {"blog.test", "www.blog.test"}, {});
        add("wild", {"*.wild.test"}, {{"Strict-Transport-Security", "max-age=60"}});
        sites[1].config.cache.enabled = true;
        sites[1].config.cache.cache_control =
            config::cache_header{"max-age=3600", std::chrono::seconds(3600)};
        sites[1].error_pages[404] = "<p>blog: not found</p>\n";
        sites[2].config.index_files = {"index.htm"};
        auto cache = std::make_shared<files::file_cache>();
        for (std::size_t i = 0; i < sites.size(); ++i) {
            sites[i].files =
                std::make_unique<files::static_handler>(sites[i].config, limits, cache);
            for (const auto& name : sites[i].config.hostnames)
                vhosts.add_name(name, i);
        }
        vhosts.set_default(0);
    }
    ~world() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
};

world* the_world = nullptr;

bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// The head must be one status line, then "Name: value" lines, then the empty line, nothing else.
void check_head(const std::string& out, const http::response& r, bool head_request,
                std::uint64_t body_bytes) {
    BWS_FUZZ_CHECK(out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0);
    BWS_FUZZ_CHECK(out.find("\r\n\r\n") == out.size() - 4);
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\r')
            BWS_FUZZ_CHECK(i + 1 < out.size() && out[i + 1] == '\n');
        if (out[i] == '\n')
            BWS_FUZZ_CHECK(i > 0 && out[i - 1] == '\r');
        BWS_FUZZ_CHECK(out[i] != '\0');
    }
    BWS_FUZZ_CHECK(out.rfind("HTTP/1.1 ", 0) == 0);
    BWS_FUZZ_CHECK(r.status >= 100 && r.status <= 599);
    int content_length = 0;
    int connection = 0;
    std::string_view length_value;
    std::size_t pos = out.find("\r\n") + 2;
    while (pos < out.size() - 2) {
        const auto end = out.find("\r\n", pos);
        const std::string_view line(out.data() + pos, end - pos);
        const auto colon = line.find(": ");
        BWS_FUZZ_CHECK(colon != std::string_view::npos && colon > 0);
        const auto name = line.substr(0, colon);
        const auto value = line.substr(colon + 2);
        for (char c : name)
            BWS_FUZZ_CHECK(is_tchar(c));
        for (char c : value)
            BWS_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\t');
        if (iequal(name, "content-length")) {
            ++content_length;
            length_value = value;
        }
        if (iequal(name, "connection"))
            ++connection;
        if (iequal(name, "location"))
            BWS_FUZZ_CHECK(!value.empty() && value.front() == '/' &&
                           (value.size() < 2 || value[1] != '/'));
        pos = end + 2;
    }
    BWS_FUZZ_CHECK(connection == 1);
    const bool bodiless = r.status == 204 || r.status == 304;
    BWS_FUZZ_CHECK(content_length == (bodiless ? 0 : 1));
    if (!bodiless && !head_request)
        BWS_FUZZ_CHECK(length_value == std::to_string(r.content_length()));
    BWS_FUZZ_CHECK(body_bytes == (head_request || bodiless ? 0 : r.content_length()));
}

// session::respond(): error page, head, framing checks.
void respond(http::response&& r, const site_runtime& site, bool head_request, bool keep_alive) {
    http::apply_error_page(r, site.error_pages);
    http::head_context context;
    context.date_line = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
    context.server_line = "Server: bws/0\r\n";
    context.site_block = site.header_block;
    context.site_names = &site.header_names;
    context.keep_alive = keep_alive;
    static std::string out;
    const auto body_bytes = http::serialize_head(out, r, context, head_request);
    check_head(out, r, head_request, body_bytes);
}

// session::handle_request(); returns whether the connection stays open.
bool handle(const world& w, const http::request_head& head, bool keep_alive) {
    const auto d = http::route(w.vhosts, "/health", head);
    BWS_FUZZ_CHECK(d.site < w.sites.size());
    const auto& site = w.sites[d.site];
    if (d.close) {
        BWS_FUZZ_CHECK(d.kind == http::route_kind::error && d.status == 400);
        http::response r;
        r.status = d.status;
        r.use_error_page = true;
        respond(std::move(r), site, d.head, false);
        return false;
    }
    BWS_FUZZ_CHECK(!d.path.empty() && d.path.front() == '/');
    BWS_FUZZ_CHECK(d.path.find('?') == std::string_view::npos);
    keep_alive =
        keep_alive && (head.version >= 11 ? !head.connection_close : head.connection_keep_alive);
    http::response r;
    switch (d.kind) {
    case http::route_kind::error:
        r.status = d.status;
        r.use_error_page = true;
        if (d.allow_header)
            r.set_header("Allow", "GET, HEAD");
        break;
    case http::route_kind::health:
    case http::route_kind::health_detailed: {
        r.set_header("Content-Type", "application/json");
        http::body_piece piece;
        piece.bytes = R"({"status":"ok"})";
        r.body.push_back(std::move(piece));
        break;
    }
    case http::route_kind::static_files: {
        files::request_info info;
        info.head = d.head;
        info.raw_path = d.path;
        info.query = d.query;
        info.if_none_match = head.if_none_match;
        info.if_modified_since = head.if_modified_since;
        info.if_match = head.if_match;
        info.if_unmodified_since = head.if_unmodified_since;
        info.range = head.range;
        info.if_range = head.if_range;
        r = site.files->handle(info);
        break;
    }
    }
    respond(std::move(r), site, d.head, keep_alive);
    return keep_alive;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    static world w;
    the_world = &w;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const world& w = *the_world;
    std::string buffer;
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    bool keep_alive = true;
    for (int i = 0; i < max_pipelined && keep_alive; ++i) {
        http::request_parser parser(w.limits);
        const auto outcome = fuzz::parse_like_session(parser, buffer, rest);
        rest = {};
        if (outcome.error_status != 0) {
            // session::respond_error(): the default site unless the head was read.
            http::response r;
            r.status = outcome.error_status;
            r.use_error_page = true;
            const bool head = parser.is_header_done() && parser.head().method == bhttp::verb::head;
            respond(std::move(r), w.sites[0], head, false);
            return 0;
        }
        if (!outcome.complete && !outcome.body_refused)
            return 0; // the session would wait for more bytes
        keep_alive = handle(w, parser.head(), keep_alive && !outcome.body_refused);
    }
    return 0;
}
