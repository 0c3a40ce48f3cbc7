// Directory listings and the single-page-app fallback, through the static handler on a temp
// docroot, and the listing pieces on their own.
#include "files/dir_listing.hpp"
#include "files/static_handler.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace bws;
using files::request_info;

namespace {

class Listing : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = dir_.path() / "www";
        fs::create_directories(root_ / "list" / "zdir");
        fs::create_directories(root_ / "app");
        dir_.write("www/index.html", "<h1>spa</h1>");
        dir_.write("www/list/b.txt", "bbbb");
        dir_.write("www/list/a.txt", "a");
        dir_.write("www/list/.secret", "hidden");
        dir_.write("www/list/<script>&\"x\".txt", "tricky");
        dir_.write("www/list/50%#off?.txt", "encoded");
        dir_.write("www/app/real.js", "js");
        std::ofstream(dir_.path() / "outside.txt") << "outside";
        fs::create_symlink("a.txt", root_ / "list" / "inside-link");
        fs::create_symlink(dir_.path() / "outside.txt", root_ / "list" / "outside-link");
        ::mkfifo((root_ / "list" / "fifo").c_str(), 0600);
        site_.name = "test";
        site_.static_dir = root_;
    }
    http::response get(std::string_view path, std::string_view accept = {}, bool head = false,
                       std::string_view if_none_match = {}) {
        request_info r;
        r.raw_path = path;
        r.accept = accept;
        r.head = head;
        r.if_none_match = if_none_match;
        return files::static_handler(site_, limits_, nullptr).handle(r);
    }
    static std::optional<std::string> header(const http::response& r, std::string_view name) {
        for (const auto& [k, v] : r.headers)
            if (k == name)
                return v;
        return std::nullopt;
    }
    static std::string body(const http::response& r) {
        std::string out;
        for (const auto& piece : r.body)
            out += piece.bytes; // listings and small files come from memory
        return out;
    }

    bws::test::temp_dir dir_{"bws-listing"};
    fs::path root_;
    config::site site_;
    config::limits limits_;
};

} // namespace

TEST_F(Listing, OffByDefault) {
    EXPECT_EQ(get("/list/").status, 404u);
}

TEST_F(Listing, HtmlSortedEscapedWithoutHiddenOrEscapingEntries) {
    site_.directory_listing = true;
    const auto r = get("/list/");
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(header(r, "Vary"), "Accept");
    const std::string page = body(r);
    // Directories first, then files by name.
    const auto zdir = page.find("href=\"zdir/\"");
    const auto a = page.find("href=\"a.txt\"");
    const auto b = page.find("href=\"b.txt\"");
    ASSERT_NE(zdir, std::string::npos);
    ASSERT_NE(a, std::string::npos);
    ASSERT_NE(b, std::string::npos);
    EXPECT_LT(zdir, a);
    EXPECT_LT(a, b);
    EXPECT_NE(page.find("href=\"inside-link\""), std::string::npos);
    EXPECT_EQ(page.find("outside-link"), std::string::npos);
    EXPECT_EQ(page.find(".secret"), std::string::npos);
    EXPECT_EQ(page.find("fifo"), std::string::npos);
    EXPECT_EQ(page.find("<script>"), std::string::npos);
    EXPECT_NE(page.find("&lt;script&gt;&amp;&quot;x&quot;.txt"), std::string::npos);
    EXPECT_NE(page.find("href=\"50%25%23off%3F.txt\""), std::string::npos);
    EXPECT_NE(page.find("href=\"../\""), std::string::npos);
    EXPECT_NE(page.find("Index of /list/"), std::string::npos);
}

TEST_F(Listing, JsonWhenAskedForAndNotWhenRefused) {
    site_.directory_listing = true;
    const auto r = get("/list/", "text/html;q=0.9, application/json");
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(header(r, "Content-Type"), "application/json");
    const auto doc = boost::json::parse(body(r)).as_object();
    EXPECT_EQ(doc.at("path").as_string(), "/list/");
    const auto& items = doc.at("items").as_array();
    ASSERT_EQ(items.size(), 6u); // zdir, 50%#off?.txt, <script>..., a.txt, b.txt, inside-link
    EXPECT_EQ(items[0].as_object().at("name").as_string(), "zdir");
    EXPECT_TRUE(items[0].as_object().at("is_dir").as_bool());
    bool saw_b = false;
    for (const auto& item : items) {
        const auto& o = item.as_object();
        if (o.at("name").as_string() == "b.txt") {
            saw_b = true;
            EXPECT_EQ(o.at("size").to_number<std::uint64_t>(), 4u);
        }
    }
    EXPECT_TRUE(saw_b);
    EXPECT_EQ(header(get("/list/", "application/json;q=0"), "Content-Type"),
              "text/html; charset=utf-8");
}

TEST_F(Listing, HeadHasLengthWithoutBody) {
    site_.directory_listing = true;
    const auto full = get("/list/");
    const auto head = get("/list/", {}, true);
    EXPECT_EQ(head.status, 200u);
    EXPECT_TRUE(head.body.empty());
    EXPECT_EQ(header(head, "Content-Length"), std::to_string(body(full).size()));
}

TEST_F(Listing, IndexFileStillWins) {
    site_.directory_listing = true;
    EXPECT_EQ(body(get("/")), "<h1>spa</h1>");
}

TEST_F(Listing, TruncatedAtTheLimit) {
    files::root_dir root(root_);
    files::listing l;
    ASSERT_EQ(files::read_listing(root, "list", l, 2), 0);
    EXPECT_EQ(l.entries.size(), 2u);
    EXPECT_TRUE(l.truncated);
    EXPECT_NE(files::listing_html("/list/", l).find("Only the first 2 entries"), std::string::npos);
    EXPECT_EQ(files::read_listing(root, "missing", l), ENOENT);
}

TEST(ListingAccept, JsonRule) {
    EXPECT_TRUE(files::wants_json_listing("application/json"));
    EXPECT_TRUE(files::wants_json_listing("text/html, Application/JSON;q=0.5"));
    EXPECT_FALSE(files::wants_json_listing(""));
    EXPECT_FALSE(files::wants_json_listing("text/html,*/*;q=0.8"));
    EXPECT_FALSE(files::wants_json_listing("application/json;q=0"));
    EXPECT_FALSE(files::wants_json_listing("application/json; q=0.000"));
    EXPECT_FALSE(files::wants_json_listing("application/jsonx"));
}

TEST_F(Listing, FallbackAnswersRoutesNotAssetsNorHiddenPaths) {
    site_.fallback = "index.html";
    auto r = get("/users/42");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(body(r), "<h1>spa</h1>");
    EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(body(get("/app/real.js")), "js"); // existing files are served as they are
    EXPECT_EQ(get("/app/missing.js").status, 404u);
    EXPECT_EQ(get("/.env").status, 404u);
    EXPECT_EQ(get("/%zz").status, 400u);
    // Conditional requests work on the fallback file.
    const std::string etag = *header(r, "ETag");
    EXPECT_EQ(get("/other/route", {}, false, etag).status, 304u);

    site_.fallback_for_extensions = true;
    EXPECT_EQ(get("/app/missing.js").status, 200u);
    EXPECT_EQ(get("/.env").status, 404u);
}

TEST_F(Listing, MissingFallbackFileKeeps404) {
    site_.fallback = "nothere.html";
    EXPECT_EQ(get("/route").status, 404u);
}
