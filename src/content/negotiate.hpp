// Accept-Encoding negotiation (RFC 9110 §12.5.3), pure: which of the codings a resource is
// available in the client gets, or that nothing it accepts exists (406).
#pragma once

#include "content/coding.hpp"

#include <optional>
#include <span>
#include <string_view>

namespace bws::content {

struct encoding_choice {
    bool acceptable = true;           // false: nothing the client accepts exists (406)
    coding chosen = coding::identity; // when acceptable
};

// `accept_encoding`: the request's field value (several fields joined with ","); nullopt when
// the request has none, which accepts anything, and gets identity. `available`: the codings the
// resource can be sent in, in the server's order of preference, identity not among them.
// Rules:
// - a coding's weight is its own entry's q, else that of "*", else 0 (not acceptable);
// - identity is acceptable unless "identity;q=0", or "*;q=0" without an "identity" entry;
// - the heaviest acceptable coding wins, the server's order breaking ties; identity wins only
//   over lighter codings when the client listed it (or "*") with a higher q;
// - no acceptable coding and identity excluded: not acceptable;
// - an entry with a malformed q ("q=2", "q=0.1234", "q=x") is ignored, as if not sent.
encoding_choice negotiate(std::optional<std::string_view> accept_encoding,
                          std::span<const coding> available);

} // namespace bws::content
