// Precompiled header (BWS_PCH in CMakeLists.txt, clang builds): the standard and third-party
// headers most translation units include, parsed once per build instead of once per file.
// Only headers from outside this project belong here, so that editing a bws header never
// rebuilds it. The sources still include what they use: clang-tidy (scripts/dev/lint.sh)
// reads them without this header.
#pragma once

#include "fmt_extern.hpp" // first: the extern declaration precedes every use

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/json.hpp>
#include <boost/system/error_code.hpp>
