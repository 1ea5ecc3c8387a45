// Unpadded base64url (RFC 4648 §5 without '='), the encoding of every JWS segment (RFC 7515).
// Pure functions; no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ck::apiserver {

std::string Base64UrlEncode(std::string_view bytes);
// Strict: only the url-safe alphabet, no padding, no whitespace, no impossible trailing bits.
// nullopt for anything else.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace ck::apiserver
