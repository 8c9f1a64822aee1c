#pragma once
// The bounce reader's regular expressions: std::regex with traits that look the locale's facets up
// once per pattern instead of once per character.
//
// libstdc++'s matcher asks its traits, at every "\b" it tests, for the class "w" by its name
// (lookup_classname: a use_facet and a compare of names) and whether a character is in it
// (isctype: another use_facet); an icase pattern asks for the lower case of every character it
// compares (translate_nocase: a use_facet). use_facet is a dynamic_cast. Under callgrind that was
// half of the time a bounce took to read (docs/benchmarks.md). The answers are the same: the
// tables below are filled from the pattern's own locale when the pattern is compiled, and a class
// other than "w" is asked of the standard traits as before.
#include <array>
#include <locale>
#include <regex>
#include <string>

namespace safetynet::bounce {

class RegexTraits : public std::regex_traits<char> {
 public:
  RegexTraits() { fill(); }

  locale_type imbue(locale_type loc) {
    locale_type old = std::regex_traits<char>::imbue(loc);
    fill();
    return old;
  }

  char translate_nocase(char c) const { return lower_[static_cast<unsigned char>(c)]; }

  template <typename It>
  char_class_type lookup_classname(It first, It last, bool icase = false) const {
    if (!icase && std::distance(first, last) == 1 && *first == 'w') return word_;
    return std::regex_traits<char>::lookup_classname(first, last, icase);
  }

  bool isctype(char c, char_class_type f) const {
    if (f == word_) return word_chars_[static_cast<unsigned char>(c)];
    return std::regex_traits<char>::isctype(c, f);
  }

 private:
  void fill() {
    const char w = 'w';
    word_ = std::regex_traits<char>::lookup_classname(&w, &w + 1, false);
    const auto& ctype = std::use_facet<std::ctype<char>>(getloc());
    for (int i = 0; i < 256; ++i) {
      const char c = static_cast<char>(i);
      lower_[static_cast<size_t>(i)] = ctype.tolower(c);
      word_chars_[static_cast<size_t>(i)] = std::regex_traits<char>::isctype(c, word_);
    }
  }

  char_class_type word_{};
  std::array<char, 256> lower_{};
  std::array<bool, 256> word_chars_{};
};

using Regex = std::basic_regex<char, RegexTraits>;
using RegexIterator = std::regex_iterator<std::string::const_iterator, char, RegexTraits>;

}  // namespace safetynet::bounce
