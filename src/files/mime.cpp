// The MIME table: bws-upstream's types (woff2 corrected to font/woff2) plus nginx's mime.types
// and the other extensions a static site commonly serves.
#include "files/mime.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace bws::files {

namespace {

constexpr std::string_view utf8_html = "text/html; charset=utf-8";
constexpr std::string_view octet = "application/octet-stream";

// Sorted by extension (checked at compile time below) so lookup is a binary search.
constexpr auto table = std::to_array<mime_entry>({
    {"3g2", "video/3gpp2"},
    {"3gp", "video/3gpp"},
    {"3gpp", "video/3gpp"},
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"ai", "application/postscript"},
    {"apk", "application/vnd.android.package-archive"},
    {"apng", "image/apng"},
    {"appcache", "text/cache-manifest; charset=utf-8"},
    {"asf", "video/x-ms-asf"},
    {"asx", "video/x-ms-asf"},
    {"atom", "application/atom+xml; charset=utf-8"},
    {"avi", "video/x-msvideo"},
    {"avif", "image/avif"},
    {"bin", octet},
    {"bmp", "image/bmp"},
    {"bz2", "application/x-bzip2"},
    {"cco", "application/x-cocoa"},
    {"cjs", "application/javascript; charset=utf-8"},
    {"crt", "application/x-x509-ca-cert"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"deb", "application/vnd.debian.binary-package"},
    {"der", "application/x-x509-ca-cert"},
    {"dll", octet},
    {"dmg", octet},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"ear", "application/java-archive"},
    {"eot", "application/vnd.ms-fontobject"},
    {"eps", "application/postscript"},
    {"epub", "application/epub+zip"},
    {"exe", octet},
    {"flac", "audio/flac"},
    {"flv", "video/x-flv"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"heic", "image/heic"},
    {"heif", "image/heif"},
    {"hqx", "application/mac-binhex40"},
    {"htc", "text/x-component; charset=utf-8"},
    {"htm", utf8_html},
    {"html", utf8_html},
    {"ico", "image/x-icon"},
    {"ics", "text/calendar; charset=utf-8"},
    {"img", octet},
    {"iso", octet},
    {"jad", "text/vnd.sun.j2me.app-descriptor; charset=utf-8"},
    {"jar", "application/java-archive"},
    {"jardiff", "application/x-java-archive-diff"},
    {"jng", "image/x-jng"},
    {"jnlp", "application/x-java-jnlp-file"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "application/javascript; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"jsonld", "application/ld+json; charset=utf-8"},
    {"jxl", "image/jxl"},
    {"kar", "audio/midi"},
    {"kml", "application/vnd.google-earth.kml+xml"},
    {"kmz", "application/vnd.google-earth.kmz"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"m4a", "audio/x-m4a"},
    {"m4v", "video/x-m4v"},
    {"manifest", "text/cache-manifest; charset=utf-8"},
    {"map", "application/json; charset=utf-8"},
    {"markdown", "text/markdown; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"mid", "audio/midi"},
    {"midi", "audio/midi"},
    {"mjs", "application/javascript; charset=utf-8"},
    {"mkv", "video/x-matroska"},
    {"mml", "text/mathml; charset=utf-8"},
    {"mng", "video/x-mng"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"msi", octet},
    {"msm", octet},
    {"msp", octet},
    {"odg", "application/vnd.oasis.opendocument.graphics"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/ogg"},
    {"otf", "font/otf"},
    {"pdb", "application/x-pilot"},
    {"pdf", "application/pdf"},
    {"pem", "application/x-x509-ca-cert"},
    {"pl", "application/x-perl"},
    {"pm", "application/x-perl"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"prc", "application/x-pilot"},
    {"ps", "application/postscript"},
    {"ra", "audio/x-realaudio"},
    {"rar", "application/x-rar-compressed"},
    {"rpm", "application/x-redhat-package-manager"},
    {"rss", "application/rss+xml; charset=utf-8"},
    {"rtf", "application/rtf"},
    {"run", "application/x-makeself"},
    {"sea", "application/x-sea"},
    {"shtml", utf8_html},
    {"sit", "application/x-stuffit"},
    {"svg", "image/svg+xml"},
    {"svgz", "image/svg+xml"},
    {"swf", "application/x-shockwave-flash"},
    {"tar", "application/x-tar"},
    {"tcl", "application/x-tcl"},
    {"tgz", "application/gzip"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"tk", "application/x-tcl"},
    {"toml", "application/toml; charset=utf-8"},
    {"ts", "video/mp2t"},
    {"tsv", "text/tab-separated-values; charset=utf-8"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"vcf", "text/vcard; charset=utf-8"},
    {"vtt", "text/vtt; charset=utf-8"},
    {"war", "application/java-archive"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"wbmp", "image/vnd.wap.wbmp"},
    {"weba", "audio/webm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json; charset=utf-8"},
    {"webp", "image/webp"},
    {"wml", "text/vnd.wap.wml; charset=utf-8"},
    {"wmlc", "application/vnd.wap.wmlc"},
    {"wmv", "video/x-ms-wmv"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml; charset=utf-8"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "application/xml; charset=utf-8"},
    {"xpi", "application/x-xpinstall"},
    {"xsl", "application/xslt+xml; charset=utf-8"},
    {"xspf", "application/xspf+xml; charset=utf-8"},
    {"xz", "application/x-xz"},
    {"yaml", "application/x-yaml; charset=utf-8"},
    {"yml", "application/x-yaml; charset=utf-8"},
    {"zip", "application/zip"},
    {"zst", "application/zstd"},
});

constexpr bool strictly_sorted() {
    for (std::size_t i = 1; i < table.size(); ++i)
        if (!(table[i - 1].extension < table[i].extension))
            return false;
    return true;
}
static_assert(strictly_sorted(), "MIME table must be sorted by extension, without duplicates");

// No extension in the table is longer than this; longer ones are unknown without a lookup.
constexpr std::size_t max_extension = 16;

} // namespace

std::string_view mime_type_for(std::string_view filename) {
    std::size_t slash = filename.rfind('/');
    if (slash != std::string_view::npos)
        filename.remove_prefix(slash + 1);
    std::size_t dot = filename.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == filename.size())
        return octet;
    std::string_view ext = filename.substr(dot + 1);
    if (ext.size() > max_extension)
        return octet;
    std::array<char, max_extension> lower{};
    for (std::size_t i = 0; i < ext.size(); ++i) {
        char c = ext[i];
        lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    std::string_view key(lower.data(), ext.size());
    auto it =
        std::lower_bound(table.begin(), table.end(), key,
                         [](const mime_entry& e, std::string_view k) { return e.extension < k; });
    if (it != table.end() && it->extension == key)
        return it->type;
    return octet;
}

mime_table_view mime_table() {
    return {table.data(), table.size()};
}

} // namespace bws::files
