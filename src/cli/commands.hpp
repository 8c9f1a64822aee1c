#pragma once
#include <string>
#include <vector>

#include "safetynet/config/config.hpp"
#include "safetynet/store/store.hpp"

namespace safetynet::cli {
// Parses argv per the command-line contract of notes/product.md and runs the command.
// Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
int main(int argc, char** argv);
// `bounce classify`: prints each file's records; 1 if a file could not be read.
int bounceClassifyCommand(bool json, const std::vector<std::string>& files);
// `bounce import`: classifies and records each file in the bounce history.
int bounceImportCommand(const Config& config, const std::vector<std::string>& files);
// `suppressions [--json]` lists what is suppressed or held; `suppressions clear X` lifts it.
int suppressionsCommand(const Config& config, bool json, const std::string& clear);
// `senders [--json]` lists sending mailboxes paused (or once paused); `senders release M` resumes one.
int sendersCommand(const Config& config, bool json, const std::string& release);
// `overrides [--json]` lists the active overrides; `overrides add ADDRESS [--for D] [--reason T]`
// releases an address; `overrides remove ADDRESS` ends a release early.
struct OverridesArgs {
  bool json = false, add = false, remove = false;
  std::string address, duration, reason;
};
int overridesCommand(const Config& config, const OverridesArgs& args);
// `failsafe [--json]` (status) and `failsafe resume` (hold risky emails again).
int failsafeCommand(const Config& config, bool json, bool resume);

// The daemon's store, for the admin commands; null (after saying why) if it cannot be opened.
StorePtr openStateStore(const Config& config, const char* command);
// Who did it, for the audit log.
std::string admin();
}  // namespace safetynet::cli
