#pragma once
// The admin's lists (allow, spam traps, complainers, suppression): files with one entry per line,
// an address (alice@example.com) or a domain (example.com, also matching its subdomains).
// '#' starts a comment. Reloaded on SIGHUP by building a new AdminLists and swapping it in.
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "safetynet/check/address.hpp"
#include "safetynet/config/config.hpp"

namespace safetynet {

class AddressList {
 public:
  // Returns the problems found (unreadable file, bad lines), each "file:line: message".
  std::vector<std::string> loadFile(const std::string& path);
  void add(const std::string& entry);
  // What matched ("alice@x.com" or "x.com"), or "" if nothing did.
  std::string match(const Address& a) const;
  size_t size() const { return addresses_.size() + domains_.size(); }

 private:
  std::unordered_set<std::string> addresses_;
  std::unordered_set<std::string> domains_;
};

struct AdminLists {
  AddressList allow, spamtraps, complainers, suppression;
  // Loads every configured file; problems are returned (a missing file is a problem).
  static std::shared_ptr<const AdminLists> load(const ListsConfig& cfg, std::vector<std::string>* problems);
};

using AdminListsPtr = std::shared_ptr<const AdminLists>;

}  // namespace safetynet
