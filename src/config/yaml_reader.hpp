#pragma once
// Strict reading of YAML mappings: every key the code does not ask for is an error, reported with
// file:line:column, the key path and a "did you mean" suggestion (userver's schema validation idea).
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "safetynet/config/config.hpp"

namespace safetynet::config {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file, bool readSecrets = true) : file_(std::move(file)), readSecrets_(readSecrets) {}
  // false: secrets are noted as given but not read (admin commands that talk to no platform).
  bool readSecrets() const { return readSecrets_; }
  void error(const YAML::Mark& mark, const std::string& path, const std::string& message);
  std::vector<ConfigError> take() { return std::move(errors_); }
  bool empty() const { return errors_.empty(); }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  bool readSecrets_ = true;
  std::vector<ConfigError> errors_;
};

// Closest candidate by edit distance, if close enough to be a plausible typo.
std::optional<std::string> didYouMean(const std::string& word, const std::vector<std::string>& candidates);

class MapReader {
 public:
  MapReader(Diagnostics& diag, YAML::Node node, std::string path);

  bool has(const std::string& key) const;
  void string(const std::string& key, std::string& out);
  void boolean(const std::string& key, bool& out);
  void integer(const std::string& key, int& out, int min, int max);
  void number(const std::string& key, double& out, double min, double max);
  void optionalNumber(const std::string& key, std::optional<double>& out, double min, double max);
  void duration(const std::string& key, std::chrono::milliseconds& out);
  void stringList(const std::string& key, std::vector<std::string>& out);
  void oneOf(const std::string& key, std::string& out, const std::vector<std::string>& allowed);
  // `key: value` (with ${ENV} expansion) or `key_file: path` (relative paths resolve against
  // $CREDENTIALS_DIRECTORY, else the config file's directory).
  // Returns whether either key was given (so a caller's "is required" check does not repeat an error).
  // `always`: read even when the command skips secrets (the store's connection string: every
  // command that reads the state needs it).
  bool secret(const std::string& key, Secret& out, bool always = false);
  // Nested mapping; nullopt (and nothing reported) when absent.
  std::optional<MapReader> map(const std::string& key);
  // A sequence of mappings.
  std::vector<MapReader> mapList(const std::string& key);
  // A mapping whose keys are free-form (e.g. signal names): calls fn for each entry.
  void eachEntry(const std::string& key, const std::function<void(const std::string&, MapReader&)>& fn);

  void error(const std::string& key, const std::string& message);
  const YAML::Mark mark() const { return node_.Mark(); }
  const std::string& path() const { return path_; }
  // Reports every key that was not asked for. Call once, after reading.
  void finish();

 private:
  std::optional<YAML::Node> scalar(const std::string& key, const char* expected);
  std::string childPath(const std::string& key) const;
  std::string expand(const YAML::Node& node, const std::string& key);

  Diagnostics* diag_;
  YAML::Node node_;
  std::string path_;
  std::vector<std::string> known_;
};

}  // namespace safetynet::config
