// Compression helpers of the static handler.
#include "files/compression.hpp"

#include "content/codec.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <unistd.h>

namespace bws::files {

namespace {

bool ends_with_ci(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           std::equal(suffix.begin(), suffix.end(), s.end() - suffix.size(),
                      [](char lower_suffix, char c) {
                          return std::tolower(static_cast<unsigned char>(c)) == lower_suffix;
                      });
}

} // namespace

bool compressible(const config::site_compression& c, std::string_view type, std::string_view name) {
    if (!c.enabled || ends_with_ci(name, ".svgz"))
        return false;
    std::string media(type.substr(0, type.find(';')));
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t'))
        media.pop_back();
    std::transform(media.begin(), media.end(), media.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    const auto slash = media.find('/');
    return std::any_of(c.types.begin(), c.types.end(), [&](const std::string& t) {
        if (t.size() > 2 && t.ends_with("/*"))
            return slash != std::string::npos &&
                   media.compare(0, slash + 1, t, 0, slash + 1) == 0 && t.size() == slash + 2;
        return t == media;
    });
}

std::string variant_etag(std::string_view etag, content::coding c) {
    std::string tag(etag);
    const auto close = tag.rfind('"');
    const std::string suffix = "-" + std::string(content::token(c));
    if (close == std::string::npos || close == 0)
        return tag + suffix;
    tag.insert(close, suffix);
    return tag;
}

content::compressed_key compressed_key_for(const file_entry& entry, content::coding c, int level) {
    content::compressed_key key;
    key.device = entry.device;
    key.inode = entry.inode;
    key.size = entry.size;
    key.mtime_sec = entry.mtime_sec;
    key.mtime_nsec = entry.mtime_nsec;
    key.encoding = c;
    key.level = level;
    return key;
}

std::optional<std::string> compress_file(const file_entry& entry, content::coding c, int level) {
    if (entry.inline_content)
        return content::compress(c, entry.content, level);
    if (!entry.file)
        return std::nullopt;
    std::string data(entry.size, '\0');
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::pread(entry.file->fd(), data.data() + done, data.size() - done,
                                  static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return std::nullopt; // shrank or failed: the identity path reports it when sending
        done += static_cast<std::size_t>(n);
    }
    return content::compress(c, data, level);
}

} // namespace bws::files
