#include "bounce/mime_view.hpp"
#include "safetynet/bounce/bounce.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include "safetynet/core/text.hpp"

namespace safetynet::bounce {

namespace {

// GMime owns its objects through GObject references; this releases one at scope exit.
struct Unref {
  gpointer p;
  ~Unref() {
    if (p) g_object_unref(p);
  }
};

std::string mimeType(GMimeObject* o) {
  GMimeContentType* ct = g_mime_object_get_content_type(o);
  if (!ct) return "text/plain";
  char* t = g_mime_content_type_get_mime_type(ct);
  std::string s = t ? asciiLower(t) : "text/plain";
  g_free(t);
  return s;
}

std::map<std::string, std::string> headersOf(GMimeObject* o, std::vector<std::string>* received) {
  std::map<std::string, std::string> out;
  GMimeHeaderList* list = g_mime_object_get_header_list(o);
  const int n = list ? g_mime_header_list_get_count(list) : 0;
  for (int i = 0; i < n; ++i) {
    GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
    const char* name = g_mime_header_get_name(h);
    const char* value = g_mime_header_get_value(h);  // unfolded, RFC 2047-decoded
    if (!name) continue;
    std::string key = asciiLower(name), v = value ? value : "";
    // No header that matters to a bounce is longer; std::regex recurses per character. Cut at a
    // list's separator, never inside an address (a cut one would be a made-up recipient).
    if (v.size() > kMaxHeaderBytes) {
      const size_t sep = v.find_last_of(", \t", kMaxHeaderBytes);
      v.resize(sep != std::string::npos && sep + 256 > kMaxHeaderBytes ? sep : kMaxHeaderBytes);
    }
    if (key == "received" && received) received->push_back(v);
    // Exim writes X-Failed-Recipients anew every 50 addresses (deliver.c: "starting a new header
    // every 50 recipients"): the fields together are the list.
    if (auto it = out.find(key); it != out.end() && key == "x-failed-recipients") {
      if (it->second.size() < 64 * 1024) it->second += ", " + v;  // some thousand addresses at most
      continue;
    }
    // Each Authentication-Results field is one verifier's (RFC 8601 5: the border's, an internal
    // filter's above it): together, as resinfo clauses of one, they are what the receiving side
    // found (review-2026-12-07-17: an internal amavisd-new field above the border's DMARC failure).
    if (auto it = out.find(key); it != out.end() && key == "authentication-results") {
      if (it->second.size() < 16 * 1024) it->second += "; " + v;
      continue;
    }
    out.emplace(key, v);
  }
  return out;
}

// A part's content with its transfer encoding undone; text/* converted to UTF-8.
std::string contentOf(GMimePart* part) {
  if (GMIME_IS_TEXT_PART(part)) {
    char* t = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
    std::string s = t ? t : "";
    g_free(t);
    return s;
  }
  GMimeDataWrapper* w = g_mime_part_get_content(part);
  if (!w) return "";
  GMimeStream* mem = g_mime_stream_mem_new();
  Unref release{mem};
  g_mime_data_wrapper_write_to_stream(w, mem);
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
  std::string s = bytes ? std::string(reinterpret_cast<const char*>(bytes->data), bytes->len) : "";
  // A report part has no charset parameter, yet Japanese MTAs write their text into it in
  // ISO-2022-JP (7-bit, with escape sequences): converted like the text parts are.
  if (s.find("\x1b$B") != std::string::npos || s.find("\x1b$@") != std::string::npos) {
    iconv_t cd = g_mime_iconv_open("UTF-8", "ISO-2022-JP");
    if (cd != reinterpret_cast<iconv_t>(-1)) {
      if (char* utf8 = g_mime_iconv_strdup(cd, s.c_str())) {
        s = utf8;
        g_free(utf8);
      }
      g_mime_iconv_close(cd);
    }
  }
  return s;
}

// At most kMaxLeafBytes, no line longer than kMaxLineBytes, lines ended by LF alone: a message
// kept with the wire's CRLF (RFC 5321 2.3.8) reads as the same message stored with LF.
std::string bounded(const std::string& text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxLeafBytes));
  size_t line = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (out.size() >= kMaxLeafBytes) break;
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n') line = 0;
    else if (++line > kMaxLineBytes) continue;
    out += c;
  }
  return out;
}

// The text of a multipart that holds no part: GMime keeps its body as the prologue, still in the
// part's transfer encoding and charset. A multipart needs a boundary (RFC 2046 5.1.1), but
// gromox's store labels the text part of its bounces multipart/report with none, base64 in
// UTF-8 (exch/exmdb/bounce_producer.cpp: the text part's media type is MULTIPART_REPORT): its
// words are read as the text they are, as a text part's would be.
std::string prologueText(GMimeObject* o, const char* prologue) {
  // With a boundary the body was meant to be parts, its encoding theirs: kept as written.
  if (g_mime_object_get_content_type_parameter(o, "boundary")) return prologue;
  const char* transfer = g_mime_object_get_header(o, "Content-Transfer-Encoding");
  const GMimeContentEncoding encoding = transfer ? g_mime_content_encoding_from_string(transfer) : GMIME_CONTENT_ENCODING_DEFAULT;
  const char* charset = g_mime_object_get_content_type_parameter(o, "charset");
  const bool decode = encoding == GMIME_CONTENT_ENCODING_BASE64 || encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
  const bool convert = charset && g_ascii_strcasecmp(charset, "utf-8") != 0 && g_ascii_strcasecmp(charset, "us-ascii") != 0;
  if (!decode && !convert) return prologue;
  GMimeStream* mem = g_mime_stream_mem_new();
  Unref releaseMem{mem};
  GMimeStream* filtered = g_mime_stream_filter_new(mem);
  Unref releaseFiltered{filtered};
  if (decode) {
    GMimeFilter* f = g_mime_filter_basic_new(encoding, FALSE);
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
    g_object_unref(f);
  }
  if (convert) {
    if (GMimeFilter* f = g_mime_filter_charset_new(charset, "UTF-8")) {  // null for a charset iconv lacks
      g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
      g_object_unref(f);
    }
  }
  // No more than a leaf may hold once decoded (base64 is 4 bytes for 3).
  g_mime_stream_write(filtered, prologue, std::min(std::strlen(prologue), kMaxLeafBytes / 3 * 4 + 4));
  g_mime_stream_flush(filtered);
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
  return bytes ? std::string(reinterpret_cast<const char*>(bytes->data), bytes->len) : std::string();
}

void walk(GMimeObject* o, int depth, MimeView& view) {
  if (!o) return;
  if (GMIME_IS_MULTIPART(o)) {
    GMimeMultipart* mp = GMIME_MULTIPART(o);
    const int n = g_mime_multipart_get_count(mp);
    // No part found (no boundary, or one that never appears in the body): the text is all in the
    // prologue.
    if (n == 0)
      if (const char* prologue = g_mime_multipart_get_prologue(mp))
        view.leaves.push_back(MimeLeaf{"text/plain", bounded(prologueText(o, prologue)), depth});
    for (int i = 0; i < n; ++i) walk(g_mime_multipart_get_part(mp, i), depth, view);
    return;
  }
  if (GMIME_IS_MESSAGE_PART(o)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
    if (!inner) return;
    auto headers = headersOf(GMIME_OBJECT(inner), nullptr);
    // GMime keeps an attached message's Content-Type on its body part, not in its header list: a
    // reader that asks what the attached message is (a feedback report someone forwarded) needs it.
    GMimeObject* body = g_mime_message_get_mime_part(inner);
    if (body && !headers.count("content-type"))
      if (const char* ct = g_mime_object_get_header(body, "Content-Type")) headers.emplace("content-type", ct);
    view.originals.push_back(std::move(headers));
    walk(body, depth + 1, view);
    return;
  }
  if (GMIME_IS_PART(o)) {
    MimeLeaf leaf;
    leaf.type = mimeType(o);
    leaf.text = bounded(contentOf(GMIME_PART(o)));
    leaf.depth = depth;
    view.leaves.push_back(std::move(leaf));
  }
}

}  // namespace

std::vector<std::pair<size_t, size_t>> mailboxMessages(const std::string& raw) {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
  if (raw.rfind("From ", 0) != 0) return {{0, raw.size()}};
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(raw.data(), raw.size());
  Unref releaseStream{stream};
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  Unref releaseParser{parser};
  g_mime_parser_set_format(parser, GMIME_FORMAT_MBOX);
  std::vector<size_t> starts;
  while (!g_mime_parser_eos(parser)) {
    GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
    if (!message) break;
    Unref releaseMessage{message};
    const gint64 marker = g_mime_parser_get_mbox_marker_offset(parser);
    if (marker >= 0 && static_cast<size_t>(marker) < raw.size() && (starts.empty() || starts.back() < static_cast<size_t>(marker)))
      starts.push_back(static_cast<size_t>(marker));
  }
  if (starts.empty()) return {{0, raw.size()}};
  starts.front() = 0;
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t i = 0; i < starts.size(); ++i) out.emplace_back(starts[i], i + 1 < starts.size() ? starts[i + 1] : raw.size());
  return out;
}

// RFC 5322 2.3: CR and LF occur in a message only together, as CRLF. A notice saved through two
// line-end conversions ("\r\r\n": a CRLF rewritten as if its LF were alone) is the same message;
// a run of CRs before a LF is one line end. Otherwise the headers never end for GMime.
static std::string oneCrPerLineEnd(const std::string& raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\r') {
      size_t j = i;
      while (j < raw.size() && raw[j] == '\r') ++j;
      if (j < raw.size() && raw[j] == '\n') i = j - 1;  // keep the last CR, before its LF
    }
    out += raw[i];
  }
  return out;
}

std::optional<MimeView> readMime(const std::string& original, std::string* error) {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
  std::string collapsed;
  if (original.find("\r\r\n") != std::string::npos) collapsed = oneCrPerLineEnd(original);
  const std::string& raw = collapsed.empty() ? original : collapsed;
  // An mbox "From " separator line before the headers is not part of the message.
  size_t start = 0;
  if (raw.rfind("From ", 0) == 0) {
    start = raw.find('\n');
    start = start == std::string::npos ? raw.size() : start + 1;
  }
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(raw.data() + start, raw.size() - start);
  Unref releaseStream{stream};
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  Unref releaseParser{parser};
  g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
  GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
  if (!message) {
    *error = "not a MIME message";
    return std::nullopt;
  }
  Unref releaseMessage{message};
  MimeView view;
  view.headers = headersOf(GMIME_OBJECT(message), &view.received);
  if (GDateTime* date = g_mime_message_get_date(message)) view.date_unix = g_date_time_to_unix(date);
  GMimeObject* body = g_mime_message_get_mime_part(message);
  if (body) {
    view.type = mimeType(body);
    if (GMimeContentType* ct = g_mime_object_get_content_type(body))
      if (const char* rt = g_mime_content_type_get_parameter(ct, "report-type")) view.report_type = asciiLower(rt);
  }
  walk(body, 0, view);
  // text/rfc822-headers parts carry an original message's headers as text.
  for (const auto& leaf : view.leaves)
    if (leaf.type == "text/rfc822-headers") {
      std::string headers = leaf.text + "\n\n";
      std::string ignored;
      if (auto inner = readMime(headers, &ignored)) view.originals.push_back(inner->headers);
    }
  return view;
}

}  // namespace safetynet::bounce
