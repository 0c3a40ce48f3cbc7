// Formats one record and writes it as one line.
#include "log/line_sink.hpp"

#include "log/pattern.hpp"

namespace bws::log {

line_sink::line_sink(std::shared_ptr<line_file> file) : file_(std::move(file)) {
    set_formatter_(make_line_formatter());
}

void line_sink::sink_it_(const spdlog::details::log_msg& msg) {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    file_->write(std::string_view(line.data(), line.size()));
}

} // namespace bws::log
