// murmur report DIR: a run's records merged into one table and two plots.
//
// Reads DIR/metrics.jsonl (the monitor's averaged-model evaluations) and
// every DIR/process-K.jsonl (each process's agents and fault events), prints
// per evaluated round the averaged-model accuracy, consensus distance,
// agents reporting and the fault events since the previous evaluation,
// writes the table to DIR/report.tsv, and plots accuracy and consensus
// distance against round with the partition windows shaded (DIR/report.png,
// matplotlib through /usr/bin/python3). A line that is not JSON is an error
// naming its file and line.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "terminal.hpp"

namespace murmur::app {
namespace {

namespace fs = std::filesystem;

struct row {
  double accuracy = 0, consensus = 0;
  std::int64_t agents = 0;
  std::map<std::string, std::int64_t> events;
};

// Each JSON line of `path`; "" or what is wrong, with file and line.
std::string read_lines(const fs::path& path, const std::function<void(const nlohmann::json&)>& each) {
  std::ifstream in(path);
  if (!in) return "cannot read " + path.string();
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fmt::format("{}:{}: not a JSON object", path.string(), n);
    each(j);
  }
  return "";
}

constexpr const char* plot_script = R"PY(
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
table, windows, out = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [l.rstrip("\n").split("\t") for l in open(table)][1:]
r = [int(x[0]) for x in rows]
acc = [float(x[1]) for x in rows]
cons = [float(x[2]) for x in rows]
fig, (a, b) = plt.subplots(2, 1, sharex=True, figsize=(7, 6))
a.plot(r, acc, marker=".")
a.set_ylabel("averaged-model accuracy")
b.plot(r, cons, marker=".", color="tab:red")
b.set_ylabel("consensus distance")
b.set_xlabel("round")
for l in open(windows):
    lo, hi, what = l.split("\t")
    for ax in (a, b):
        ax.axvspan(int(lo), int(hi), color="grey", alpha=0.25, label=what.strip())
a.grid(alpha=0.3)
b.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(out, dpi=100)
)PY";

int report(const std::string& dir) {
  const fs::path d(dir);
  std::map<std::uint64_t, row> rows;
  std::vector<std::pair<std::int64_t, std::int64_t>> windows;
  if (auto e = read_lines(d / "metrics.jsonl",
                          [&](const nlohmann::json& j) {
                            if (j.value("agent", nlohmann::json()) != "average") return;
                            auto& r = rows[j.value("round", 0ull)];
                            r.accuracy = j.value("test_accuracy", 0.0);
                            r.consensus = j.value("consensus_distance", 0.0);
                            r.agents = j.value("agents", std::int64_t{-1});
                          });
      !e.empty())
    return fail("report: " + e);
  if (rows.empty()) return fail("report: " + (d / "metrics.jsonl").string() + " has no averaged-model evaluation");
  std::set<std::pair<std::int64_t, std::int64_t>> seen_windows;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(d, ec)) {
    const auto name = f.path().filename().string();
    if (!name.starts_with("process-") || !name.ends_with(".jsonl")) continue;
    auto e = read_lines(f.path(), [&](const nlohmann::json& j) {
      if (!j.contains("event")) return;
      const auto what = j.value("event", std::string());
      if (what == "partition") {
        seen_windows.insert({j.value("from", std::int64_t{0}), j.value("to", std::int64_t{0})});
        return;
      }
      // Counted at the first evaluation at or after the event's round.
      auto it = rows.lower_bound(j.value("round", 0ull));
      if (it == rows.end()) it = std::prev(rows.end());
      ++it->second.events[what];
    });
    if (!e.empty()) return fail("report: " + e);
  }
  windows.assign(seen_windows.begin(), seen_windows.end());
  std::ofstream tsv(d / "report.tsv");
  tsv << "round\taccuracy\tconsensus\tagents\tevents\n";
  std::printf("%-7s %-9s %-11s %-7s %s\n", "round", "accuracy", "consensus", "agents", "fault events since the last");
  for (const auto& [round, r] : rows) {
    std::string ev;
    for (const auto& [k, n] : r.events) ev += (ev.empty() ? "" : ", ") + fmt::format("{} {}", k, n);
    std::printf("%-7llu %-9.4f %-11.4g %-7s %s\n", static_cast<unsigned long long>(round), r.accuracy, r.consensus,
                r.agents < 0 ? "-" : std::to_string(r.agents).c_str(), ev.c_str());
    tsv << round << "\t" << r.accuracy << "\t" << r.consensus << "\t" << r.agents << "\t" << ev << "\n";
  }
  tsv.close();
  {
    std::ofstream w(d / "report-windows.tsv");
    for (const auto& [lo, hi] : windows) w << lo << "\t" << hi << "\tpartition\n";
  }
  const auto script = d / "report-plot.py";
  std::ofstream(script) << plot_script;
  const auto cmd = fmt::format("/usr/bin/python3 '{}' '{}' '{}' '{}'", script.string(), (d / "report.tsv").string(),
                               (d / "report-windows.tsv").string(), (d / "report.png").string());
  if (std::system(cmd.c_str()) != 0)
    return fail("report: the plot failed (needs /usr/bin/python3 with matplotlib: python3-matplotlib)");
  std::printf("table: %s, plot: %s\n", (d / "report.tsv").c_str(), (d / "report.png").c_str());
  return 0;
}

}  // namespace

runner add_report_command(CLI::App& cmd) {
  auto dir = std::make_shared<std::string>();
  cmd.add_option("dir", *dir, "a run's output directory (metrics.jsonl, process-K.jsonl)")
      ->required()
      ->check(CLI::ExistingDirectory);
  return [dir] { return report(*dir); };
}

}  // namespace murmur::app
