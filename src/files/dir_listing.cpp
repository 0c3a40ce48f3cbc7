// Directory listings: reading beneath the root, and the HTML and JSON pages (dir_listing.hpp).
#include "files/dir_listing.hpp"

#include "files/http_date.hpp"

#include <boost/json.hpp>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>

namespace bws::files {

namespace {

struct dir_closer {
    void operator()(DIR* d) const noexcept { ::closedir(d); }
};

// What an entry is, without ever following a symlink out of the root: a symlink is opened
// beneath the root (which refuses one that leaves it) and the file it reaches is described.
bool describe(const root_dir& root, int dir_fd, const std::string& child, const char* name,
              listing_entry& e) {
    struct stat st {};
    if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return false;
    if (S_ISLNK(st.st_mode)) {
        const int fd = root.open_beneath(child);
        if (fd < 0)
            return false;
        const int rc = ::fstat(fd, &st);
        ::close(fd);
        if (rc != 0)
            return false;
    }
    // Only what the server would serve: regular files and directories (no FIFOs, sockets or
    // devices).
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return false;
    e.directory = S_ISDIR(st.st_mode);
    e.size = e.directory ? 0 : static_cast<std::uint64_t>(st.st_size);
    e.mtime = st.st_mtim.tv_sec;
    return true;
}

void append_html_escaped(std::string& out, std::string_view text) {
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out.push_back(c);
        }
    }
}

// A name as one path segment of a link: everything but RFC 3986 unreserved characters encoded,
// so '?', '#', '%' and ';' in a file name cannot change what the link means.
void append_segment_encoded(std::string& out, std::string_view name) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
}

std::string human_size(std::uint64_t bytes) {
    static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024)
        return fmt::format("{} B", bytes);
    auto value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// q=0, q=0.0, q=0.000: the client refuses the type.
bool refused_by_q(std::string_view params) {
    while (!params.empty()) {
        const std::size_t semi = params.find(';');
        const std::string_view param = trim(params.substr(0, semi));
        params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
        if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
            const std::string_view value = trim(param.substr(2));
            return !value.empty() && value.find_first_not_of("0.") == std::string_view::npos;
        }
    }
    return false;
}

} // namespace

int read_listing(const root_dir& root, std::string_view relative, listing& out, std::size_t limit) {
    const int fd = root.open_beneath(relative);
    if (fd < 0)
        return -fd;
    std::unique_ptr<DIR, dir_closer> dir(::fdopendir(fd));
    if (!dir) {
        const int err = errno;
        ::close(fd);
        return err;
    }
    const std::string prefix = relative.empty() ? std::string() : std::string(relative) + "/";
    out.entries.clear();
    out.truncated = false;
    errno = 0;
    while (const dirent* d = ::readdir(dir.get())) {
        // Hidden names are not served (files/path.hpp), so they are not shown either; this
        // includes "." and "..".
        if (d->d_name[0] == '.')
            continue;
        if (out.entries.size() == limit) {
            out.truncated = true;
            break;
        }
        listing_entry e;
        e.name = d->d_name;
        if (describe(root, ::dirfd(dir.get()), prefix + e.name, d->d_name, e))
            out.entries.push_back(std::move(e));
        errno = 0;
    }
    if (errno != 0 && !out.truncated)
        return errno;
    std::sort(out.entries.begin(), out.entries.end(),
              [](const listing_entry& a, const listing_entry& b) {
                  if (a.directory != b.directory)
                      return a.directory;
                  return a.name < b.name;
              });
    return 0;
}

std::string listing_html(std::string_view url_path, const listing& l) {
    std::string out;
    out.reserve(512 + l.entries.size() * 160);
    out += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width\"><title>Index of ";
    append_html_escaped(out, url_path);
    out += "</title><style>body{font-family:sans-serif;margin:2em}td{padding:0 1.5em 0 0}"
           "td.n{text-align:right}</style></head>\n<body><h1>Index of ";
    append_html_escaped(out, url_path);
    out += "</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n";
    if (url_path != "/")
        out += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
    for (const listing_entry& e : l.entries) {
        out += "<tr><td><a href=\"";
        append_segment_encoded(out, e.name);
        if (e.directory)
            out.push_back('/');
        out += "\">";
        append_html_escaped(out, e.name);
        if (e.directory)
            out.push_back('/');
        out += "</a></td><td class=\"n\">";
        out += e.directory ? std::string("-") : human_size(e.size);
        out += "</td><td>";
        out += format_http_date(e.mtime);
        out += "</td></tr>\n";
    }
    out += "</table>\n";
    if (l.truncated)
        out += fmt::format("<p>Only the first {} entries are listed.</p>\n", l.entries.size());
    out += "</body></html>\n";
    return out;
}

std::string listing_json(std::string_view url_path, const listing& l) {
    boost::json::array items;
    items.reserve(l.entries.size());
    for (const listing_entry& e : l.entries) {
        std::string url;
        append_segment_encoded(url, e.name);
        if (e.directory)
            url.push_back('/');
        items.push_back(boost::json::object{
            {"name", e.name},
            {"url", url},
            {"is_dir", e.directory},
            {"size", e.size},
            {"mod_time", format_http_date(e.mtime)},
            {"mtime", e.mtime},
        });
    }
    boost::json::object page{
        {"path", url_path}, {"items", std::move(items)}, {"truncated", l.truncated}};
    std::string out = boost::json::serialize(page);
    out.push_back('\n');
    return out;
}

bool wants_json_listing(std::string_view accept) {
    while (!accept.empty()) {
        const std::size_t comma = accept.find(',');
        std::string_view item = accept.substr(0, comma);
        accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
        const std::size_t semi = item.find(';');
        const std::string_view type = trim(item.substr(0, semi));
        const std::string_view params =
            semi == std::string_view::npos ? std::string_view() : item.substr(semi + 1);
        if (iequals(type, "application/json") && !refused_by_q(params))
            return true;
    }
    return false;
}

} // namespace bws::files
