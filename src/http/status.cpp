// Reason phrases (RFC 9110 §15) and built-in error pages.
#include "http/status.hpp"

#include <fmt/format.h>

namespace bws::http {

std::string_view reason_phrase(unsigned status) {
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 416:
        return "Range Not Satisfiable";
    case 421:
        return "Misdirected Request";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return status < 400 ? "OK" : (status < 500 ? "Client Error" : "Server Error");
    }
}

std::string builtin_error_page(unsigned status) {
    auto reason = reason_phrase(status);
    return fmt::format("<!DOCTYPE html>\n<html><head><title>{0} {1}</title></head>\n"
                       "<body><h1>{0} {1}</h1><hr><p>bws</p></body></html>\n",
                       status, reason);
}

} // namespace bws::http
