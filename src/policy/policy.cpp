#include "safetynet/policy/policy.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "safetynet/default_policy.hpp"

namespace safetynet {

const char* kDefaultPolicyYamlText() { return kDefaultPolicyYaml; }

std::shared_ptr<const Policy> Policy::build(const std::string& yaml, const PolicyConfig& admin,
                                            std::vector<std::string>* errors) {
  auto p = std::make_shared<Policy>();
  auto err = [&](const std::string& m) {
    if (errors) errors->push_back(m);
  };
  try {
    YAML::Node root = YAML::Load(yaml);
    p->threshold_ = root["threshold"].as<double>(1.0);
    // Named nodes, not temporaries: yaml-cpp iterators point into the node they came from.
    const YAML::Node reasons = root["reasons"], signals = root["signals"];
    for (auto it = reasons.begin(); it != reasons.end(); ++it) {
      ReasonDef r;
      r.code = it->first.as<std::string>();
      r.description = it->second["description"].as<std::string>("");
      r.next_step = it->second["next_step"].as<std::string>("");
      p->reasons_.push_back(r);
    }
    for (auto it = signals.begin(); it != signals.end(); ++it) {
      SignalDef d;
      const YAML::Node n = it->second;  // a copy: it-> yields a temporary proxy
      d.reason = n["reason"].as<std::string>("");
      d.weight = n["weight"].as<double>(0.0);
      d.description = n["description"].as<std::string>("");
      d.internal = n["internal"].as<bool>(false);
      d.force_allow = n["force"].as<std::string>("") == "allow";
      if (!d.reason.empty() && !p->reason(d.reason)) err("signal " + it->first.as<std::string>() + ": unknown reason " + d.reason);
      p->signals_[it->first.as<std::string>()] = d;
    }
  } catch (const YAML::Exception& e) {
    err(std::string("policy: ") + e.what());
    return nullptr;
  }
  if (admin.threshold) p->threshold_ = *admin.threshold;
  for (const auto& [name, o] : admin.signals) {
    auto it = p->signals_.find(name);
    if (it == p->signals_.end()) {
      err("policy.signals." + name + ": no such signal");
      continue;
    }
    if (o.reason) it->second.reason = *o.reason;
    if (o.weight) it->second.weight = *o.weight;
  }
  p->revert_ = admin.revert;
  p->internal_reverts_ = admin.on_internal_error == "revert";
  return p;
}

std::shared_ptr<const Policy> Policy::shipped(const PolicyConfig& admin) {
  return build(kDefaultPolicyYaml, admin, nullptr);
}

const ReasonDef* Policy::reason(const std::string& code) const {
  for (const auto& r : reasons_)
    if (r.code == code) return &r;
  return nullptr;
}

const SignalDef* Policy::signal(const std::string& name) const {
  auto it = signals_.find(name);
  return it == signals_.end() ? nullptr : &it->second;
}

Verdict Policy::decide(std::vector<Signal> signals) const {
  Verdict v;
  std::map<std::string, double> score;
  for (auto& s : signals) {
    const SignalDef* def = signal(s.name);
    s.weight = def ? def->weight : 0.0;
    if (def && def->internal && !internal_reverts_) s.weight = 0.0;
    if (def && def->force_allow) v.forced = true;
    if (def && !def->reason.empty()) score[def->reason] += s.weight;
  }
  v.signals = std::move(signals);
  if (v.forced) {
    for (const auto& s : v.signals)
      if (const SignalDef* d = signal(s.name); d && d->force_allow) v.evidence = s.evidence;
    return v;
  }
  for (const auto& r : reasons_) {  // severity order: the first to reach the top score wins
    auto it = score.find(r.code);
    if (it == score.end() || it->second < threshold_) continue;
    if (v.reason.empty() || it->second > v.score) {
      v.reason = r.code;
      v.score = it->second;
    }
  }
  if (v.reason.empty()) return v;
  for (const auto& s : v.signals) {
    const SignalDef* d = signal(s.name);
    if (d && d->reason == v.reason && s.weight != 0.0) v.evidence += (v.evidence.empty() ? "" : "; ") + s.evidence;
  }
  v.next_step = reason(v.reason)->next_step;
  v.revert = std::find(revert_.begin(), revert_.end(), v.reason) != revert_.end();
  return v;
}

}  // namespace safetynet
