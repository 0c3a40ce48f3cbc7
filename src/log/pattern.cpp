// Custom spdlog flags: upper-case level (%J), role[pid] (%k) and " [site]" (%q).
#include "log/pattern.hpp"

#include "log/context.hpp"

#include <spdlog/pattern_formatter.h>

namespace bws::log {
namespace {

void append(spdlog::memory_buf_t& dest, std::string_view text) {
    dest.append(text.data(), text.data() + text.size());
}

class level_flag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        append(dest, level_label(msg.level));
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<level_flag>();
    }
};

class role_flag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg&, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        append(dest, role());
        fmt::format_to(std::back_inserter(dest), "[{}]", role_pid());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<role_flag>();
    }
};

class site_flag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg&, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        const auto site = current_site();
        if (site.empty())
            return;
        append(dest, " [");
        append(dest, site);
        append(dest, "]");
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<site_flag>();
    }
};

} // namespace

std::string_view level_label(int spdlog_level) {
    switch (spdlog_level) {
    case spdlog::level::trace:
        return "TRACE";
    case spdlog::level::debug:
        return "DEBUG";
    case spdlog::level::info:
        return "INFO";
    case spdlog::level::warn:
        return "WARN";
    case spdlog::level::err:
        return "ERROR";
    case spdlog::level::critical:
        return "CRITICAL";
    default:
        return "OFF";
    }
}

std::unique_ptr<spdlog::formatter> make_line_formatter() {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<level_flag>('J').add_flag<role_flag>('k').add_flag<site_flag>('q');
    formatter->set_pattern(std::string(line_pattern));
    return formatter;
}

} // namespace bws::log
