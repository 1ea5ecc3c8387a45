#include "apiserver/validation/names.h"

#include <arpa/inet.h>

#include <cctype>

namespace ck::apiserver::validation {

namespace {

constexpr int kDNS1123LabelMaxLength = 63;
constexpr int kDNS1123SubdomainMaxLength = 253;
constexpr int kDNS1035LabelMaxLength = 63;
constexpr int kQualifiedNameMaxLength = 63;
constexpr int kLabelValueMaxLength = 63;

constexpr std::string_view kDNS1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDNS1123LabelErrMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character";
constexpr std::string_view kDNS1123SubdomainFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kDNS1123SubdomainErrMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character";
constexpr std::string_view kDNS1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDNS1035LabelErrMsg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character";
constexpr std::string_view kWildcardFmt = "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kWildcardErrMsg =
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of "
    "lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
constexpr std::string_view kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character";
constexpr std::string_view kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr std::string_view kLabelValueErrMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character";

bool LowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool Alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool MatchDNSLabel(std::string_view s) {
  if (s.empty() || !LowerAlnum(s.front()) || !LowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!LowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool MatchDNSSubdomain(std::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!MatchDNSLabel(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchQualifiedPart(std::string_view s) {
  if (s.empty() || !Alnum(s.front()) || !Alnum(s.back())) return false;
  for (char c : s) {
    if (!Alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

Msgs HasChDirPrefix(std::string_view v) {
  if (v == ".") return {"must not be '.'"};
  if (v == "..") return {"must not be '..'"};
  if (v.substr(0, 2) == "..") return {"must not start with '..'"};
  return {};
}

void Prefix(Msgs& msgs, std::string_view prefix) {
  for (auto& m : msgs) m = std::string(prefix) + m;
}

// apimachinery's maskTrailingDash: a generateName prefix may end in '-'.
std::string MaskTrailingDash(std::string_view name) {
  if (name.size() > 1 && name.back() == '-') return std::string(name.substr(0, name.size() - 2)) + "a";
  return std::string(name);
}

int ParseIpv4Octets(std::string_view s, unsigned char* out) {
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    size_t start = i;
    int value = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i - start < 3) {
      value = value * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start || value > 255) return -1;
    out[parts++] = static_cast<unsigned char>(value);
    if (parts == 4) break;
    if (i >= s.size() || s[i] != '.') return -1;
    ++i;
  }
  return i == s.size() ? 4 : -1;
}

}  // namespace

std::string MaxLenError(int n) { return "must be no more than " + std::to_string(n) + " characters"; }

std::string InclusiveRangeError(int64_t lo, int64_t hi) {
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", inclusive";
}

std::string RegexError(std::string_view msg, std::string_view fmt, const std::vector<std::string>& examples) {
  std::string out(msg);
  if (examples.empty()) return out + " (regex used for validation is '" + std::string(fmt) + "')";
  out += " (e.g. ";
  for (size_t i = 0; i < examples.size(); ++i) {
    if (i > 0) out += " or ";
    out += "'" + examples[i] + "', ";
  }
  out += "regex used for validation is '" + std::string(fmt) + "')";
  return out;
}

Msgs IsDNS1123Label(std::string_view v) {
  Msgs errs;
  if (v.size() > kDNS1123LabelMaxLength) errs.push_back(MaxLenError(kDNS1123LabelMaxLength));
  if (!MatchDNSLabel(v)) {
    if (MatchDNSSubdomain(v)) {
      errs.push_back("must not contain dots");
    } else {
      errs.push_back(RegexError(kDNS1123LabelErrMsg, kDNS1123LabelFmt, {"my-name", "123-abc"}));
    }
  }
  return errs;
}

Msgs IsDNS1123Subdomain(std::string_view v) {
  Msgs errs;
  if (v.size() > kDNS1123SubdomainMaxLength) errs.push_back(MaxLenError(kDNS1123SubdomainMaxLength));
  if (!MatchDNSSubdomain(v)) errs.push_back(RegexError(kDNS1123SubdomainErrMsg, kDNS1123SubdomainFmt, {"example.com"}));
  return errs;
}

Msgs IsDNS1035Label(std::string_view v) {
  Msgs errs;
  if (v.size() > kDNS1035LabelMaxLength) errs.push_back(MaxLenError(kDNS1035LabelMaxLength));
  bool ok = MatchDNSLabel(v) && v.front() >= 'a' && v.front() <= 'z';
  if (!ok) errs.push_back(RegexError(kDNS1035LabelErrMsg, kDNS1035LabelFmt, {"my-name", "abc-123"}));
  return errs;
}

Msgs IsWildcardDNS1123Subdomain(std::string_view v) {
  Msgs errs;
  if (v.size() > kDNS1123SubdomainMaxLength) errs.push_back(MaxLenError(kDNS1123SubdomainMaxLength));
  bool ok = v.size() > 2 && v.substr(0, 2) == "*." && MatchDNSSubdomain(v.substr(2));
  if (!ok) errs.push_back(RegexError(kWildcardErrMsg, kWildcardFmt, {"*.example.com"}));
  return errs;
}

Msgs IsQualifiedName(std::string_view v) {
  Msgs errs;
  std::string_view name;
  size_t slash = v.find('/');
  if (slash == std::string_view::npos) {
    name = v;
  } else if (v.find('/', slash + 1) == std::string_view::npos) {
    std::string_view prefix = v.substr(0, slash);
    name = v.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      Msgs p = IsDNS1123Subdomain(prefix);
      Prefix(p, "prefix part ");
      errs.insert(errs.end(), p.begin(), p.end());
    }
  } else {
    errs.push_back("a qualified name " +
                   RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
                   " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    return errs;
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > kQualifiedNameMaxLength) {
    errs.push_back("name part " + MaxLenError(kQualifiedNameMaxLength));
  }
  if (!MatchQualifiedPart(name)) {
    errs.push_back("name part " + RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

Msgs IsLabelValue(std::string_view v) {
  Msgs errs;
  if (v.size() > kLabelValueMaxLength) errs.push_back(MaxLenError(kLabelValueMaxLength));
  if (!v.empty() && !MatchQualifiedPart(v)) {
    errs.push_back(RegexError(kLabelValueErrMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

Msgs IsConfigMapKey(std::string_view v) {
  Msgs errs;
  if (v.size() > kDNS1123SubdomainMaxLength) errs.push_back(MaxLenError(kDNS1123SubdomainMaxLength));
  bool ok = !v.empty();
  for (char c : v) {
    if (!Alnum(c) && c != '-' && c != '.' && c != '_') ok = false;
  }
  if (!ok) {
    errs.push_back(RegexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                              "[-._a-zA-Z0-9]+", {"key.name", "KEY_NAME", "key-name"}));
  }
  Msgs more = HasChDirPrefix(v);
  errs.insert(errs.end(), more.begin(), more.end());
  return errs;
}

Msgs IsEnvVarName(std::string_view v) {
  Msgs errs;
  bool ok = !v.empty() && !std::isdigit(static_cast<unsigned char>(v.front()));
  for (char c : v) {
    if (!std::isalpha(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)) && c != '-' &&
        c != '.' && c != '_') {
      ok = false;
    }
  }
  if (!ok) {
    errs.push_back(RegexError(
        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must "
        "not start with a digit",
        "[-._a-zA-Z][-._a-zA-Z0-9]*", {"my.env-name", "MY_ENV.NAME", "MyEnvName1"}));
  }
  Msgs more = HasChDirPrefix(v);
  errs.insert(errs.end(), more.begin(), more.end());
  return errs;
}

Msgs IsRelaxedEnvVarName(std::string_view v) {
  Msgs errs;
  if (v.empty()) errs.push_back("environment variable name must be non-empty");
  for (unsigned char c : v) {
    if (c > 0x7e || c < 0x20 || c == '=') {
      errs.push_back("a valid environment variable name must consist only of printable ASCII characters other than '='");
      break;
    }
  }
  return errs;
}

Msgs IsCIdentifier(std::string_view v) {
  bool ok = !v.empty() && (std::isalpha(static_cast<unsigned char>(v.front())) || v.front() == '_');
  for (char c : v) {
    if (!Alnum(c) && c != '_') ok = false;
  }
  if (ok) return {};
  return {RegexError("a valid C identifier must start with alphabetic character or '_', followed by a string of "
                     "alphanumeric characters or '_'",
                     "[A-Za-z_][A-Za-z0-9_]*", {"my_name", "MY_NAME", "MyName"})};
}

Msgs IsValidPortNum(int64_t port) {
  if (port >= 1 && port <= 65535) return {};
  return {InclusiveRangeError(1, 65535)};
}

Msgs IsValidPortName(std::string_view v) {
  Msgs errs;
  if (v.size() > 15) errs.push_back(MaxLenError(15));
  bool charset = !v.empty();
  bool letter = false;
  for (char c : v) {
    if (!LowerAlnum(c) && c != '-') charset = false;
    if (c >= 'a' && c <= 'z') letter = true;
  }
  if (!charset) errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!letter) errs.push_back("must contain at least one letter (a-z)");
  if (v.find("--") != std::string_view::npos) errs.push_back("must not contain consecutive hyphens");
  if (!v.empty() && (v.front() == '-' || v.back() == '-')) errs.push_back("must not begin or end with a hyphen");
  return errs;
}

bool IsDecimal(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

Msgs IsValidPercent(std::string_view v) {
  if (v.size() >= 2 && v.back() == '%' && IsDecimal(v.substr(0, v.size() - 1))) return {};
  return {RegexError("a valid percent string must be a numeric string followed by an ending '%'", "[0-9]+%",
                     {"1%", "93%"})};
}

Msgs IsHTTPHeaderName(std::string_view v) {
  bool ok = !v.empty();
  for (char c : v) {
    if (!Alnum(c) && c != '-') ok = false;
  }
  if (ok) return {};
  return {RegexError("a valid HTTP header must consist of alphanumeric characters or '-'", "[-A-Za-z0-9]+",
                     {"X-Header-Name"})};
}

Msgs IsValidUserOrGroupID(int64_t id) {
  if (id >= 0 && id <= 0xffffffffLL) return {};
  return {InclusiveRangeError(0, 0xffffffffLL)};
}

Msgs ValidateName(NameRule rule, std::string_view name, bool prefix) {
  switch (rule) {
    case NameRule::kDNSSubdomain:
      return IsDNS1123Subdomain(prefix ? MaskTrailingDash(name) : std::string(name));
    case NameRule::kDNSLabel:
      return IsDNS1123Label(prefix ? MaskTrailingDash(name) : std::string(name));
    case NameRule::kDNS1035Label:
      return IsDNS1035Label(prefix ? MaskTrailingDash(name) : std::string(name));
    case NameRule::kPathSegment: {
      Msgs errs;
      if (!prefix) {
        if (name == ".") return {"may not be '.'"};
        if (name == "..") return {"may not be '..'"};
      }
      if (name.find('/') != std::string_view::npos) errs.push_back("may not contain '/'");
      if (name.find('%') != std::string_view::npos) errs.push_back("may not contain '%'");
      return errs;
    }
  }
  return {};
}

bool ParseIp(std::string_view s, IpAddr* out) {
  IpAddr ip;
  if (s.find(':') == std::string_view::npos) {
    if (ParseIpv4Octets(s, ip.bytes) != 4) return false;
    ip.v6 = false;
  } else {
    if (s.size() > 45) return false;
    std::string tmp(s);
    if (inet_pton(AF_INET6, tmp.c_str(), ip.bytes) != 1) return false;
    ip.v6 = true;
  }
  if (out != nullptr) *out = ip;
  return true;
}

bool ParseCidr(std::string_view s, IpAddr* ip, int* prefix_len) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  IpAddr addr;
  if (!ParseIp(s.substr(0, slash), &addr)) return false;
  std::string_view bits = s.substr(slash + 1);
  if (!IsDecimal(bits) || bits.size() > 3) return false;
  int n = std::stoi(std::string(bits));
  if (n > (addr.v6 ? 128 : 32)) return false;
  if (bits.size() > 1 && bits.front() == '0') return false;  // Go rejects leading zeros in the prefix
  if (ip != nullptr) *ip = addr;
  if (prefix_len != nullptr) *prefix_len = n;
  return true;
}

Msgs IsValidIP(std::string_view s) {
  if (ParseIp(s, nullptr)) return {};
  return {"must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"};
}

Msgs IsValidCIDR(std::string_view s) {
  if (ParseCidr(s, nullptr, nullptr)) return {};
  return {"must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"};
}

}  // namespace ck::apiserver::validation
