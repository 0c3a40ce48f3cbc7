// The single translation unit that compiles Asio and Beast (BOOST_*_SEPARATE_COMPILATION is
// set for the whole project), so the rest of the code only includes their declarations. Asio's
// SSL layer is compiled here too: the ACME client's blocking transport (src/acme) uses it.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
