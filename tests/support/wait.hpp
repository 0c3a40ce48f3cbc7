// Polling for a condition with a deadline: the readiness wait the tests use instead of sleeps.
#pragma once

#include <chrono>
#include <functional>

namespace bws::test {

using namespace std::chrono_literals;

// Polls `pred` every 20 ms until it holds or `limit` passes; the last answer of `pred`.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit);

} // namespace bws::test
