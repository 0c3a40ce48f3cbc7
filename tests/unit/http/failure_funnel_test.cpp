// The failure funnel: benign codes ignored, others counted by category and logged at a bounded
// rate.
#include "http/failure_funnel.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <thread>

namespace {

using namespace bws::http;
using boost::system::error_code;

error_code sys(int e) {
    return {e, boost::system::system_category()};
}

// Captures what spdlog's default logger writes while the test runs.
class FailureFunnel : public ::testing::Test {
protected:
    void SetUp() override {
        previous_ = spdlog::default_logger();
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines_);
        auto logger = std::make_shared<spdlog::logger>("funnel-test", sink);
        logger->set_pattern("%l %v");
        logger->set_level(spdlog::level::info);
        spdlog::set_default_logger(logger);
    }
    void TearDown() override { spdlog::set_default_logger(previous_); }
    std::size_t lines() const {
        auto text = lines_.str();
        return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    }
    std::ostringstream lines_;
    std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(FailureFunnel, BenignCodesAreNeitherCountedNorLogged) {
    failure_funnel funnel;
    for (auto ec :
         {error_code(boost::asio::error::eof), error_code(boost::asio::error::operation_aborted),
          error_code(boost::asio::error::connection_reset),
          error_code(boost::beast::http::error::end_of_stream), sys(ECONNRESET), sys(EPIPE),
          sys(ETIMEDOUT), sys(ENOTCONN)}) {
        EXPECT_TRUE(failure_funnel::is_benign(ec)) << ec.message();
        funnel.report(failure_kind::peer_write, ec, "site", "192.0.2.1");
    }
    EXPECT_TRUE(funnel.counts().empty());
    EXPECT_EQ(lines(), 0u) << lines_.str();
}

TEST_F(FailureFunnel, OtherErrorsAreCountedPerCategoryAndLoggedWithPeer) {
    failure_funnel funnel(std::chrono::hours(1));
    EXPECT_FALSE(failure_funnel::is_benign(sys(EIO)));
    funnel.report(failure_kind::file_read, sys(EIO), "blog", "192.0.2.7");
    funnel.report(failure_kind::peer_write, sys(ENOMEM), "blog", "192.0.2.8");
    auto counts = funnel.counts();
    EXPECT_EQ(counts.size(), 2u);
    EXPECT_EQ(counts["file_read"], 1u);
    EXPECT_EQ(counts["peer_write"], 1u);
    auto text = lines_.str();
    EXPECT_EQ(lines(), 2u) << text;
    EXPECT_NE(text.find("warning 192.0.2.7 file_read: "), std::string::npos) << text;
    EXPECT_NE(text.find(sys(EIO).message()), std::string::npos) << text;
}

TEST_F(FailureFunnel, ReportsAreRateLimitedPerCategoryButAllCounted) {
    failure_funnel funnel(std::chrono::hours(1));
    for (int i = 0; i < 50; ++i)
        funnel.report(failure_kind::peer_read, sys(EIO), "s", "p");
    funnel.report(failure_kind::file_shrank, boost::asio::error::eof, "s", "p");
    EXPECT_EQ(funnel.counts()["peer_read"], 50u);
    // End of file is benign from a peer, not from a file that ended before its promised length.
    EXPECT_EQ(funnel.counts()["file_shrank"], 1u);
    EXPECT_EQ(lines(), 2u) << lines_.str();
}

TEST_F(FailureFunnel, AfterTheIntervalTheNextReportSaysHowManyWereLeftOut) {
    failure_funnel funnel(std::chrono::milliseconds(200));
    funnel.report(failure_kind::accept, sys(EMFILE), {}, {});
    funnel.report(failure_kind::accept, sys(EMFILE), {}, {});
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    funnel.report(failure_kind::accept, sys(EMFILE), {}, {});
    EXPECT_EQ(funnel.counts()["accept"], 3u);
    EXPECT_EQ(lines(), 2u) << lines_.str();
    EXPECT_NE(lines_.str().find("1 more since the last report"), std::string::npos) << lines_.str();
}

} // namespace
