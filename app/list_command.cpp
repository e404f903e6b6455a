// murmur list algorithms|topologies|models|norms|compressors: what exists,
// read from the same declarations the run configuration uses.

#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "murmur/common/enum_names.hpp"
#include "murmur/nn/model.hpp"
#include "murmur/protocols/compressor.hpp"
#include "murmur/protocols/registry.hpp"
#include "murmur/topology/catalogue.hpp"
#include "settings_schema.hpp"

namespace murmur::app {
namespace {

void list_algorithms() {
  for (const auto& e : protocols::algorithms()) {
    std::printf("%s\n  %s\n", e.name.c_str(), e.summary.c_str());
    std::string needs;
    if (e.graph.undirected) needs += " an undirected graph;";
    if (e.graph.spanning_tree)
      needs += e.graph.trees_kind.empty() ? " a spanning tree;"
                                          : " a spanning tree (or topology.kind = \"" + e.graph.trees_kind + "\");";
    if (!e.graph.schedule.empty()) needs += " topology.kind = \"" + e.graph.schedule + "\";";
    if (e.compute.scratch_model) needs += " a second model (neighbours' models on the local batch);";
    if (e.compute.features) needs += " penultimate features (f32);";
    if (!needs.empty()) std::printf("  needs:%s\n", needs.substr(0, needs.size() - 1).c_str());
    if (!e.optimizer.empty()) std::printf("  optimizer defaults: %s\n", to_string(e.optimizer).c_str());
    if (!e.rejoin.empty()) std::printf("  rejoin: %s\n", e.rejoin.c_str());
    for (const auto& o : e.options)
      std::printf("  protocol.%-22s %-22s %s%s\n", o.name.c_str(), value_text(o.default_value).c_str(), o.help.c_str(),
                  o.choices.empty() ? "" : (": " + common::join(o.choices, " | ")).c_str());
  }
}

int list(const std::string& what) {
  if (what == "algorithms") {
    list_algorithms();
  } else if (what == "topologies") {
    for (const auto& k : topology::graph_kinds())
      std::printf("%-24s%s\n", k.c_str(), topology::time_varying(k) ? "time-varying" : "static");
  } else if (what == "models") {
    for (const auto& m : nn::model_names()) std::printf("%s\n", m.c_str());
  } else if (what == "norms") {
    for (const auto& n : common::names_list<nn::norm_kind>()) std::printf("%s\n", n.c_str());
  } else if (what == "compressors") {
    for (const auto& c : common::names_list<protocols::compressor_kind>()) std::printf("%s\n", c.c_str());
  } else {
    return fail("list: unknown '" + what + "' (known: algorithms, topologies, models, norms, compressors)");
  }
  return 0;
}

}  // namespace

runner add_list_command(CLI::App& cmd) {
  auto what = std::make_shared<std::string>();
  cmd.add_option("what", *what, "algorithms | topologies | models | norms | compressors")->required();
  return [what] { return list(*what); };
}

}  // namespace murmur::app
