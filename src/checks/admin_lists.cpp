#include "checks/admin_lists.hpp"

#include <fstream>
#include "safetynet/core/text.hpp"

namespace safetynet {

namespace {
std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}
}  // namespace

void AddressList::add(const std::string& entry) {
  std::string e = asciiLower(trim(entry));
  if (e.empty()) return;
  if (e.front() == '@') e.erase(0, 1);
  if (e.find('@') != std::string::npos)
    addresses_.insert(canonicalAddress(e));
  else
    domains_.insert(e);
}

std::vector<std::string> AddressList::loadFile(const std::string& path) {
  std::vector<std::string> problems;
  std::ifstream in(path);
  if (!in) {
    problems.push_back(path + ": cannot read the list");
    return problems;
  }
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    line = trim(line);
    if (line.empty()) continue;
    if (line.find_first_of(" \t,;") != std::string::npos) {
      problems.push_back(path + ":" + std::to_string(n) + ": one address or domain per line, got \"" + line + "\"");
      continue;
    }
    add(line);
  }
  return problems;
}

std::string AddressList::match(const Address& a) const {
  std::string addr = asciiLower(a.local) + "@" + a.ascii_domain;
  if (addresses_.count(addr)) return addr;
  // The domain and each parent: sub.example.com, example.com, com.
  std::string d = a.ascii_domain;
  while (!d.empty()) {
    if (domains_.count(d)) return d;
    auto dot = d.find('.');
    if (dot == std::string::npos) break;
    d.erase(0, dot + 1);
  }
  return "";
}

std::shared_ptr<const AdminLists> AdminLists::load(const ListsConfig& cfg, std::vector<std::string>* problems) {
  auto lists = std::make_shared<AdminLists>();
  auto one = [&](const std::string& path, AddressList& into) {
    if (path.empty()) return;
    auto p = into.loadFile(path);
    if (problems) problems->insert(problems->end(), p.begin(), p.end());
  };
  one(cfg.allow, lists->allow);
  one(cfg.spamtraps, lists->spamtraps);
  one(cfg.complainers, lists->complainers);
  one(cfg.suppression, lists->suppression);
  return lists;
}

}  // namespace safetynet
