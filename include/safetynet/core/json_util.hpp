#pragma once
// Safe reads of JSON that came from outside (a platform's reply): a missing key, null or a value
// of another type gives the fallback instead of throwing (nlohmann's value() throws on a type
// mismatch, so `"date_updated": null` would abort a whole cycle).
#include <nlohmann/json.hpp>

#include <string>

namespace safetynet {

inline std::string jsonString(const nlohmann::json& j, const char* key, std::string fallback = "") {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

inline bool jsonBool(const nlohmann::json& j, const char* key, bool fallback = false) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

inline const nlohmann::json& jsonObject(const nlohmann::json& j, const char* key) {
  static const nlohmann::json empty = nlohmann::json::object();
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty;
}

// JSON text of a value that may hold bytes from outside that are not UTF-8 (a bounce's or an SMTP
// server's words): those become U+FFFD instead of an exception (nlohmann's dump() throws
// type_error 316, which aborted `bounce classify` on a UTF-7 bounce).
// (A template: an ordered_json keeps its key order; converting it to json would sort the keys.)
template <typename Json>
std::string jsonText(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace safetynet
