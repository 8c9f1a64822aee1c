#pragma once
// The lists shipped in config/lists/ (embedded at build time; sources and licences in
// docs/lists.md): disposable domains (and the real providers wrongly among them), free-mail providers, role local parts, complaint-prone
// role local parts, and the big providers whose misspellings are typo domains.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace safetynet {

// The embedded text of a list ("disposable", "not-disposable", "free", "roles", "complaint-roles",
// "popular").
const char* builtinListText(std::string_view name);

struct BuiltinLists {
  std::unordered_set<std::string> disposable;            // exact domains
  std::unordered_set<std::string> disposable_wildcards;  // "*.x.com" entries, stored as "x.com"
  std::unordered_set<std::string> not_disposable;        // real providers the upstream list names
  std::unordered_set<std::string> free;
  std::unordered_set<std::string> roles;
  std::unordered_set<std::string> complaint_roles;
  std::vector<std::string> popular;
  std::unordered_set<std::string> popular_set;
  // Parsed once, on first use; shared and immutable after.
  static std::shared_ptr<const BuiltinLists> get();
};

}  // namespace safetynet
