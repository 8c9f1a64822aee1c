#include "config/yaml_reader.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "safetynet/core/duration.hpp"

namespace safetynet::config {

void Diagnostics::error(const YAML::Mark& mark, const std::string& path, const std::string& message) {
  std::ostringstream os;
  os << file_;
  if (!mark.is_null()) os << ':' << mark.line + 1 << ':' << mark.column + 1;
  os << ": ";
  if (!path.empty()) os << path << ": ";
  os << message;
  errors_.push_back(ConfigError{os.str()});
}

namespace {
size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "\"" + n.Scalar() + "\"";
    default: return "an undefined value";
  }
}
}  // namespace

std::optional<std::string> didYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t bestDistance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = editDistance(word, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

MapReader::MapReader(Diagnostics& diag, YAML::Node node, std::string path)
    : diag_(&diag), node_(std::move(node)), path_(std::move(path)) {}

std::string MapReader::childPath(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

bool MapReader::has(const std::string& key) const { return node_.IsMap() && node_[key].IsDefined(); }

void MapReader::error(const std::string& key, const std::string& message) {
  YAML::Mark m = node_.Mark();
  if (node_.IsMap() && node_[key].IsDefined()) m = node_[key].Mark();
  diag_->error(m, childPath(key), message);
}

std::optional<YAML::Node> MapReader::scalar(const std::string& key, const char* expected) {
  known_.push_back(key);
  if (!node_.IsMap()) return std::nullopt;
  YAML::Node v = node_[key];
  if (!v.IsDefined()) return std::nullopt;
  if (!v.IsScalar()) {
    diag_->error(v.Mark(), childPath(key), std::string("expected ") + expected + ", got " + describe(v));
    return std::nullopt;
  }
  return v;
}

std::string MapReader::expand(const YAML::Node& node, const std::string& key) {
  const std::string& in = node.Scalar();
  std::string out;
  for (size_t i = 0; i < in.size();) {
    if (in.compare(i, 2, "${") == 0) {
      size_t end = in.find('}', i + 2);
      if (end == std::string::npos) {
        diag_->error(node.Mark(), childPath(key), "unterminated ${ in value");
        return in;
      }
      std::string var = in.substr(i + 2, end - i - 2);
      const char* v = std::getenv(var.c_str());
      if (!v) {
        diag_->error(node.Mark(), childPath(key), "environment variable " + var + " is not set");
        return "";
      }
      out += v;
      i = end + 1;
    } else {
      out += in[i++];
    }
  }
  return out;
}

void MapReader::string(const std::string& key, std::string& out) {
  if (auto v = scalar(key, "a string")) out = expand(*v, key);
}

void MapReader::boolean(const std::string& key, bool& out) {
  if (auto v = scalar(key, "true or false")) {
    bool b;
    if (YAML::convert<bool>::decode(*v, b))
      out = b;
    else
      diag_->error(v->Mark(), childPath(key), "expected true or false, got " + describe(*v));
  }
}

void MapReader::integer(const std::string& key, int& out, int min, int max) {
  if (auto v = scalar(key, "an integer")) {
    int i;
    if (!YAML::convert<int>::decode(*v, i))
      diag_->error(v->Mark(), childPath(key), "expected an integer, got " + describe(*v));
    else if (i < min || i > max)
      diag_->error(v->Mark(), childPath(key),
                   "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + v->Scalar());
    else
      out = i;
  }
}

void MapReader::number(const std::string& key, double& out, double min, double max) {
  std::optional<double> v;
  optionalNumber(key, v, min, max);
  if (v) out = *v;
}

void MapReader::optionalNumber(const std::string& key, std::optional<double>& out, double min, double max) {
  if (auto v = scalar(key, "a number")) {
    double d;
    if (!YAML::convert<double>::decode(*v, d))
      diag_->error(v->Mark(), childPath(key), "expected a number, got " + describe(*v));
    else if (d < min || d > max) {
      std::ostringstream os;
      os << "must be between " << min << " and " << max << ", got " << v->Scalar();
      diag_->error(v->Mark(), childPath(key), os.str());
    } else
      out = d;
  }
}

void MapReader::duration(const std::string& key, std::chrono::milliseconds& out) {
  if (auto v = scalar(key, "a duration")) {
    if (auto d = parseDuration(v->Scalar()))
      out = *d;
    else
      diag_->error(v->Mark(), childPath(key),
                   "expected a duration like 250ms, 90s, 2m, 4h or 30d, got " + describe(*v));
  }
}

void MapReader::stringList(const std::string& key, std::vector<std::string>& out) {
  known_.push_back(key);
  if (!node_.IsMap()) return;
  YAML::Node v = node_[key];
  if (!v.IsDefined() || v.IsNull()) return;
  if (!v.IsSequence()) {
    diag_->error(v.Mark(), childPath(key), "expected a list, got " + describe(v));
    return;
  }
  out.clear();
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].IsScalar()) {
      diag_->error(v[i].Mark(), childPath(key) + "[" + std::to_string(i) + "]", "expected a string, got " + describe(v[i]));
      continue;
    }
    out.push_back(expand(v[i], key));
  }
}

void MapReader::oneOf(const std::string& key, std::string& out, const std::vector<std::string>& allowed) {
  if (auto v = scalar(key, "a string")) {
    const std::string& s = v->Scalar();
    if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) {
      out = s;
      return;
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    std::string msg = "\"" + s + "\" is not one of: " + list;
    if (auto m = didYouMean(s, allowed)) msg += " (did you mean \"" + *m + "\"?)";
    diag_->error(v->Mark(), childPath(key), msg);
  }
}

bool MapReader::secret(const std::string& key, Secret& out, bool always) {
  const std::string fileKey = key + "_file";
  if (!diag_->readSecrets() && !always) {
    // Known keys, not read: a command that uses no secret must not need to read them (it may run
    // as a user who cannot, or without the daemon's environment).
    known_.push_back(key);
    known_.push_back(fileKey);
    return has(key) || has(fileKey);
  }
  std::string value, file;
  string(key, value);
  string(fileKey, file);
  const bool given = has(key) || has(fileKey);
  if (has(key) && value.empty() && file.empty()) {
    error(key, "is empty");
    return given;
  }
  if (!value.empty() && !file.empty()) {
    error(fileKey, "set either " + key + " or " + fileKey + ", not both");
    return given;
  }
  if (!file.empty()) {
    namespace fs = std::filesystem;
    fs::path p(file);
    if (p.is_relative()) {
      if (const char* creds = std::getenv("CREDENTIALS_DIRECTORY"))
        p = fs::path(creds) / p;
      else
        p = fs::path(diag_->file()).parent_path() / p;
    }
    std::ifstream in(p);
    if (!in) {
      error(fileKey, "cannot read " + p.string());
      return given;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    value = ss.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ')) value.pop_back();
    if (value.empty()) error(fileKey, p.string() + " is empty");
  }
  out = Secret(value);
  return given;
}

std::optional<MapReader> MapReader::map(const std::string& key) {
  known_.push_back(key);
  if (!node_.IsMap()) return std::nullopt;
  YAML::Node v = node_[key];
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  if (!v.IsMap()) {
    diag_->error(v.Mark(), childPath(key), "expected a mapping, got " + describe(v));
    return std::nullopt;
  }
  return MapReader(*diag_, v, childPath(key));
}

std::vector<MapReader> MapReader::mapList(const std::string& key) {
  known_.push_back(key);
  std::vector<MapReader> out;
  if (!node_.IsMap()) return out;
  YAML::Node v = node_[key];
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsSequence()) {
    diag_->error(v.Mark(), childPath(key), "expected a list, got " + describe(v));
    return out;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    std::string p = childPath(key) + "[" + std::to_string(i) + "]";
    if (!v[i].IsMap()) {
      diag_->error(v[i].Mark(), p, "expected a mapping, got " + describe(v[i]));
      continue;
    }
    out.emplace_back(*diag_, v[i], p);
  }
  return out;
}

void MapReader::eachEntry(const std::string& key, const std::function<void(const std::string&, MapReader&)>& fn) {
  auto m = map(key);
  if (!m) return;
  for (auto it = m->node_.begin(); it != m->node_.end(); ++it) {
    const std::string name = it->first.as<std::string>();
    m->known_.push_back(name);
    if (!it->second.IsMap()) {
      diag_->error(it->second.Mark(), m->childPath(name), "expected a mapping, got " + describe(it->second));
      continue;
    }
    MapReader child(*diag_, it->second, m->childPath(name));
    fn(name, child);
    child.finish();
  }
}

void MapReader::finish() {
  if (!node_.IsMap()) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (!it->first.IsScalar()) {
      diag_->error(it->first.Mark(), path_, "keys must be plain strings");
      continue;
    }
    const std::string key = it->first.Scalar();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string msg = "unknown key";
    if (auto m = didYouMean(key, known_)) msg += " (did you mean \"" + *m + "\"?)";
    diag_->error(it->first.Mark(), childPath(key), msg);
  }
}

}  // namespace safetynet::config
