// The static handler end to end on a temp docroot: statuses, headers and exact bodies.
#include "files/file_cache.hpp"
#include "files/http_date.hpp"
#include "files/static_handler.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace bws;
using files::request_info;

namespace {

class FilesHandler : public ::testing::Test {
protected:
    void SetUp() override {
        base_ = dir_.path();
        root_ = base_ / "www";
        fs::create_directories(root_ / "sub");
        fs::create_directories(root_ / "empty");
        fs::create_directories(root_ / ".well-known" / "acme-challenge");
        fs::create_directories(root_ / ".git");
        write("index.html", "<h1>home</h1>");
        write("sub/index.htm", "sub index htm");
        write("hello.txt", "hello world");
        write("digits.txt", "0123456789");
        write("style.CSS", "body{}");
        write("noext", "raw");
        write("empty.txt", "");
        write(".env", "SECRET=1");
        write(".git/config", "[core]");
        write(".well-known/acme-challenge/token", "acme");
        write("a b.txt", "space");
        std::ofstream(base_ / "outside.txt") << "outside";
        site_.name = "test";
        site_.static_dir = root_;
    }
    void write(const std::string& rel, const std::string& text) { dir_.write("www/" + rel, text); }
    files::static_handler make(std::shared_ptr<files::file_cache> cache = nullptr) {
        return files::static_handler(site_, limits_, std::move(cache));
    }
    http::response get(std::string_view path) {
        request_info r;
        r.raw_path = path;
        return make().handle(r);
    }
    static std::optional<std::string> header(const http::response& r, std::string_view name) {
        for (const auto& [k, v] : r.headers)
            if (k == name)
                return v;
        return std::nullopt;
    }
    // The body as the session would send it: memory pieces and file slices read with pread.
    static std::string body(const http::response& r) {
        std::string out;
        for (const auto& piece : r.body) {
            if (!piece.file) {
                out += piece.bytes;
                continue;
            }
            std::string buf(piece.length, '\0');
            ssize_t n =
                ::pread(piece.file->fd(), buf.data(), buf.size(), static_cast<off_t>(piece.offset));
            EXPECT_EQ(n, static_cast<ssize_t>(piece.length));
            out += buf;
        }
        return out;
    }

    bws::test::temp_dir dir_{"bws-handler"};
    fs::path base_;
    fs::path root_;
    config::site site_;
    config::limits limits_;
};

} // namespace

TEST_F(FilesHandler, ServesAFileWithHeaders) {
    auto r = get("/hello.txt");
    EXPECT_EQ(r.status, 200u);
    EXPECT_FALSE(r.use_error_page);
    EXPECT_EQ(body(r), "hello world");
    EXPECT_EQ(header(r, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(header(r, "Accept-Ranges"), "bytes");
    EXPECT_FALSE(header(r, "Content-Length")); // the session derives it for GET
    EXPECT_FALSE(header(r, "Cache-Control"));

    struct stat st {};
    ASSERT_EQ(::stat((root_ / "hello.txt").c_str(), &st), 0);
    EXPECT_EQ(header(r, "Last-Modified"), files::format_http_date(st.st_mtim.tv_sec));
    auto etag = header(r, "ETag");
    ASSERT_TRUE(etag);
    EXPECT_EQ(etag->front(), '"');
    EXPECT_EQ(etag->back(), '"');
    EXPECT_NE(etag->find("-b\""), std::string::npos) << *etag; // size 11 in hex
}

TEST_F(FilesHandler, MimeFromNameCaseInsensitive) {
    EXPECT_EQ(header(get("/style.CSS"), "Content-Type"), "text/css; charset=utf-8");
    EXPECT_EQ(header(get("/noext"), "Content-Type"), "application/octet-stream");
    EXPECT_EQ(header(get("/"), "Content-Type"), "text/html; charset=utf-8");
}

TEST_F(FilesHandler, CacheControlFromSite) {
    site_.cache.enabled = true;
    site_.cache.cache_control =
        config::cache_header{"public, max-age=60", std::chrono::seconds(60)};
    auto r = get("/hello.txt");
    EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=60");
}

TEST_F(FilesHandler, PercentEncodedNames) {
    auto r = get("/a%20b.txt");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(body(r), "space");
    EXPECT_EQ(get("/sub/../hello.txt").status, 200u);
    EXPECT_EQ(get("/sub/%2e%2e/hello.txt").status, 200u);
}

TEST_F(FilesHandler, BadPathsAre400) {
    for (const char* p :
         {"/../index.html", "/%2e%2e/%2e%2e/etc/passwd", "/%2E%2e%2fetc", "/..%2foutside.txt",
          "/..\\outside.txt", "/sub\\..\\hello.txt", "/hello.txt%00.html", "/%5c..%5coutside.txt",
          "/%", "/%1", "/%zz", "/a%2Fb", "/sub/../../outside.txt"}) {
        auto r = get(p);
        EXPECT_EQ(r.status, 400u) << p;
        EXPECT_TRUE(r.use_error_page) << p;
        EXPECT_TRUE(r.body.empty()) << p;
    }
}

TEST_F(FilesHandler, MissingIs404) {
    auto r = get("/nope.html");
    EXPECT_EQ(r.status, 404u);
    EXPECT_TRUE(r.use_error_page);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(get("/hello.txt/").status, 404u); // a file is not a directory
    EXPECT_EQ(get("/hello.txt/x").status, 404u);
}

TEST_F(FilesHandler, HiddenFilesAre404ExceptWellKnown) {
    EXPECT_EQ(get("/.env").status, 404u);
    EXPECT_EQ(get("/.git/config").status, 404u);
    EXPECT_EQ(get("/%2eenv").status, 404u);
    EXPECT_EQ(get("/sub/../.env").status, 404u);
    auto r = get("/.well-known/acme-challenge/token");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(body(r), "acme");
}

TEST_F(FilesHandler, SymlinkInsideServedOutsideRefused) {
    fs::create_symlink("hello.txt", root_ / "inside-link.txt");
    fs::create_symlink("../outside.txt", root_ / "outside-link.txt");
    fs::create_symlink(base_ / "outside.txt", root_ / "outside-abs.txt");
    fs::create_directory_symlink(base_, root_ / "up");
    auto in = get("/inside-link.txt");
    EXPECT_EQ(in.status, 200u);
    EXPECT_EQ(body(in), "hello world");
    EXPECT_EQ(get("/outside-link.txt").status, 404u);
    EXPECT_EQ(get("/outside-abs.txt").status, 404u);
    EXPECT_EQ(get("/up/outside.txt").status, 404u);
    EXPECT_EQ(get("/up/").status, 404u);
}

TEST_F(FilesHandler, IndexSymlinkOutsideRefused) {
    fs::create_directories(root_ / "trap");
    fs::create_symlink(base_ / "outside.txt", root_ / "trap" / "index.html");
    EXPECT_EQ(get("/trap/").status, 404u);
}

TEST_F(FilesHandler, IndexFiles) {
    auto r = get("/");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(body(r), "<h1>home</h1>");
    r = get("/sub/"); // falls through to the second index name
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(body(r), "sub index htm");
    EXPECT_EQ(get("/empty/").status, 404u); // no listing
    site_.index_files = {"hello.txt"};
    r = get("/");
    EXPECT_EQ(body(r), "hello world");
    EXPECT_EQ(header(r, "Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(FilesHandler, DirectoryWithoutSlashRedirects) {
    request_info req;
    req.raw_path = "/sub";
    auto r = make().handle(req);
    EXPECT_EQ(r.status, 301u);
    EXPECT_EQ(header(r, "Location"), "/sub/");
    req.query = "a=1&b=%20";
    r = make().handle(req);
    EXPECT_EQ(header(r, "Location"), "/sub/?a=1&b=%20");
    req.query = {};
    req.raw_path = "/%73ub"; // the raw (encoded) form is kept
    EXPECT_EQ(header(make().handle(req), "Location"), "/%73ub/");
    // Leading "//" would be a protocol-relative redirect to another host.
    req.raw_path = "//sub";
    EXPECT_EQ(header(make().handle(req), "Location"), "/sub/");
    EXPECT_EQ(get("/.well-known").status, 301u);
}

TEST_F(FilesHandler, PermissionDeniedIs403) {
    write("private.txt", "private");
    fs::permissions(root_ / "private.txt", fs::perms::none);
    struct outcome {
        unsigned status;
        bool use_error_page;
        unsigned readable_status; // a readable file next to it, to show the user can read at all
    };
    // Root ignores file permissions: as root, the handler runs in a child dropped to "nobody".
    const auto r = bws::test::as_unprivileged([&] {
        const auto denied = get("/private.txt");
        return outcome{denied.status, denied.use_error_page, get("/hello.txt").status};
    });
    ASSERT_TRUE(r.has_value()) << "the unprivileged child failed";
    EXPECT_EQ(r->status, 403u);
    EXPECT_TRUE(r->use_error_page);
    EXPECT_EQ(r->readable_status, 200u);
}

TEST_F(FilesHandler, MissingRootIs404) {
    site_.static_dir = base_ / "does-not-exist";
    EXPECT_EQ(get("/index.html").status, 404u);
}

TEST_F(FilesHandler, HeadHasHeadersAndLengthButNoBody) {
    request_info req;
    req.raw_path = "/hello.txt";
    req.head = true;
    auto r = make().handle(req);
    EXPECT_EQ(r.status, 200u);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(header(r, "Content-Length"), "11");
    EXPECT_EQ(header(r, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_TRUE(header(r, "ETag"));
    req.range = "bytes=0-3";
    r = make().handle(req);
    EXPECT_EQ(r.status, 206u);
    EXPECT_EQ(header(r, "Content-Length"), "4");
    EXPECT_EQ(header(r, "Content-Range"), "bytes 0-3/11");
    EXPECT_TRUE(r.body.empty());
}

TEST_F(FilesHandler, EmptyFile) {
    auto r = get("/empty.txt");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.content_length(), 0u);
}

TEST_F(FilesHandler, Conditionals) {
    auto full = get("/hello.txt");
    std::string etag = *header(full, "ETag");
    std::string lm = *header(full, "Last-Modified");
    site_.cache.enabled = true;
    site_.cache.cache_control = config::cache_header{"no-cache", std::nullopt};
    auto handler = make();
    request_info req;
    req.raw_path = "/hello.txt";

    req.if_none_match = etag;
    auto r = handler.handle(req);
    EXPECT_EQ(r.status, 304u);
    EXPECT_TRUE(r.body.empty());
    EXPECT_FALSE(r.use_error_page);
    EXPECT_EQ(header(r, "ETag"), etag);
    EXPECT_EQ(header(r, "Last-Modified"), lm);
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
    EXPECT_FALSE(header(r, "Content-Type"));

    const std::string weak = "W/" + etag; // request_info holds views: keep the string alive
    req.if_none_match = weak;
    EXPECT_EQ(handler.handle(req).status, 304u);
    req.if_none_match = "\"other\"";
    req.if_modified_since = lm; // ignored because If-None-Match is present
    EXPECT_EQ(handler.handle(req).status, 200u);

    req.if_none_match = {};
    EXPECT_EQ(handler.handle(req).status, 304u);
    std::string old = files::format_http_date(1'000'000'000);
    req.if_modified_since = old;
    EXPECT_EQ(handler.handle(req).status, 200u);
    req.if_modified_since = {};

    req.if_match = "\"other\"";
    r = handler.handle(req);
    EXPECT_EQ(r.status, 412u);
    EXPECT_TRUE(r.use_error_page);
    req.if_match = etag;
    EXPECT_EQ(handler.handle(req).status, 200u);
    req.if_match = {};

    req.if_unmodified_since = old;
    EXPECT_EQ(handler.handle(req).status, 412u);
    req.if_unmodified_since = lm;
    EXPECT_EQ(handler.handle(req).status, 200u);
}

TEST_F(FilesHandler, SingleRanges) {
    auto handler = make();
    request_info req;
    req.raw_path = "/digits.txt";
    struct expectation {
        const char* range;
        const char* content_range;
        const char* body;
    };
    for (auto [range, content_range, want] :
         {expectation{"bytes=2-4", "bytes 2-4/10", "234"},
          expectation{"bytes=7-", "bytes 7-9/10", "789"},
          expectation{"bytes=-3", "bytes 7-9/10", "789"},
          expectation{"bytes=5-100", "bytes 5-9/10", "56789"}}) {
        req.range = range;
        auto r = handler.handle(req);
        EXPECT_EQ(r.status, 206u) << range;
        EXPECT_EQ(header(r, "Content-Range"), content_range) << range;
        EXPECT_EQ(header(r, "Content-Type"), "text/plain; charset=utf-8");
        EXPECT_EQ(header(r, "Accept-Ranges"), "bytes");
        EXPECT_TRUE(header(r, "ETag"));
        EXPECT_EQ(body(r), want) << range;
    }
}

TEST_F(FilesHandler, MultipleRangesBuildExactMultipartBody) {
    request_info req;
    req.raw_path = "/digits.txt";
    req.range = "bytes=0-1,-2";
    auto r = make().handle(req);
    ASSERT_EQ(r.status, 206u);
    auto type = header(r, "Content-Type");
    ASSERT_TRUE(type);
    const std::string prefix = "multipart/byteranges; boundary=";
    ASSERT_EQ(type->substr(0, prefix.size()), prefix);
    std::string b = type->substr(prefix.size());
    EXPECT_FALSE(header(r, "Content-Range"));
    std::string expected = "--" + b +
                           "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                           "Content-Range: bytes 0-1/10\r\n\r\n01\r\n--" +
                           b +
                           "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                           "Content-Range: bytes 8-9/10\r\n\r\n89\r\n--" +
                           b + "--\r\n";
    EXPECT_EQ(body(r), expected);
    EXPECT_EQ(r.content_length(), expected.size());
}

TEST_F(FilesHandler, UnsatisfiableRangeIs416) {
    request_info req;
    req.raw_path = "/digits.txt";
    for (const char* range : {"bytes=10-", "bytes=99999-", "bytes=10-5"}) {
        req.range = range;
        auto r = make().handle(req);
        EXPECT_EQ(r.status, 416u) << range;
        EXPECT_TRUE(r.use_error_page);
        EXPECT_TRUE(r.body.empty());
        EXPECT_EQ(header(r, "Content-Range"), "bytes */10");
    }
}

TEST_F(FilesHandler, IgnoredRangesGive200) {
    limits_.max_ranges = 2;
    request_info req;
    req.raw_path = "/digits.txt";
    for (const char* range : {"bytes=0-0,2-2,4-4", "bytes=x-y", "lines=1-2"}) {
        req.range = range;
        auto r = make().handle(req);
        EXPECT_EQ(r.status, 200u) << range;
        EXPECT_EQ(body(r), "0123456789") << range;
    }
}

// A repeated range is coalesced: one part, the file once (it used to be ignored with a 200).
TEST_F(FilesHandler, OverlappingRangesAreOnePart) {
    request_info req;
    req.raw_path = "/digits.txt";
    req.range = "bytes=0-9,0-9,2-5";
    auto r = make().handle(req);
    EXPECT_EQ(r.status, 206u);
    EXPECT_EQ(header(r, "Content-Range"), "bytes 0-9/10");
    EXPECT_EQ(body(r), "0123456789");
}

TEST_F(FilesHandler, IfRange) {
    auto full = get("/digits.txt");
    std::string etag = *header(full, "ETag");
    std::string lm = *header(full, "Last-Modified");
    request_info req;
    req.raw_path = "/digits.txt";
    req.range = "bytes=0-0";
    auto handler = make();
    req.if_range = etag;
    EXPECT_EQ(handler.handle(req).status, 206u);
    req.if_range = lm;
    EXPECT_EQ(handler.handle(req).status, 206u);
    req.if_range = "\"stale\"";
    auto r = handler.handle(req);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(body(r), "0123456789");
    std::string old = files::format_http_date(1'000'000'000);
    req.if_range = old;
    EXPECT_EQ(handler.handle(req).status, 200u);
    // A stale If-Range also keeps an unsatisfiable Range from turning into 416.
    req.range = "bytes=50-";
    EXPECT_EQ(handler.handle(req).status, 200u);
}

TEST_F(FilesHandler, LargeFilesAreFileSlicesNotMemory) {
    std::string big(200 * 1024, 'x');
    big[150000] = 'Y';
    write("big.bin", big);
    auto r = get("/big.bin");
    ASSERT_EQ(r.status, 200u);
    ASSERT_EQ(r.body.size(), 1u);
    EXPECT_TRUE(r.body[0].file);
    EXPECT_EQ(r.body[0].offset, 0u);
    EXPECT_EQ(r.body[0].length, big.size());
    EXPECT_EQ(body(r), big);
    request_info req;
    req.raw_path = "/big.bin";
    req.range = "bytes=150000-150001";
    r = make().handle(req);
    ASSERT_EQ(r.body.size(), 1u);
    EXPECT_TRUE(r.body[0].file);
    EXPECT_EQ(r.body[0].offset, 150000u);
    EXPECT_EQ(body(r), "Yx");
}

TEST_F(FilesHandler, SmallFilesAreServedFromMemory) {
    auto r = get("/hello.txt");
    ASSERT_EQ(r.body.size(), 1u);
    EXPECT_FALSE(r.body[0].file);
    EXPECT_EQ(r.body[0].bytes, "hello world");
}
