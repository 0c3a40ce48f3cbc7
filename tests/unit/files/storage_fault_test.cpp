// The static handler on storage that fails the way a dying disk (EIO) or an NFS export that went
// away (ESTALE) does, through the file cache's opener: 500 and an error log line naming the site,
// path and root, for the requested file, an index file and the root itself; absence and refusal
// stay 404/403 without a log line; nothing is remembered once the storage recovers.
#include "files/file_cache.hpp"
#include "files/root_dir.hpp"
#include "files/static_handler.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>

using namespace bws;

namespace {

class FilesStorageFault : public ::testing::Test {
protected:
    void SetUp() override {
        dir_.write("www/index.html", "<h1>home</h1>");
        dir_.write("www/hello.txt", "hello world");
        site_.name = "faulty";
        site_.static_dir = dir_.path() / "www";
        previous_ = spdlog::default_logger();
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
        auto logger = std::make_shared<spdlog::logger>("storage-fault-test", sink);
        logger->set_pattern("%l %v");
        spdlog::set_default_logger(logger);
    }
    void TearDown() override { spdlog::set_default_logger(previous_); }

    // A handler whose opens of `failing` ("" is the root itself) fail with `fail_with` while it
    // is non-zero; every other path opens for real.
    files::static_handler make() {
        auto opener = [this](const files::root_dir& root, std::string_view relative) {
            if (fail_with != 0 && relative == failing)
                return -fail_with;
            return root.open_beneath(relative);
        };
        // Revalidation after 0 ms: every request reaches the opener, as after a second.
        auto cache = std::make_shared<files::file_cache>(
            100, std::chrono::milliseconds(0), 64 * 1024, &files::file_cache::clock::now, opener);
        return files::static_handler(site_, limits_, std::move(cache));
    }
    static http::response get(const files::static_handler& handler, std::string_view path) {
        files::request_info r;
        r.raw_path = path;
        return handler.handle(r);
    }
    std::string take_log() {
        std::string text = log_.str();
        log_.str("");
        return text;
    }

    int fail_with = 0;
    std::string failing;
    bws::test::temp_dir dir_{"bws-storage-fault"};
    config::site site_;
    config::limits limits_;
    std::ostringstream log_;
    std::shared_ptr<spdlog::logger> previous_;
};

} // namespace

TEST_F(FilesStorageFault, FaultOnTheFileIs500WithALogLine) {
    const auto handler = make();
    failing = "hello.txt";
    for (int err : {EIO, ESTALE}) {
        fail_with = err;
        const auto r = get(handler, "/hello.txt");
        EXPECT_EQ(r.status, 500u) << std::strerror(err);
        EXPECT_TRUE(r.use_error_page);
        EXPECT_TRUE(r.body.empty());
        const std::string log = take_log();
        EXPECT_NE(log.find("error site faulty: cannot open \"hello.txt\" beneath static_dir " +
                           site_.static_dir.string() + ": " + std::strerror(err)),
                  std::string::npos)
            << log;
    }
    fail_with = 0; // the storage recovers: the failure was not cached
    EXPECT_EQ(get(handler, "/hello.txt").status, 200u);
    EXPECT_EQ(take_log(), "");
}

TEST_F(FilesStorageFault, FaultOnAnIndexFileIs500NotAMissingIndex) {
    const auto handler = make();
    failing = "index.html";
    fail_with = EIO;
    EXPECT_EQ(get(handler, "/").status, 500u);
    EXPECT_NE(take_log().find("cannot open \"index.html\""), std::string::npos);
    fail_with = 0;
    EXPECT_EQ(get(handler, "/").status, 200u);
}

TEST_F(FilesStorageFault, FaultOnTheRootItselfIs500) {
    const auto handler = make();
    failing = ""; // "/" opens the root before its index file
    fail_with = ESTALE;
    EXPECT_EQ(get(handler, "/").status, 500u);
    EXPECT_NE(take_log().find(std::strerror(ESTALE)), std::string::npos);
}

TEST_F(FilesStorageFault, AbsenceAndRefusalAreNotLogged) {
    const auto handler = make();
    failing = "hello.txt";
    for (auto [err, status] :
         {std::pair{ENOENT, 404u}, std::pair{ENOTDIR, 404u}, std::pair{EACCES, 403u}}) {
        fail_with = err;
        EXPECT_EQ(get(handler, "/hello.txt").status, status) << std::strerror(err);
    }
    failing = "index.html"; // an index file: 403 at once, a missing one is 404 after the list
    fail_with = EACCES;
    EXPECT_EQ(get(handler, "/").status, 403u);
    fail_with = ENOENT;
    EXPECT_EQ(get(handler, "/").status, 404u);
    EXPECT_EQ(take_log(), "");
}
