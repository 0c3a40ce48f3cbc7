// Included ahead of every file of bws_core and of everything that links it (CMakeLists.txt);
// not part of the sources, which include what they use.
//
// fmt 9 (Debian 12 has 9.1) leaves its formatting engine, detail::vformat_to<char>, with every
// integer, float and string writer under it, to be instantiated implicitly in each file that
// formats: every spdlog call and fmt::format_to does. That is seconds of optimised code per
// file, a third to a half of the compile time of many. This declares the instantiation extern
// and cmake/fmt_extern.cpp compiles it once, with the build's own flags and sanitizers.
#ifndef BWS_CMAKE_FMT_EXTERN_HPP
#define BWS_CMAKE_FMT_EXTERN_HPP

#include <fmt/core.h>

#if FMT_VERSION >= 90000 && FMT_VERSION < 100000 && !defined(FMT_HEADER_ONLY)
#define BWS_FMT_EXTERN_VFORMAT_TO 1
FMT_BEGIN_NAMESPACE
namespace detail {
extern template void vformat_to<char>(buffer<char>&, basic_string_view<char>,
                                      basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);
} // namespace detail
FMT_END_NAMESPACE
#endif

#endif
