// Strict address syntax (notes/verification.md §4): RFC 5321/5322 dot-atom local parts, length
// limits, RFC 6531 UTF-8 local parts, IDNA2008 domains. Quoted strings, comments, obsolete forms
// and address literals are refused: they do not survive a sales platform and a real MTA.
#include "safetynet/check/address.hpp"

#include <idn2.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include "safetynet/core/text.hpp"

namespace safetynet {

namespace {

constexpr size_t kMaxLocal = 64;     // RFC 5321 4.5.3.1.1
constexpr size_t kMaxDomain = 253;   // RFC 1035 (255 on the wire less the length octets)
constexpr size_t kMaxAddress = 254;  // RFC 5321 path of 256 less the angle brackets
constexpr size_t kMaxLabel = 63;

bool isAtext(unsigned char c) {
  if (std::isalnum(c)) return true;
  return std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr && c != 0;
}

struct Utf8Free {
  void operator()(void* p) const { std::free(p); }
};

std::optional<std::string> nfc(const std::string& s) {
  size_t len = 0;
  uint8_t* out = u8_normalize(UNINORM_NFC, reinterpret_cast<const uint8_t*>(s.data()), s.size(), nullptr, &len);
  if (!out) return std::nullopt;
  std::unique_ptr<uint8_t, Utf8Free> hold(out);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::optional<std::string> checkLocal(const std::string& local) {
  if (local.empty()) return "the part before @ is empty";
  if (local.size() > kMaxLocal) return "the part before @ is longer than 64 octets";
  if (local.front() == '.') return "the part before @ starts with a dot";
  if (local.back() == '.') return "the part before @ ends with a dot";
  for (size_t i = 0; i < local.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(local[i]);
    if (c == '.') {
      if (local[i + 1] == '.') return "the part before @ has two dots in a row";
      continue;
    }
    if (c >= 0x80) continue;  // UTF-8, validated as a whole by the caller
    if (c == '"') return "quoted local parts are not accepted";
    if (c == '(' || c == ')') return "comments are not accepted";
    if (c < 0x20 || c == 0x7f) return "the address contains a control character";
    if (c == ' ' || c == '\t') return "the address contains white space";
    if (!isAtext(c)) return std::string("the part before @ contains '") + static_cast<char>(c) + "'";
  }
  return std::nullopt;
}

std::optional<std::string> checkAsciiDomain(const std::string& d) {
  if (d.empty()) return "the domain is empty";
  if (d.size() > kMaxDomain) return "the domain is longer than 253 octets";
  if (d.front() == '[') return "address literals ([1.2.3.4]) are not accepted";
  if (d.back() == '.') return "the domain ends with a dot";
  size_t start = 0;
  std::string lastLabel;
  while (start <= d.size()) {
    size_t end = d.find('.', start);
    if (end == std::string::npos) end = d.size();
    std::string label = d.substr(start, end - start);
    if (label.empty()) return start == 0 ? "the domain starts with a dot" : "the domain has an empty label";
    if (label.size() > kMaxLabel) return "a domain label is longer than 63 octets";
    if (label.front() == '-' || label.back() == '-') return "a domain label starts or ends with a hyphen";
    for (unsigned char c : label) {
      if (c < 0x20 || c == 0x7f) return "the address contains a control character";
      if (c == ' ' || c == '\t') return "the address contains white space";
      if (c == '(' || c == ')') return "comments are not accepted";
      if (!std::isalnum(c) && c != '-') return std::string("the domain contains '") + static_cast<char>(c) + "'";
    }
    lastLabel = label;
    start = end + 1;
  }
  if (std::all_of(lastLabel.begin(), lastLabel.end(), [](unsigned char c) { return std::isdigit(c); }))
    return "the top-level domain is all digits";
  // RFC 5321 allows a bare top-level domain, but no public mailbox lives at one (as email-validator).
  if (d.find('.') == std::string::npos) return "the domain has no dot: a top-level domain alone takes no mail";
  return std::nullopt;
}

bool isAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

ParsedAddress parseAddress(std::string_view text) {
  ParsedAddress r;
  auto fail = [&](std::string why) {
    r.error = AddressError{std::move(why)};
    return r;
  };
  std::string s(text);
  if (s.empty()) return fail("the address is empty");
  if (u8_check(reinterpret_cast<const uint8_t*>(s.data()), s.size()) != nullptr)
    return fail("the address is not valid UTF-8");
  // The limit is on the address as sent: A-labels for the domain (checked at the end). Its UTF-8
  // text with U-labels may be longer (a Greek label takes more octets as UTF-8 than as A-label);
  // here only a bound before any Unicode work (fuzzing found the same address accepted with
  // A-labels and refused with U-labels).
  if (s.size() > kMaxAddress && (isAscii(s) || s.size() > 4 * kMaxAddress))
    return fail("the address is longer than 254 octets");
  size_t at = s.rfind('@');
  if (at == std::string::npos) return fail("the address has no @");
  std::string local = s.substr(0, at);
  std::string domain = s.substr(at + 1);
  if (local.find('@') != std::string::npos) {
    if (local.find('"') != std::string::npos) return fail("quoted local parts are not accepted");
    return fail("the address has more than one @");
  }
  if (auto e = checkLocal(local)) return fail(*e);
  if (domain.empty()) return fail("the domain is empty");
  if (domain.front() == '[') return fail("address literals ([1.2.3.4]) are not accepted");

  Address a;
  a.original = s;
  a.smtputf8 = !isAscii(local);
  if (a.smtputf8) {
    auto n = nfc(local);
    if (!n) return fail("the part before @ cannot be normalized");
    local = *n;
    if (local.size() > kMaxLocal) return fail("the part before @ is longer than 64 octets");
  }
  a.local = local;

  if (isAscii(domain)) {
    if (auto e = checkAsciiDomain(domain)) return fail(*e);
    a.ascii_domain = asciiLower(domain);
    a.domain = a.ascii_domain;
    // Show the Unicode form of A-labels; a malformed A-label is a bad domain.
    if (a.ascii_domain.find("xn--") != std::string::npos) {
      char* u = nullptr;
      if (idn2_to_unicode_8z8z(a.ascii_domain.c_str(), &u, 0) != IDN2_OK) return fail("the domain has an invalid A-label");
      a.domain = u;
      idn2_free(u);
      // idn2_to_unicode only decodes Punycode: an A-label is valid when its U-label is valid
      // IDNA2008 and encodes back to it ("xn--bcherlocalhost-kva" is "bcherlocal\u00b1host": no).
      char* back = nullptr;
      const int rc = idn2_to_ascii_8z(a.domain.c_str(), &back, IDN2_NONTRANSITIONAL);
      const bool same = rc == IDN2_OK && asciiLower(back) == a.ascii_domain;
      if (rc == IDN2_OK) idn2_free(back);
      if (!same) return fail("the domain has an invalid A-label");
    }
  } else {
    for (unsigned char c : domain)
      if (c < 0x20 || c == 0x7f || c == ' ') return fail("the domain contains a control character or a space");
    char* ascii = nullptr;
    int rc = idn2_to_ascii_8z(domain.c_str(), &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) return fail(std::string("the domain is not a valid internationalized name: ") + idn2_strerror(rc));
    a.ascii_domain = asciiLower(ascii);
    idn2_free(ascii);
    if (auto e = checkAsciiDomain(a.ascii_domain)) return fail(*e);
    size_t len = 0;
    uint8_t* folded = u8_tolower(reinterpret_cast<const uint8_t*>(domain.data()), domain.size(), nullptr,
                                 UNINORM_NFC, nullptr, &len);
    if (!folded) return fail("the domain cannot be normalized");
    a.domain.assign(reinterpret_cast<char*>(folded), len);
    std::free(folded);
  }
  if (a.local.size() + 1 + a.ascii_domain.size() > kMaxAddress) return fail("the address is longer than 254 octets");
  r.address = std::move(a);
  return r;
}

std::string canonicalAddress(std::string_view text) {
  auto p = parseAddress(text);
  if (!p.address) return std::string(text);
  return asciiLower(p.address->local) + "@" + p.address->ascii_domain;
}

}  // namespace safetynet
