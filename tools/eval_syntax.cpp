// Measures the syntax check against the isemail test set (../shared/testdata/syntax/isemail-tests.xml).
// Truth (notes/verification.md §4): only the VALID and DNSWARN categories are acceptable addresses.
// Usage: eval-syntax PATH [--min N]; prints the agreement and each disagreement; exit 1 below N.
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "safetynet/check/address.hpp"

namespace {
// The XML is flat and regular; std::regex over <test> elements is enough for this evaluation tool.
std::string unescape(std::string s) {
  auto rep = [&](const std::string& a, const std::string& b) {
    for (size_t p; (p = s.find(a)) != std::string::npos;) s.replace(p, a.size(), b);
  };
  // Control characters are written as U+2400 + n (the XML cannot hold them).
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x90) {
      unsigned char c3 = static_cast<unsigned char>(s[i + 2]);
      if (c3 >= 0x80 && c3 <= 0xA0) {
        out += static_cast<char>(c3 - 0x80);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  s = out;
  rep("&lt;", "<");
  rep("&gt;", ">");
  rep("&quot;", "\"");
  rep("&apos;", "'");
  rep("&amp;", "&");
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: eval-syntax PATH/isemail-tests.xml [--min N]\n";
    return 2;
  }
  int min = 0;
  for (int i = 2; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--min") min = std::stoi(argv[i + 1]);
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << argv[1] << ": cannot read\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string xml = ss.str();
  std::regex test(R"re(<test id="(\d+)">([\s\S]*?)</test>)re");
  std::regex address(R"re(<address>([\s\S]*?)</address>|<address/>)re"), category(R"re(<category>([^<]*)</category>)re");
  int total = 0, agree = 0;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), test); it != std::sregex_iterator(); ++it) {
    std::string body = (*it)[2];
    std::smatch a, c;
    std::regex_search(body, a, address);
    std::regex_search(body, c, category);
    std::string addr = unescape(a[1]);
    std::string cat = c[1];
    bool truth = cat == "ISEMAIL_VALID_CATEGORY" || cat == "ISEMAIL_DNSWARN";
    bool ours = safetynet::parseAddress(addr).address.has_value();
    ++total;
    if (truth == ours)
      ++agree;
    else
      std::cout << "disagree #" << (*it)[1] << " " << cat << " ours=" << (ours ? "valid" : "invalid") << " : " << addr << "\n";
  }
  std::cout << "syntax agreement: " << agree << "/" << total << "\n";
  return agree >= min ? 0 : 1;
}
