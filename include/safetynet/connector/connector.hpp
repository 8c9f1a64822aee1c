#pragma once
// A sales-engagement platform: list what is scheduled, stop a send, say who the rep is.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "safetynet/connector/profile.hpp"
#include "safetynet/core/email.hpp"
#include "safetynet/core/task.hpp"

namespace safetynet {

struct RevertResult {
  bool confirmed = false;  // a re-read showed the email will no longer be sent
  std::string detail;      // what was done and seen, for the audit log and the rep
  // The read before the stop showed another version than the one decided (sameVersion: the rep
  // changed its recipients or send time since): nothing was written. `current` is that version,
  // to be decided anew. A stop that cannot tell (the email unreadable as a whole) goes ahead.
  bool changed = false;
  std::optional<ScheduledEmail> current;

  // The read showed `current`, another version than the one decided: nothing written.
  static RevertResult changedTo(ScheduledEmail current, std::string detail) {
    RevertResult r;
    r.changed = true;
    r.detail = std::move(detail);
    r.current = std::move(current);
    return r;
  }
};

// A platform said no or could not be reached. Carries no credentials.
struct ConnectorError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What a platform says was sent and bounced (sender protection and bounce history).
struct SentEmail {
  std::string key;      // unique per platform email ("outreach-main|mailing|123")
  std::string mailbox;  // the sending address
  TimePoint at{};
};
struct PlatformBounce {
  std::string key;
  std::string address;     // the recipient whose email bounced
  std::string mailbox;     // the sending address
  std::string diagnostic;  // the platform's words (Outreach errorReason...)
  TimePoint at{};
};
struct Activity {
  std::vector<SentEmail> sent;
  std::vector<PlatformBounce> bounced;
  bool supported = true;  // false: this connector does not report activity yet
};

// Putting a stopped email back on schedule (a release).
struct RescheduleResult {
  bool supported = false;  // false: the platform's API cannot; `detail` says what to do there
  bool done = false;       // a re-read showed it scheduled again
  std::string detail;      // for the audit log and the message
};

struct EmailPeople {
  Rep rep;
  std::string contact_name;
};

class Connector {
 public:
  virtual ~Connector() = default;
  virtual const std::string& name() const = 0;
  virtual std::string_view type() const = 0;
  // Emails scheduled in [window.from, window.to], earliest first.
  virtual Task<std::vector<ScheduledEmail>> listScheduled(TimeWindow window) = 0;
  // The same listing, handed over page by page as it is read, so that the earliest emails are
  // checked while later pages are still on their way. By default: the whole listing as one page.
  using PageSink = std::function<Task<void>(std::vector<ScheduledEmail>)>;
  virtual Task<void> streamScheduled(TimeWindow window, PageSink sink) {
    co_await sink(co_await listScheduled(window));
  }
  // Stops the send and re-reads to confirm. Safe to call again for the same email (idempotent).
  virtual Task<RevertResult> revert(const ScheduledEmail& email) = 0;
  // Who is involved, for the notification: the rep (owner) and the contact's name. Never throws:
  // falls back to what the email itself says.
  virtual Task<EmailPeople> people(const ScheduledEmail& email) = 0;
  // Fills Recipient::profile where the platform knows the person, in as few requests as the
  // platform allows (batched, cached). Never throws: a recipient without a profile is checked
  // on the rest.
  virtual Task<void> loadProfiles(std::vector<ScheduledEmail>& emails) = 0;
  // Emails sent and bounced since `since` (what changed state since then).
  virtual Task<Activity> recentActivity(TimePoint since) = 0;
  // Puts an email this connector stopped back on schedule, to be sent at `at`, and re-reads it to
  // confirm (a release). Safe to call again. By default the platform cannot: the rep is told to
  // re-schedule it there.
  virtual Task<RescheduleResult> reschedule(const ScheduledEmail& email, TimePoint at);
};

using ConnectorPtr = std::shared_ptr<Connector>;

}  // namespace safetynet
