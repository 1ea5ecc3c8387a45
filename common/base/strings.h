// Small string helpers shared by every component: quoting for logs and JSON, splitting,
// number formatting and parsing. Pure functions; no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ck {

// Appends `s` in double quotes with Go's strconv.Quote escapes (\" \\ \n \t \xNN), as klog does.
void AppendQuoted(std::string& out, std::string_view s);
// Appends `s` as a JSON string literal (RFC 8259 escapes; UTF-8 passes through).
void AppendJsonString(std::string& out, std::string_view s);
std::string JsonString(std::string_view s);

// Standard base64 (RFC 4648, with padding).
void AppendBase64(std::string& out, std::string_view bytes);
std::string Base64Encode(std::string_view bytes);
// Decodes standard base64 (padding required; '\r' and '\n' ignored, as Go's decoder does).
// Returns false on malformed input and sets *bad_offset (when given) to the offending byte.
bool DecodeBase64(std::string_view in, std::string* out, size_t* bad_offset = nullptr);

// Shortest decimal that round-trips, or fixed with `precision` digits when precision >= 0.
std::string FormatDouble(double d, int precision = -1);

// Splits on `sep`; keeps empty pieces unless skip_empty.
std::vector<std::string_view> Split(std::string_view s, char sep, bool skip_empty = false);
std::string_view TrimSpace(std::string_view s);
std::string ToLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);

// Strict decimal parsing: the whole string must be a number in range.
std::optional<int64_t> ParseInt(std::string_view s);
std::optional<uint64_t> ParseUint(std::string_view s);

}  // namespace ck
