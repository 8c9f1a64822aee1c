#pragma once
// Shared by the libFuzzer targets: quiet logs (a warning per input would drown libFuzzer's output
// and slow it down), and the JSON reading the connectors do (parse without exceptions).
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "safetynet/core/logging.hpp"

namespace safetynet::fuzz {

inline void quietLogs() { initLogging("off"); }

inline std::string text(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

// As the connectors read a reply: nlohmann::json::parse(body, nullptr, false), discarded if not JSON.
inline nlohmann::json parseReply(const std::string& body) { return nlohmann::json::parse(body, nullptr, false); }

// The items a listing page holds (`data` when it is an array), else the document itself.
template <typename F>
void forEachItem(const nlohmann::json& doc, F&& f) {
  f(doc);
  if (doc.is_object()) {
    auto it = doc.find("data");
    if (it != doc.end() && it->is_array())
      for (const auto& item : *it) f(item);
    else if (it != doc.end()) f(*it);
  } else if (doc.is_array()) {
    for (const auto& item : doc) f(item);
  }
}

}  // namespace safetynet::fuzz
