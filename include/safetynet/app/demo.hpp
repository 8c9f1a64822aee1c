#pragma once
namespace safetynet {
// `safetynet demo`: the real daemon path (config, store, Close connector, pipeline, policy,
// outbox, Slack notifier) against a local sandbox: a fake Close with a dozen scheduled emails, a
// fake Slack, and fixture DNS. No credentials, no internet. Returns the exit code.
int runDemo(bool keep_state);
}  // namespace safetynet
