// GMime writes the message: headers with encoded words where needed, the multipart structure, the
// transfer encodings. The words come from messageContent(), shared with the Slack message.
#include "notify/email_message.hpp"

#include <gmime/gmime.h>

#include <memory>
#include <mutex>

#include "notify/messages.hpp"
#include "safetynet/core/hash.hpp"
#include "safetynet/core/json_util.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet {

namespace {

void initGMime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct GObjectDeleter {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <class T>
using GPtr = std::unique_ptr<T, GObjectDeleter>;

std::string html(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

// `code` spans (the commands in a next step) as <code> in HTML.
std::string htmlText(const std::string& s) {
  std::string out, esc = html(s);
  bool open = false;
  for (char c : esc) {
    if (c == '`') {
      out += open ? "</code>" : "<code>";
      open = !open;
    } else {
      out += c;
    }
  }
  if (open) out += "</code>";
  return out;
}

std::string plainValue(const MessageField& f, const std::string& tz) {
  if (f.date) return emailDate(f.value, tz);
  return f.code.empty() ? f.value : f.code + ": " + f.value;
}

std::string htmlValue(const MessageField& f, const std::string& tz) {
  if (f.date) return html(emailDate(f.value, tz));
  return f.code.empty() ? htmlText(f.value) : "<code>" + html(f.code) + "</code>: " + htmlText(f.value);
}

std::string textBody(const MessageContent& c, const std::string& note, const std::string& tz) {
  std::string t;
  if (!note.empty()) t += note + "\n\n";
  t += c.title + "\n\n";
  for (const auto& f : c.fields) t += f.label + ": " + plainValue(f, tz) + "\n";
  for (const auto& f : c.sections) t += "\n" + f.label + ": " + plainValue(f, tz) + "\n";
  if (!c.context.empty()) t += "\n-- \n" + c.context + "\n";
  return t;
}

std::string htmlBody(const MessageContent& c, const std::string& note, const std::string& tz) {
  std::string h = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html(c.title) +
                  "</title></head>\n<body style=\"font-family: sans-serif\">\n";
  if (!note.empty()) h += "<p><em>" + html(note) + "</em></p>\n";
  h += "<h2>" + html(c.title) + "</h2>\n";
  if (!c.fields.empty()) {
    h += "<table cellpadding=\"4\">\n";
    for (const auto& f : c.fields) h += "<tr><th align=\"left\">" + html(f.label) + "</th><td>" + htmlValue(f, tz) + "</td></tr>\n";
    h += "</table>\n";
  }
  for (const auto& f : c.sections) h += "<p><strong>" + html(f.label) + ":</strong> " + htmlValue(f, tz) + "</p>\n";
  if (!c.context.empty()) h += "<p style=\"color: #666; font-size: small\">" + html(c.context) + "</p>\n";
  return h + "</body></html>\n";
}

GMimeObject* textPart(const char* subtype, const std::string& text) {
  // The bytes as they are, labelled UTF-8 (g_mime_text_part_set_text would recode to the
  // "best" charset, Latin-1 for most text, which the HTML's own meta charset would contradict).
  GMimeTextPart* p = g_mime_text_part_new_with_subtype(subtype);
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(text.data(), text.size());
  GMimeDataWrapper* content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content(GMIME_PART(p), content);
  g_object_unref(content);
  g_object_unref(stream);
  g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "charset", "utf-8");
  g_mime_part_set_content_encoding(GMIME_PART(p), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  return GMIME_OBJECT(p);
}

std::string domainOf(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

std::string tagOf(const nlohmann::json& payload) {
  const std::string type = jsonString(payload, "type");
  if (type == "too_late") return "too-late";
  if (type == "email_failed") return "undelivered";
  if (!type.empty()) return type == "sender_paused" ? "sender-paused" : type;
  if (jsonBool(payload, "recheck")) return "recheck";
  return jsonBool(payload, "stopped") ? "hold" : "not-stopped";
}
}  // namespace

std::string emailDate(const std::string& iso, const std::string& time_zone) {
  auto t = parseIso8601(iso);
  if (!t) return iso;
  initGMime();
  GTimeZone* tz = time_zone.empty() ? nullptr : g_time_zone_new_identifier(time_zone.c_str());
  if (!tz) tz = g_time_zone_new_utc();
  GDateTime* utc = g_date_time_new_from_unix_utc(toMillis(*t) / 1000);
  GDateTime* local = g_date_time_to_timezone(utc, tz);
  gchar* s = g_date_time_format(local, "%a %-d %b %Y, %H:%M %Z");
  std::string out = s ? s : iso;
  g_free(s);
  g_date_time_unref(local);
  g_date_time_unref(utc);
  g_time_zone_unref(tz);
  return out;
}

std::string emailMessageId(const std::string& dedupe_key, const nlohmann::json& payload, const std::string& from_address) {
  return sha256Hex(dedupe_key) + "-" + tagOf(payload) + "@safetynet." + domainOf(from_address);
}

std::string buildEmailMessage(const EmailConfig& config, const std::vector<std::string>& to,
                              const std::string& dedupe_key, const nlohmann::json& payload) {
  initGMime();
  const MessageContent content = messageContent(payload);
  const std::string tz = jsonString(jsonObject(payload, "rep"), "time_zone");
  const std::string note = jsonString(payload, "delivery_note");

  GPtr<GMimeMessage> msg(g_mime_message_new(TRUE));
  GMimeObject* obj = GMIME_OBJECT(msg.get());
  if (InternetAddressList* from = internet_address_list_parse(nullptr, config.from.c_str())) {
    internet_address_list_append(g_mime_message_get_from(msg.get()), from);
    g_object_unref(from);
  }
  for (const auto& address : to) g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_TO, nullptr, address.c_str());
  const std::string subject = note.empty() ? content.text : "[fallback] " + content.text;
  g_mime_message_set_subject(msg.get(), subject.c_str(), "utf-8");
  const std::string queued = jsonString(payload, "queued_at");
  const auto when = parseIso8601(queued);
  GDateTime* date = g_date_time_new_from_unix_utc((when ? toMillis(*when) : toMillis(Clock::now())) / 1000);
  g_mime_message_set_date(msg.get(), date);
  g_date_time_unref(date);
  g_mime_message_set_message_id(msg.get(), emailMessageId(dedupe_key, payload, config.from_address).c_str());
  // RFC 3834: no auto-replies to it; Exchange's own switch for the same.
  g_mime_object_set_header(obj, "Auto-Submitted", "auto-generated", nullptr);
  g_mime_object_set_header(obj, "X-Auto-Response-Suppress", "All", nullptr);

  GPtr<GMimeMultipart> alt(g_mime_multipart_new_with_subtype("alternative"));
  // A boundary from the key, not a random one: the retried message is the same bytes.
  const std::string boundary = "=_safetynet_" + sha256Hex("boundary|" + dedupe_key).substr(0, 24);
  g_mime_multipart_set_boundary(alt.get(), boundary.c_str());
  GPtr<GMimeObject> text(textPart("plain", textBody(content, note, tz)));
  GPtr<GMimeObject> page(textPart("html", htmlBody(content, note, tz)));
  g_mime_multipart_add(alt.get(), text.get());
  g_mime_multipart_add(alt.get(), page.get());
  g_mime_message_set_mime_part(msg.get(), GMIME_OBJECT(alt.get()));

  gchar* raw = g_mime_object_to_string(obj, nullptr);
  std::string out = raw ? raw : "";
  g_free(raw);
  return out;
}

}  // namespace safetynet
