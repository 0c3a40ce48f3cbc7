// The handover line: "v1 from=0.1.0 gen=3 reloads=2 upgrades=0 drain=0 pidfd=4 listen=5,6
// workers=PID:FD:GEN:INDEX:r|d,...". Versions contain no spaces; every number is checked.
#include "app/upgrade_handover.hpp"

#include <charconv>
#include <fmt/format.h>

namespace bws::app {

namespace {

template <class T>
bool parse_number(std::string_view text, T& out) {
    if (text.empty())
        return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

bool parse_fd(std::string_view text, int& out) {
    // 0-2 are stdio: a handover never names them.
    return parse_number(text, out) && out > 2;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    if (text.empty())
        return parts;
    for (;;) {
        auto at = text.find(separator);
        parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos)
            return parts;
        text.remove_prefix(at + 1);
    }
}

bool parse_worker(std::string_view text, handover_worker& out) {
    auto fields = split(text, ':');
    if (fields.size() != 5)
        return false;
    int pid = 0;
    if (!parse_number(fields[0], pid) || pid <= 1 || !parse_fd(fields[1], out.channel_fd) ||
        !parse_number(fields[2], out.generation) || out.generation == 0 ||
        !parse_number(fields[3], out.index) || (fields[4] != "r" && fields[4] != "d"))
        return false;
    out.pid = pid;
    out.draining = fields[4] == "d";
    return true;
}

} // namespace

std::string encode_handover(const upgrade_handover& h) {
    std::string text = fmt::format("v1 from={} gen={} reloads={} upgrades={} drain={} pidfd={}",
                                   h.from_version, h.generation, h.reload_count, h.upgrade_count,
                                   h.draining ? 1 : 0, h.pid_file_fd);
    text += " listen=";
    for (std::size_t i = 0; i < h.listener_fds.size(); ++i)
        text += fmt::format("{}{}", i == 0 ? "" : ",", h.listener_fds[i]);
    text += " workers=";
    for (std::size_t i = 0; i < h.workers.size(); ++i) {
        const auto& w = h.workers[i];
        text += fmt::format("{}{}:{}:{}:{}:{}", i == 0 ? "" : ",", w.pid, w.channel_fd,
                            w.generation, w.index, w.draining ? 'd' : 'r');
    }
    return text;
}

std::optional<upgrade_handover> decode_handover(std::string_view text, std::string& error) {
    auto fields = split(text, ' ');
    if (fields.size() != 9 || fields[0] != "v1") {
        error = "unknown handover format";
        return std::nullopt;
    }
    upgrade_handover h;
    const char* names[] = {
        "from=", "gen=", "reloads=", "upgrades=", "drain=", "pidfd=", "listen=", "workers="};
    for (std::size_t i = 0; i < 8; ++i) {
        std::string_view field = fields[i + 1];
        if (!field.starts_with(names[i])) {
            error = fmt::format("handover field {} missing", names[i]);
            return std::nullopt;
        }
        field.remove_prefix(std::string_view(names[i]).size());
        bool ok = true;
        switch (i) {
        case 0:
            h.from_version = field;
            ok = !field.empty();
            break;
        case 1:
            ok = parse_number(field, h.generation) && h.generation > 0;
            break;
        case 2:
            ok = parse_number(field, h.reload_count);
            break;
        case 3:
            ok = parse_number(field, h.upgrade_count);
            break;
        case 4:
            ok = field == "0" || field == "1";
            h.draining = field == "1";
            break;
        case 5:
            ok = field == "-1" || parse_fd(field, h.pid_file_fd);
            break;
        case 6:
            for (auto part : split(field, ',')) {
                int fd = -1;
                ok = ok && parse_fd(part, fd);
                h.listener_fds.push_back(fd);
            }
            break;
        case 7:
            for (auto part : split(field, ',')) {
                handover_worker w;
                ok = ok && parse_worker(part, w);
                h.workers.push_back(w);
            }
            break;
        }
        if (!ok) {
            error = fmt::format("handover field {} is malformed", names[i]);
            return std::nullopt;
        }
    }
    return h;
}

} // namespace bws::app
