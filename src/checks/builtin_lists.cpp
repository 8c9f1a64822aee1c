#include "checks/builtin_lists.hpp"

#include <algorithm>
#include <mutex>
#include <sstream>

namespace safetynet {

namespace {
template <typename F>
void eachLine(std::string_view name, F f) {
  const char* text = builtinListText(name);
  if (!text) return;
  std::string_view all(text);
  size_t pos = 0;
  while (pos < all.size()) {
    size_t eol = all.find('\n', pos);
    if (eol == std::string_view::npos) eol = all.size();
    std::string_view line = all.substr(pos, eol - pos);
    pos = eol + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    f(line);
  }
}
// Lines in a list, an upper bound of its entries: its sets are sized once, not rehashed as they
// grow (122,000 disposable domains; rehashing was a tenth of `check`'s start).
size_t lineCount(std::string_view name) {
  const char* text = builtinListText(name);
  if (!text) return 0;
  std::string_view all(text);
  return static_cast<size_t>(std::count(all.begin(), all.end(), '\n')) + 1;
}
}  // namespace

std::shared_ptr<const BuiltinLists> BuiltinLists::get() {
  static std::once_flag once;
  // Never destroyed: freeing 137,000 strings at exit was a tenth of a short command's time, and the
  // process's end frees them all at once.
  static auto* lists = new std::shared_ptr<const BuiltinLists>();
  std::call_once(once, [] {
    auto l = std::make_shared<BuiltinLists>();
    l->disposable.reserve(lineCount("disposable"));
    l->free.reserve(lineCount("free"));
    eachLine("disposable", [&](std::string_view d) {
      if (d.rfind("*.", 0) == 0)
        l->disposable_wildcards.emplace(d.substr(2));
      else
        l->disposable.emplace(d);
    });
    eachLine("not-disposable", [&](std::string_view line) {  // "domain  # why"
      l->not_disposable.emplace(line.substr(0, line.find_first_of(" \t#")));
    });
    eachLine("free", [&](std::string_view d) { l->free.emplace(d); });
    eachLine("roles", [&](std::string_view d) { l->roles.emplace(d); });
    eachLine("complaint-roles", [&](std::string_view d) { l->complaint_roles.emplace(d); });
    eachLine("popular", [&](std::string_view d) {
      l->popular.emplace_back(d);
      l->popular_set.emplace(d);
    });
    *lists = l;
  });
  return *lists;
}

}  // namespace safetynet
