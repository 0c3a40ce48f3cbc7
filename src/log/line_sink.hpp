// spdlog sink that formats with the bws line pattern and hands each line to a line_file (one
// write(2) per line).
#pragma once

#include "log/line_file.hpp"

#include <memory>
#include <mutex>
#include <spdlog/sinks/base_sink.h>

namespace bws::log {

class line_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit line_sink(std::shared_ptr<line_file> file);
    line_file& file() { return *file_; }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}

private:
    std::shared_ptr<line_file> file_;
};

} // namespace bws::log
