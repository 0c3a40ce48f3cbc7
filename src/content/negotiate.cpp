// Accept-Encoding negotiation: parse the list once into weights per coding, then choose.
#include "content/negotiate.hpp"

#include <array>
#include <cctype>

namespace bws::content {

namespace {

constexpr int codings = 4; // identity, br, zstd, gzip: the values of enum coding

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths; -1 if malformed.
int parse_qvalue(std::string_view q) noexcept {
    if (q.empty() || (q[0] != '0' && q[0] != '1'))
        return -1;
    int value = q[0] == '1' ? 1000 : 0;
    if (q.size() == 1)
        return value;
    if (q[1] != '.' || q.size() > 5)
        return -1;
    int scale = 100;
    for (std::size_t i = 2; i < q.size(); ++i, scale /= 10) {
        if (q[i] < '0' || q[i] > '9')
            return -1;
        value += (q[i] - '0') * scale;
    }
    return value > 1000 ? -1 : value;
}

// The weight an element's parameters give it: 1000 without "q", -1 when its q is malformed.
int element_weight(std::string_view params) noexcept {
    int weight = 1000;
    while (!params.empty()) {
        const auto semi = params.find(';');
        const std::string_view param = trim(params.substr(0, semi));
        params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
        const auto eq = param.find('=');
        if (eq == std::string_view::npos)
            continue;
        const std::string_view name = trim(param.substr(0, eq));
        if (name.size() == 1 && (name[0] == 'q' || name[0] == 'Q'))
            weight = parse_qvalue(trim(param.substr(eq + 1)));
    }
    return weight;
}

} // namespace

encoding_choice negotiate(std::optional<std::string_view> accept_encoding,
                          std::span<const coding> available) {
    if (!accept_encoding)
        return {}; // no field: anything is acceptable, identity is the safe answer
    std::array<int, codings> weight{-1, -1, -1, -1}; // -1: not listed
    int star = -1;
    std::string_view list = *accept_encoding;
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view element = trim(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        if (element.empty())
            continue;
        const auto semi = element.find(';');
        const std::string_view name = trim(element.substr(0, semi));
        const int w = element_weight(semi == std::string_view::npos ? std::string_view()
                                                                    : element.substr(semi + 1));
        if (w < 0)
            continue;
        if (name == "*") {
            star = w;
        } else if (const auto c = coding_from_token(name)) {
            int& slot = weight[static_cast<int>(*c)];
            if (slot < 0) // the first entry for a coding counts
                slot = w;
        }
    }

    int best = 0;
    std::optional<coding> chosen;
    for (const coding c : available) {
        const int listed = weight[static_cast<int>(c)];
        const int w = listed >= 0 ? listed : (star >= 0 ? star : 0);
        if (w > best) { // strictly heavier: among equal weights the server's order wins
            best = w;
            chosen = c;
        }
    }
    const int identity_listed = weight[static_cast<int>(coding::identity)];
    const int identity_weight = identity_listed >= 0 ? identity_listed : star;
    const bool identity_ok = identity_weight != 0; // -1: not mentioned, acceptable by default
    if (chosen && identity_weight > best)
        return {};
    if (chosen)
        return {true, *chosen};
    if (identity_ok)
        return {};
    return {false, coding::identity};
}

} // namespace bws::content
