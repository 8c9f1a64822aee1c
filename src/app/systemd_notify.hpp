#pragma once
#include <chrono>
#include <optional>
#include <string>

namespace safetynet::systemd {

// sd_notify(3) wrappers: harmless no-ops when not run by systemd (no $NOTIFY_SOCKET).
void ready();
void status(const std::string& text);
void stopping();
void reloading();
void watchdog();
// Half the WatchdogSec interval, if systemd asked for keep-alives.
std::optional<std::chrono::microseconds> watchdogInterval();

}  // namespace safetynet::systemd
