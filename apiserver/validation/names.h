// String format rules of Kubernetes (k8s.io/apimachinery/pkg/util/validation and friends): each
// function returns upstream's explanation for every rule the value breaks, or nothing when it is
// valid, e.g. IsDNS1123Label("Web") returns {"a lowercase RFC 1123 label must consist of ..."}.
// Internal to apiserver/validation; pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ck::apiserver::validation {

using Msgs = std::vector<std::string>;

std::string MaxLenError(int n);                       // "must be no more than N characters"
std::string InclusiveRangeError(int64_t lo, int64_t hi);  // "must be between lo and hi, inclusive"
std::string RegexError(std::string_view msg, std::string_view fmt, const std::vector<std::string>& examples);

Msgs IsDNS1123Label(std::string_view v);
Msgs IsDNS1123Subdomain(std::string_view v);
Msgs IsDNS1035Label(std::string_view v);
Msgs IsWildcardDNS1123Subdomain(std::string_view v);
Msgs IsQualifiedName(std::string_view v);   // label keys, annotation keys (lower-cased), ...
Msgs IsLabelValue(std::string_view v);
Msgs IsConfigMapKey(std::string_view v);
Msgs IsEnvVarName(std::string_view v);         // the strict rule
Msgs IsRelaxedEnvVarName(std::string_view v);  // 1.32 default (RelaxedEnvironmentVariableValidation)
Msgs IsCIdentifier(std::string_view v);
Msgs IsValidPortNum(int64_t port);
Msgs IsValidPortName(std::string_view v);
Msgs IsValidPercent(std::string_view v);
Msgs IsHTTPHeaderName(std::string_view v);
Msgs IsValidUserOrGroupID(int64_t id);

// Name rules of ObjectMeta.name (apimachinery's NameIs*); `prefix` validates a generateName, where
// a trailing '-' is allowed.
enum class NameRule { kDNSSubdomain, kDNSLabel, kDNS1035Label, kPathSegment };
Msgs ValidateName(NameRule rule, std::string_view name, bool prefix);

// True if the string is a whole decimal number in 0..max.
bool IsDecimal(std::string_view s);

// IPs and CIDRs as Go's net.ParseIP / ParseCIDR with the "sloppy" IPv4 form (leading zeros).
struct IpAddr {
  bool v6 = false;
  unsigned char bytes[16] = {};
};
bool ParseIp(std::string_view s, IpAddr* out);
bool ParseCidr(std::string_view s, IpAddr* ip, int* prefix_len);
// "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)" when invalid.
Msgs IsValidIP(std::string_view s);
Msgs IsValidCIDR(std::string_view s);

}  // namespace ck::apiserver::validation
