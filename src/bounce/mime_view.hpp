#pragma once
// A bounce email's MIME structure as plain data, read with GMime 3 (transfer encodings, charsets,
// nested message/rfc822): the only file that touches GMime.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace safetynet::bounce {

// Bounds on what is kept of outside text, so that no input makes the readers slow or deep:
// std::regex (libstdc++) recurses once per character it matches, and a 3 MB line overflowed the
// stack. Real bounces stay far below: SMTP replies are at most 512 bytes a line (RFC 5321), the
// explanation of a bounce a few kilobytes.
constexpr size_t kMaxHeaderBytes = 4096;
constexpr size_t kMaxLineBytes = 2000;   // longer lines are cut
constexpr size_t kMaxLeafBytes = 256 * 1024;  // of each part's text

struct MimeLeaf {
  std::string type;  // lower case, "text/plain", "message/delivery-status"...
  std::string text;  // content, transfer-decoded; UTF-8 for text/* parts
  int depth = 0;     // 0: part of the bounce itself; 1+: inside an attached message
};

struct MimeView {
  std::map<std::string, std::string> headers;  // lower-case name -> first value, decoded
  std::vector<std::string> received;           // every Received: header, top first
  std::string type;                            // top-level MIME type, lower case
  std::string report_type;                     // multipart/report's report-type parameter
  std::optional<long long> date_unix;          // the Date: header, if it parses
  std::vector<MimeLeaf> leaves;                // in document order
  // Headers of attached original messages (message/rfc822, text/rfc822-headers).
  std::vector<std::map<std::string, std::string>> originals;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

std::optional<MimeView> readMime(const std::string& raw, std::string* error);

}  // namespace safetynet::bounce
