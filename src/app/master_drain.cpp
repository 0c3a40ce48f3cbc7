// Load-balancer drain (see master_process.hpp). The flag lives in the status view that the
// master broadcasts to its workers; a worker started during a drain (a crash respawn) also
// gets it in its launch context, so it answers 503 from its first request, as the others do.
#include "app/master_process.hpp"
#include "sys/notify.hpp"

#include <spdlog/spdlog.h>

namespace bws::app::detail {

void master::start_drain(const std::string& why) {
    if (phase_ != phase::running) {
        spdlog::info("{}: drain ignored while bws is {}", why,
                     phase_ == phase::starting ? "starting" : "stopping");
        return;
    }
    if (status_.draining()) {
        spdlog::info("{}: already draining", why);
        return;
    }
    status_.set_draining(true);
    spdlog::info("{}: draining: /health answers 503 \"draining\"; everything else is served", why);
    broadcast_status();
    sys::notify(sys::status_message(status_line(status_.view(supervisor_.workers(), reloads_))));
}

void master::end_drain_after_reload() {
    if (!status_.draining() || stop_after_drain_)
        return;
    status_.set_draining(false);
    spdlog::info("the reload ended the drain: /health answers 200 again");
}

void master::request_graceful_stop() {
    if (stop_after_drain_) {
        // A second SIGTERM does not wait for the rest of the delay.
        spdlog::info("SIGTERM: graceful stop now, without the rest of the drain delay");
        stop_after_drain_ = false;
        begin_stop(false);
        return;
    }
    const auto delay = current_config().server.drain_delay;
    if (phase_ != phase::running || delay.count() == 0) {
        spdlog::info("SIGTERM: {}", phase_ == phase::stopping ? "fast stop" : "graceful stop");
        begin_stop(phase_ == phase::stopping);
        return;
    }
    start_drain("SIGTERM");
    stop_after_drain_ = true;
    spdlog::info("SIGTERM: graceful stop in {} ms ([server] drain_delay)", delay.count());
    stopping_announced_ = true;
    sys::notify(sys::stopping_message("draining before the stop"));
    stop_timer_.expires_after(delay);
    stop_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !stop_after_drain_)
            return;
        stop_after_drain_ = false;
        spdlog::info("drain delay over: graceful stop");
        begin_stop(false);
    });
}

} // namespace bws::app::detail
