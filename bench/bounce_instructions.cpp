// Instructions per bounce read, counted by callgrind: the same on a busy machine as on an idle one,
// where the timings of bounce_bench move by a third (docs/benchmarks.md). Each file is read once
// first (the rules are parsed on the first read) and then N times inside `measured`, the only
// function callgrind is told to count:
//   valgrind --tool=callgrind --toggle-collect='*measured*' --callgrind-out-file=/tmp/cg.out \
//     build/release/bench/bounce_instructions 20 tests/data/bounces/postfix-dsn.eml
//   (valgrind prints "Collected : I"; divide by N.)
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "safetynet/bounce/bounce.hpp"

namespace {

[[gnu::noinline]] size_t measured(const std::string& raw, int times) {
  size_t records = 0;
  for (int i = 0; i < times; ++i) records += safetynet::bounce::classify(raw).records.size();
  return records;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: bounce_instructions N FILE...\n";
    return 2;
  }
  const int times = std::atoi(argv[1]);
  for (int a = 2; a < argc; ++a) {
    std::ifstream in(argv[a], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string raw = ss.str();
    safetynet::bounce::classify(raw);  // parses the rules: not counted
    std::cout << argv[a] << ": " << measured(raw, times) / static_cast<size_t>(times > 0 ? times : 1) << " records\n";
  }
  return 0;
}
