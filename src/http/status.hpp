// Reason phrases and the built-in error page bodies.
#pragma once

#include <string>
#include <string_view>

namespace bws::http {

std::string_view reason_phrase(unsigned status);

// A small HTML page for `status` ("<h1>404 Not Found</h1>..."), used when the site has no
// error page of its own for it.
std::string builtin_error_page(unsigned status);

} // namespace bws::http
