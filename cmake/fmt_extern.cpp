// The one instantiation of fmt's formatting engine that cmake/fmt_extern.hpp declares extern.
// Compiled here rather than taken from libfmt: clang and GCC mangle its name differently, and
// this way the sanitizer and fuzz builds instrument it as they did when every file had a copy.
#include "fmt_extern.hpp"

#include <fmt/format.h>

#ifdef BWS_FMT_EXTERN_VFORMAT_TO
FMT_BEGIN_NAMESPACE
namespace detail {
template void vformat_to<char>(buffer<char>&, basic_string_view<char>,
                               basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);
} // namespace detail
FMT_END_NAMESPACE
#endif
