#include "checks/provider_check.hpp"

#include <libpsl.h>

#include <algorithm>
#include "safetynet/core/text.hpp"

namespace safetynet::checks {

namespace {

// Optimal string alignment distance: a swap of two neighbours ("gmial") costs 1, as typists make it.
size_t typoDistance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

// Mistyped top-level domains of the big providers (.com typed as .con, .cm, .co ...).
bool tldTypo(const std::string& typed, const std::string& real) {
  if (real == "com") {
    static const char* kCom[] = {"con", "cm", "co", "om", "comm", "cpm", "ocm", "vom", "xom", "c0m", "cim", "coom", "cmo"};
    return std::any_of(std::begin(kCom), std::end(kCom), [&](const char* t) { return typed == t; });
  }
  if (real == "net") return typed == "ne" || typed == "nett" || typed == "ner" || typed == "nte" || typed == "bet";
  // Elsewhere a suffix that is itself a real one (the Public Suffix List) is a provider's other
  // country domain (yahoo.dk beside yahoo.de), not a slip of the finger.
  if (psl_is_public_suffix(psl_builtin(), typed.c_str())) return false;
  return typoDistance(typed, real) == 1 && typed.size() >= real.size();
}

std::pair<std::string, std::string> splitFirstLabel(const std::string& d) {
  auto dot = d.find('.');
  return dot == std::string::npos ? std::pair{d, std::string()} : std::pair{d.substr(0, dot), d.substr(dot + 1)};
}

}  // namespace

std::string typoSuggestion(const std::string& domain, const BuiltinLists& lists) {
  // Not skipped for the free list: it holds typo-squatted domains too (gmial.com, hotmial.com).
  if (lists.popular_set.count(domain)) return "";
  const auto [name, suffix] = splitFirstLabel(domain);
  for (const auto& p : lists.popular) {
    const auto [pname, psuffix] = splitFirstLabel(p);
    // gmial.com, gmaill.com, gamil.com: the provider's name mistyped, the suffix right.
    if (suffix == psuffix && pname.size() >= 4 && typoDistance(name, pname) == 1) return p;
    // gmail.con, hotmail.cm: the name right, the suffix mistyped.
    if (name == pname && suffix != psuffix && tldTypo(suffix, psuffix)) return p;
  }
  return "";
}

Task<void> ProviderCheck::run(const CheckInput& input, ScanResult& result) {
  if (!input.address) co_return;
  const Address& a = *input.address;
  const BuiltinLists& l = *lists_;

  std::string local = asciiLower(a.local);
  if (auto plus = local.find('+'); plus != std::string::npos) local.erase(plus);
  if (l.complaint_roles.count(local))
    result.add("ROLE_ACCOUNT", local + "@ is a role mailbox where complaints and abuse reports are read");
  else if (l.roles.count(local))
    result.add("ROLE_ADDRESS", local + "@ is a team mailbox, not a person");

  const std::string& domain = a.ascii_domain;
  const std::string registrable = registrableDomain(domain);
  bool disposable = l.disposable.count(domain) || l.disposable.count(registrable);
  for (std::string d = domain; !disposable && !d.empty();) {
    if (l.disposable_wildcards.count(d)) disposable = true;
    auto dot = d.find('.');
    if (dot == std::string::npos) break;
    d.erase(0, dot + 1);
  }
  // A real provider the upstream list names (config/lists/not-disposable.txt) is not one.
  if (l.not_disposable.count(domain) || l.not_disposable.count(registrable)) disposable = false;
  if (disposable) {
    result.add("DISPOSABLE_DOMAIN", a.domain + " is a disposable (throw-away) mail domain");
    co_return;
  }
  if (std::string fix = typoSuggestion(domain, l); !fix.empty()) {
    result.add("TYPO_DOMAIN", a.domain + " looks like a misspelling of " + fix);
    result.suggestion = a.local + "@" + fix;
  } else if (l.free.count(domain) || l.free.count(registrable)) {
    result.add("FREE_PROVIDER", a.domain + " is a free mail provider");
  }
}

}  // namespace safetynet::checks
