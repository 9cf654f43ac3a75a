#include "daemon/capture/rule_watcher.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/log.h"

namespace gspy {

absl::StatusOr<std::unique_ptr<RuleWatcher>> RuleWatcher::Create(
    const CaptureOptions& options, const ProcessTable* processes,
    CaptureEvidence* evidence, CaptureStore* store, const Redactor* redactor) {
  if (options.interval <= absl::ZeroDuration() ||
      options.profile_duration < absl::Seconds(1) ||
      options.max_in_flight < 1) {
    return absl::InvalidArgumentError(
        "--capture-interval must be positive, --capture-duration at least "
        "1s and --capture-max-in-flight at least 1");
  }
  std::vector<Rule> rules;
  for (const std::string& text : options.rules) {
    absl::StatusOr<CaptureRule> rule = ParseCaptureRule(text);
    if (!rule.ok()) return rule.status();
    absl::StatusOr<TargetSelector> selector =
        TargetSelector::Parse(rule->selector);
    if (!selector.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "capture rule \"", text, "\": ", selector.status().message()));
    }
    rules.push_back({*std::move(rule), *std::move(selector)});
  }
  return std::unique_ptr<RuleWatcher>(new RuleWatcher(
      options, std::move(rules), processes, evidence, store, redactor));
}

RuleWatcher::RuleWatcher(CaptureOptions options, std::vector<Rule> rules,
                         const ProcessTable* processes,
                         CaptureEvidence* evidence, CaptureStore* store,
                         const Redactor* redactor)
    : options_(std::move(options)),
      rules_(std::move(rules)),
      processes_(processes),
      evidence_(evidence),
      store_(store),
      redactor_(redactor),
      cooldowns_(options_.cooldown),
      counters_(rules_.size()) {
  std::vector<std::string> texts;
  for (const Rule& r : rules_) texts.push_back(r.rule.text);
  cooldowns_.Restore(store_->List(), texts);
}

RuleWatcher::~RuleWatcher() { Stop(); }

void RuleWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void RuleWatcher::Stop() {
  if (thread_.joinable()) {
    stop_.Notify();
    thread_.join();
  }
  for (InFlight& f : in_flight_) f.thread.join();
  in_flight_.clear();
}

void RuleWatcher::Run() {
  while (!stop_.WaitForNotificationWithTimeout(options_.interval)) {
    LookOnce();
    ReapFinished();
  }
}

void RuleWatcher::ReapFinished() {
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = in_flight_.erase(it);
    } else {
      ++it;
    }
  }
}

void RuleWatcher::LookOnce() {
  // Which rules watch which processes now.
  std::map<int, std::vector<size_t>> rules_of;
  std::map<int, GoProcess> listed;
  for (size_t i = 0; i < rules_.size(); ++i) {
    absl::StatusOr<std::vector<GoProcess>> procs =
        rules_[i].selector.Resolve(*processes_, "watch");
    if (!procs.ok()) continue;  // none selected now
    for (GoProcess& p : *procs) {
      rules_of[p.pid].push_back(i);
      listed.emplace(p.pid, std::move(p));
    }
  }
  // Forget processes no rule selects any more (or that exited, the pid
  // perhaps reused since: another start time).
  for (auto it = watched_.begin(); it != watched_.end();) {
    auto l = listed.find(it->first);
    const bool same =
        l != listed.end() &&
        l->second.exe_inode == it->second.readings->process().exe_inode &&
        ProcessStartTicks(it->first).value_or(0) == it->second.start_ticks;
    it = same ? std::next(it) : watched_.erase(it);
  }
  for (auto& [pid, rule_indexes] : rules_of) {
    Watched& w = watched_[pid];
    if (w.readings == nullptr) {
      w.readings = std::make_unique<ProcessReadings>(processes_, listed[pid]);
      w.start_ticks = ProcessStartTicks(pid).value_or(0);
    }
    ProcessReadings* reader = w.readings.get();
    bool needed[5] = {};
    for (size_t i : rule_indexes) {
      needed[static_cast<int>(rules_[i].rule.metric)] = true;
    }
    const Readings r = reader->Look(needed);
    for (size_t i : rule_indexes) {
      const CaptureRule& rule = rules_[i].rule;
      const absl::StatusOr<double>& value = r.of(rule.metric);
      bool fire = false;
      {
        absl::MutexLock lock(&mu_);
        RuleCounters& c = counters_[i];
        if (!value.ok()) {
          // A baseline look is not an error; a process gone meanwhile is
          // not either.
          if (!absl::IsUnavailable(value.status()) &&
              !absl::IsNotFound(value.status())) {
            ++c.read_errors;
            GSPY_LOG(DEBUG) << "capture rule " << rule.text << ": pid " << pid
                            << ": " << value.status().message();
          }
          continue;
        }
        ++c.evaluations;
        if (!(*value > rule.threshold)) continue;
        ++c.held;
        if (cooldowns_.Within(rule.text, pid, w.start_ticks, r.at)) {
          ++c.cooldown_skips;
          continue;
        }
        fire = true;
      }
      if (fire) {
        cooldowns_.Fired(rule.text, pid, w.start_ticks, r.at);
        Fire(i, reader->process(), w.start_ticks, *value, reader->BooksText());
      }
    }
  }
}

void RuleWatcher::Fire(size_t rule, const GoProcess& process,
                       uint64_t start_ticks, double value,
                       std::string books_text) {
  ReapFinished();
  const CaptureRule& r = rules_[rule].rule;
  if (static_cast<int>(in_flight_.size()) >= options_.max_in_flight) {
    absl::MutexLock lock(&mu_);
    ++counters_[rule].dropped;
    GSPY_LOG(WARNING) << "capture rule " << r.text << " held for pid "
                      << process.pid << " but " << in_flight_.size()
                      << " captures are under way: not captured";
    return;
  }
  const absl::Time now = absl::Now();
  gspy::v1::CaptureInfo info;
  info.set_id(CaptureId(now, CaptureMetricName(r.metric), process.pid));
  info.set_unix_nanos(absl::ToUnixNanos(now));
  info.set_rule(r.text);
  info.set_pid(process.pid);
  info.set_process_start_ticks(start_ticks);
  info.set_measured(absl::StrCat(CaptureMetricName(r.metric), "=",
                                 FormatCaptureValue(r.metric, value)));
  info.set_value(value);
  // Where it ran, through the operator's redaction like every exit.
  LabelList where = {{"exe", process.exe_path}};
  for (const auto& [k, v] : process.metadata.labels) {
    if (k == "namespace" || k == "pod") where.emplace_back(k, v);
  }
  redactor_->RedactLabelPairs(&where);
  for (const auto& [k, v] : where) {
    if (k == "exe") info.set_exe(v);
    if (k == "namespace") info.set_namespace_(v);
    if (k == "pod") info.set_pod(v);
  }
  GSPY_LOG(INFO) << "capture rule " << r.text << " held for pid " << process.pid
                 << " (" << info.measured() << "): capturing " << info.id();
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread t([this, rule, info = std::move(info), process,
                 books = std::move(books_text), done]() mutable {
    Capture(rule, std::move(info), process, std::move(books));
    done->store(true);
  });
  in_flight_.push_back({std::move(t), std::move(done)});
}

void RuleWatcher::Capture(size_t rule, gspy::v1::CaptureInfo info,
                          const GoProcess& process, std::string books_text) {
  const int pid = process.pid;
  std::vector<CaptureFileData> files;
  files.push_back({"books.txt", std::move(books_text)});
  // The dump first: it is the moment's evidence. Then both profiles of the
  // next seconds, side by side.
  absl::StatusOr<std::string> dump = evidence_->GoroutineDump(pid);
  absl::StatusOr<std::string> wall = absl::UnknownError("not run");
  std::thread wall_thread([&] {
    wall = evidence_->Profile(pid, gspy::v1::PROFILE_TYPE_WALL,
                              options_.profile_duration);
  });
  absl::StatusOr<std::string> cpu = evidence_->Profile(
      pid, gspy::v1::PROFILE_TYPE_CPU, options_.profile_duration);
  wall_thread.join();
  int got = 0;
  for (auto& [name, data] :
       {std::pair{"goroutines.pb.gz", &dump}, std::pair{"cpu.pb.gz", &cpu},
        std::pair{"wall.pb.gz", &wall}}) {
    if (data->ok()) {
      files.push_back({name, *std::move(*data)});
      ++got;
    } else {
      info.add_warnings(
          absl::StrCat(name, " not captured: ", data->status().message()));
    }
  }
  absl::StatusOr<std::vector<std::string>> evicted =
      got == 0 ? absl::StatusOr<std::vector<std::string>>(
                     absl::UnavailableError("no evidence could be read"))
               : store_->Add(&info, files);
  if (evicted.ok() && on_taken_) on_taken_(process, info, files);
  absl::MutexLock lock(&mu_);
  if (!evicted.ok()) {
    ++counters_[rule].failed;
    GSPY_LOG(WARNING) << "capture " << info.id()
                      << " failed: " << evicted.status().message();
    return;
  }
  ++counters_[rule].taken;
  for (const std::string& text : *evicted) {
    for (size_t i = 0; i < rules_.size(); ++i) {
      if (rules_[i].rule.text == text) ++counters_[i].evicted;
    }
  }
}

std::vector<RuleCounters> RuleWatcher::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

void RuleWatcher::Collect(MetricFamilies* out) const {
  MetricFamily captures(
      "gspy_captures_total", MetricType::kCounter,
      "Captures by rule and result: taken (stored), failed (no evidence, or "
      "not stored), dropped (too many captures under way), evicted (taken, "
      "then removed by --capture-max-count or --capture-max-bytes).");
  MetricFamily evaluations(
      "gspy_capture_rule_evaluations_total", MetricType::kCounter,
      "Looks of a capture rule at a process that read its metric.");
  MetricFamily held("gspy_capture_rule_held_total", MetricType::kCounter,
                    "Looks at which the rule held (captures, and the looks "
                    "within the cooldown).");
  MetricFamily cooldown(
      "gspy_capture_rule_cooldown_skips_total", MetricType::kCounter,
      "Looks at which the rule held within its --capture-cooldown for the "
      "process: no capture.");
  MetricFamily errors("gspy_capture_rule_read_errors_total",
                      MetricType::kCounter,
                      "Looks that could not read the rule's metric of a "
                      "process still running.");
  const std::vector<RuleCounters> counters = this->counters();
  for (size_t i = 0; i < rules_.size(); ++i) {
    const RuleCounters& c = counters[i];
    const MetricLabels rule = {
        {"rule", rules_[i].rule.text},
        {"metric", CaptureMetricName(rules_[i].rule.metric)}};
    auto with_result = [&](const char* result) {
      MetricLabels l = rule;
      l.emplace_back("result", result);
      return l;
    };
    captures.Add(with_result("taken"), static_cast<double>(c.taken));
    captures.Add(with_result("failed"), static_cast<double>(c.failed));
    captures.Add(with_result("dropped"), static_cast<double>(c.dropped));
    captures.Add(with_result("evicted"), static_cast<double>(c.evicted));
    evaluations.Add(rule, static_cast<double>(c.evaluations));
    held.Add(rule, static_cast<double>(c.held));
    cooldown.Add(rule, static_cast<double>(c.cooldown_skips));
    errors.Add(rule, static_cast<double>(c.read_errors));
  }
  out->push_back(std::move(captures));
  out->push_back(std::move(evaluations));
  out->push_back(std::move(held));
  out->push_back(std::move(cooldown));
  out->push_back(std::move(errors));
  out->push_back(SingleSample("gspy_capture_store_captures", MetricType::kGauge,
                              "Captures in the store (--capture-dir).",
                              static_cast<double>(store_->count())));
  out->push_back(SingleSample("gspy_capture_store_bytes", MetricType::kGauge,
                              "Bytes of the captures in the store.",
                              static_cast<double>(store_->bytes())));
}

}  // namespace gspy
