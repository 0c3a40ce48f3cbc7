// Content-Type by file extension (case-insensitive), from a static sorted table.
#pragma once

#include <string_view>

namespace bws::files {

// The Content-Type for a file name or path: decided by the extension after the last '.' of the
// last segment. Text types carry "; charset=utf-8". Unknown or no extension:
// "application/octet-stream".
std::string_view mime_type_for(std::string_view filename);

// The table itself, exposed so tests can check it is sorted and free of duplicates.
struct mime_entry {
    std::string_view extension; // lower-case, without the dot
    std::string_view type;
};
struct mime_table_view {
    const mime_entry* data;
    std::size_t size;
};
mime_table_view mime_table();

} // namespace bws::files
