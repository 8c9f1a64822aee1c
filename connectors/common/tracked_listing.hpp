#pragma once
// Incremental listing for platforms that filter by "updated since" (Outreach's
// filter[updatedAt], Salesloft's updated_at[gte]): a poll every 10 s must cost a request or two
// when nothing changed, not a re-read of every scheduled email.
//  - A full listing (first poll, then every `resync_every`) reads every scheduled email up to
//    now + lookahead + resync_every and keeps it in the store (tracked_emails).
//  - Every other poll reads only what changed since the last poll began, less an overlap (30 s)
//    for the platform's clock and its indexing delay: still scheduled is kept, anything else
//    forgotten. What changed within the overlap is read again (idempotent), so a burst of new
//    emails costs its pages for about 30 s of polls, not for ever.
//  - The emails in the window then come from the store. An email scheduled beyond the full
//    listing's reach is read by a later full listing before it enters the window, since one comes
//    at least every resync_every; one that changes in between comes with the changes.
#include <set>
#include <string>
#include <vector>

#include "safetynet/connector/connector.hpp"
#include "safetynet/core/email.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet {

class TrackedListing {
 public:
  TrackedListing(std::string connector, Store& store, std::chrono::milliseconds resync_every,
                 std::chrono::milliseconds overlap = std::chrono::seconds(30));

  struct Plan {
    bool full = false;
    TimePoint started{};
    TimePoint changed_since{};  // an increment: what changed from here on
    TimePoint reach{};          // a full listing: scheduled up to here
  };
  Plan plan(TimePoint now, std::chrono::milliseconds lookahead) const;

  // What a listing saw. A still-scheduled email is kept (and counted as seen); any other is
  // forgotten. Returns whether it is scheduled and in the window (to hand over at once).
  bool saw(const ScheduledEmail& e, bool still_scheduled, TimeWindow window);
  // What a listing saw without a send time (Outreach's scheduledAt, Salesloft's send_after: null
  // once it is not to send any more): forgotten, as saw(e, false).
  void forget(const std::string& email_id);
  // A newer version read outside a listing (a stop found the email changed): kept as the listing's.
  void replace(const ScheduledEmail& e);
  // The listing went through: a full one forgets the tracked emails it did not see; the next
  // increment starts from this listing's start.
  void finish(const Plan& plan);

  // The tracked emails scheduled in the window, earliest first.
  std::vector<ScheduledEmail> inWindow(TimeWindow window);

 private:
  std::string connector_;
  Store& store_;
  std::chrono::milliseconds resync_every_, overlap_;
  std::set<std::string> seen_;  // ids seen by the running full listing
};

// A streamed listing gathered into one list: each email once (the last word on it), earliest
// first. A stream may hand an email over twice (as changed, then from the store).
Task<std::vector<ScheduledEmail>> collectScheduled(Connector& c, TimeWindow window);

}  // namespace safetynet
