#include "connectors/common/tracked_listing.hpp"

#include <algorithm>
#include <map>

#include "safetynet/core/email_json.hpp"
#include "safetynet/core/logging.hpp"
#include "safetynet/core/time_format.hpp"

namespace safetynet {

namespace {
std::optional<TimePoint> stateTime(Store& store, const std::string& connector, const std::string& key) {
  auto v = store.connectorState(connector, key);
  if (!v) return std::nullopt;
  try {
    return fromMillis(std::stoll(*v));
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable: as if never done
  }
}
}  // namespace

TrackedListing::TrackedListing(std::string connector, Store& store, std::chrono::milliseconds resync_every,
                               std::chrono::milliseconds overlap)
    : connector_(std::move(connector)), store_(store), resync_every_(resync_every), overlap_(overlap) {}

TrackedListing::Plan TrackedListing::plan(TimePoint now, std::chrono::milliseconds lookahead) const {
  Plan p;
  p.started = now;
  const auto lastFull = stateTime(store_, connector_, "listing.full_at");
  const auto since = stateTime(store_, connector_, "listing.since");
  // A full listing is also due when the last one's reach no longer covers the window.
  p.full = !lastFull || !since || now - *lastFull >= resync_every_;
  p.reach = now + lookahead + resync_every_;
  if (since) p.changed_since = *since - overlap_;
  return p;
}

bool TrackedListing::saw(const ScheduledEmail& e, bool stillScheduled, TimeWindow window) {
  if (!stillScheduled) {
    forget(e.id);
    return false;
  }
  seen_.insert(e.id);
  store_.upsertTracked(TrackedEmail{connector_, e.id, e.scheduled_at, toJson(e)});
  return window.contains(e.scheduled_at);
}

void TrackedListing::forget(const std::string& email_id) { store_.removeTracked(connector_, email_id); }

void TrackedListing::replace(const ScheduledEmail& e) {
  store_.upsertTracked(TrackedEmail{connector_, e.id, e.scheduled_at, toJson(e)});
}

void TrackedListing::finish(const Plan& p) {
  if (p.full) {
    // Scheduled emails the full listing did not return are no longer scheduled (sent, deleted,
    // moved beyond its reach).
    int forgotten = 0;
    for (const auto& t : store_.trackedBetween(connector_, TimePoint{}, TimePoint::max()))
      if (!seen_.count(t.email_id)) {
        store_.removeTracked(connector_, t.email_id);
        ++forgotten;
      }
    if (forgotten) logger(connector_)->debug("full listing: {} tracked emails no longer scheduled", forgotten);
    store_.putConnectorState(connector_, "listing.full_at", std::to_string(toMillis(p.started)));
  }
  seen_.clear();
  store_.putConnectorState(connector_, "listing.since", std::to_string(toMillis(p.started)));
  store_.forgetTrackedBefore(connector_, p.started - std::chrono::hours(24));
}

std::vector<ScheduledEmail> TrackedListing::inWindow(TimeWindow window) {
  std::vector<ScheduledEmail> out;
  for (const auto& t : store_.trackedBetween(connector_, window.from, window.to)) {
    std::string failure;
    try {
      out.push_back(emailFromJson(t.data));
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) logger(connector_)->warn("tracked email {} unreadable, skipped: {}", t.email_id, failure);
  }
  return out;
}

Task<std::vector<ScheduledEmail>> collectScheduled(Connector& c, TimeWindow window) {
  std::map<std::string, ScheduledEmail> byId;
  co_await c.streamScheduled(window, [&byId](std::vector<ScheduledEmail> page) -> Task<void> {
    for (auto& e : page) byId[e.id] = std::move(e);
    co_return;
  });
  std::vector<ScheduledEmail> out;
  for (auto& [id, e] : byId) out.push_back(std::move(e));
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.scheduled_at < b.scheduled_at; });
  co_return out;
}

}  // namespace safetynet
