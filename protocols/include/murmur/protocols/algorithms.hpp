#pragma once

// The gossip algorithms (ALGORITHMS.md §1-§8), each built by a factory that
// returns the common `algorithm` interface. Options name the papers' knobs;
// defaults are the papers' (or the code's) values.
//
// What each does with a missing message (ALGORITHMS.md §8.1):
//   dsgd, all_reduce, gradient_tracking, ngm, ccl
//                      renormalise the weights over what arrived (a convex
//                      combination; the network average drifts)
//   push_sum_sgd       plain: the share is lost (wrong average, mass gone);
//                      running sums: the mass stays in flight and arrives
//                      with the next message on that link (exact average)
//   choco              a missing q_j leaves i's aggregate of x̂_j behind for
//                      good (a late message is still applied when it comes);
//                      needs a reliable link — counted in messages_missing
//   gut                the round's copy update of that neighbour is lost for
//                      good (same caveat as CHOCO)
//   relaysum           the neighbour's relay counts as 0 values and count 0;
//                      the gap is filled with the reference state
//   ad_psgd            a lost request: no averaging; a lost reply: only the
//                      passive side averaged (the sum moves by half the gap)

#include <cstdint>
#include <memory>

#include "murmur/common/enum_names.hpp"
#include "murmur/protocols/algorithm.hpp"
#include "murmur/protocols/compressor.hpp"

namespace murmur::protocols {

// The three orders of gradient and gossip steps (ALGORITHMS.md §0.2).
enum class step_order {
  parallel,            // O1: x' = Σ w x_j - η d(x)       (D-PSGD paper)
  adapt_then_combine,  // O2: x' = Σ w (x_j - η d_j)       (QGM, SGP, CHOCO, RelaySum code)
  combine_then_adapt,  // O3: x̃ = x + γ G(x); x' = x̃ - η d(x̃)  (Aketi code)
};
inline constexpr common::enum_name<step_order> step_order_names[] = {
    {step_order::parallel, "parallel"},
    {step_order::adapt_then_combine, "adapt-then-combine"},
    {step_order::combine_then_adapt, "combine-then-adapt"}};
constexpr std::span<const common::enum_name<step_order>> names_of(step_order) { return step_order_names; }

enum class momentum_kind { local, quasi_global };
inline constexpr common::enum_name<momentum_kind> momentum_kind_names[] = {
    {momentum_kind::local, "local"}, {momentum_kind::quasi_global, "quasi-global"}};
constexpr std::span<const common::enum_name<momentum_kind>> names_of(momentum_kind) { return momentum_kind_names; }

struct qgm_options {
  double mu = 0.9;          // EMA factor of the total update
  std::int64_t period = 1;  // L: rounds per buffer update
};

struct dsgd_options {
  step_order order = step_order::adapt_then_combine;
  sgd_options sgd{.momentum = 0.9, .nesterov = true, .weight_decay = 1e-4};
  momentum_kind momentum = momentum_kind::local;
  qgm_options qgm;
  averaging_rate gamma;       // consensus step γ (and its schedule)
  bool accept_stale = false;  // asynchronous: mix the newest message of each peer, whatever its round
  payload_encoding wire = payload_encoding::dense_f32;  // dense_f32, dense_bf16 or dense_f16
  // SlowMo's outer step on rounds of exact averaging (round_plan::exact_average).
  struct slow_momentum {
    double beta = 0.0, alpha = 1.0;
  } slowmo;
};
std::unique_ptr<algorithm> make_dsgd(agent_context context, dsgd_options options);
// Exact averaging over all agents every round (the centralized reference):
// DSGD on the complete graph with weights 1/n, whatever the topology.
std::unique_ptr<algorithm> make_all_reduce(agent_context context, dsgd_options options);

// SGP and its family (ALGORITHMS.md §2, §3, §8.2): push-sum over
// column-stochastic weights, gradient at z = x / w applied to the numerator.
//   SGP              compression none
//   OSGP             overlap = true (go on without waiting, at most
//                    max_staleness rounds in a row without any message)
//   Sparse-Push      a compressor with error feedback and consensus step γ
//   SC-Sparse-Push   + switch_epoch: from that epoch on, uncompressed, γ = 1
//   QGM for push-sum momentum = quasi_global (§3.2, the Low_Precision_DL code)
struct push_sum_options {
  sgd_options sgd{.momentum = 0.9, .nesterov = true, .weight_decay = 1e-4};
  momentum_kind momentum = momentum_kind::local;
  // QGM: measure the model change as Δ(x/w) (true) or as the code's Δx / w
  // (false; equal while w stays 1, wrong on irregular graphs where w moves).
  bool qgm_debiased = true;
  // Apply η w d to the numerator (z moves by η d) instead of the code's η d
  // (z moves by η d / w, which late or lost messages turn into large steps).
  bool scale_step_by_weight = true;
  bool running_sums = false;
  bool overlap = false;
  // OSGP as the SGP code: the model sent before the step, the shares added at
  // the round's end; false: the stepped model sent, shares added on arrival.
  bool overlap_pre_step = true;
  // τ (overlap only): wait at the round's end every round (0), after τ
  // rounds without a message (> 0), never (-1).
  std::int64_t max_staleness = 0;
  compressor_options compression;
  bool error_feedback = true;      // compressed: keep what the compressor drops (off only to show why it is on)
  double gamma = 1.0;              // consensus step (compressed phase)
  std::int64_t switch_epoch = -1;  // SC-Sparse-Push; -1: never
};
std::unique_ptr<algorithm> make_push_sum_sgd(agent_context context, push_sum_options options);

// CHOCO-SGD (§4) on a static graph.
struct choco_options {
  sgd_options sgd{.momentum = 0.9, .nesterov = true, .weight_decay = 1e-4};
  compressor_options compression{.kind = compressor_kind::sign};
  double gamma = 0.5;
  bool consensus_first = false;  // the code order (consensus, then compress) instead of the paper's
};
std::unique_ptr<algorithm> make_choco(agent_context context, choco_options options);

// GUT and QG-GUTm (§6.2): β = 0 → GUT, β = 0.9 → QG-GUTm. REQUIRES agents
// start from identical parameters.
struct gut_options {
  sgd_options sgd{.momentum = 0.0, .nesterov = false, .weight_decay = 0.0};
  double mu = 0.9;
  double gamma = 1.0;  // only γ = 1 is exact in the code
  // G/η and A/η with the previous step's learning rate, as the code's
  // tracker does (models/gut.py keeps self.lr from the last call), or with
  // the current one (they differ only at the first step after an lr change).
  bool previous_lr = true;
};
std::unique_ptr<algorithm> make_gut(agent_context context, gut_options options);

// Gradient tracking (§7.2, the QGM repository's form): [x, y] in one message.
struct gradient_tracking_options {
  sgd_options sgd{.momentum = 0.0, .nesterov = false, .weight_decay = 1e-4};
};
std::unique_ptr<algorithm> make_gradient_tracking(agent_context context, gradient_tracking_options options);

// RelaySum/Model and RelaySum/Grad (§7.1) on an undirected spanning tree.
// REQUIRES identical initial parameters (x_ref = x^0).
struct relaysum_options {
  sgd_options sgd{.momentum = 0.9, .nesterov = true, .weight_decay = 1e-4};
  bool relay_gradients = false;   // RelaySum/Grad
  bool update_reference = false;  // x_ref <- x after each round
  // The paper's double binary trees (entry k over tree k mod 2) instead of
  // the graph's one tree; the graph must be topology::double_binary_tree.
  bool double_binary_trees = false;
};
std::unique_ptr<algorithm> make_relaysum(agent_context context, relaysum_options options);

// AD-PSGD (§7.3): agents with an out-peer this round (the active side of the
// bipartite exponential schedule) average pairwise with it.
struct ad_psgd_options {
  sgd_options sgd{.momentum = 0.9, .nesterov = true, .weight_decay = 1e-4};
  // The SGP code's exchange: average with the in-peer, send to the out-peer
  // (a directed cycle), instead of the paper's pairwise average.
  bool push_pull = false;
};
std::unique_ptr<algorithm> make_ad_psgd(agent_context context, ad_psgd_options options);

// NGM (§6.1): α = 1 NGM, α = 0 NGM_mv (no second exchange). A compressor
// makes CompNGM: every cross-gradient sent and, for symmetry, the
// self-gradient pass through it, with error feedback (the paper: scaled sign).
struct ngm_options {
  sgd_options sgd{.momentum = 0.9, .nesterov = true, .weight_decay = 1e-4};
  momentum_kind momentum = momentum_kind::local;
  qgm_options qgm;
  double alpha = 1.0;
  double gamma = 0.1;
  compressor_options compression;  // none: NGM; sign: CompNGM
  bool error_feedback = true;
  // QGM's buffer: updated before the step from the previous mixed point with
  // the previous lr, as the NGC code does (optimizers/ngc.py), or after the
  // step from the pre-gossip point, as DSGD's QGM (the epfml code) does.
  bool qgm_before_step = true;
  // CompNGM: the combine uses the compressed model-variant gradients (what
  // it returns to their owners), as the code does; false: the raw ones.
  bool compressed_locally = true;
};
std::unique_ptr<algorithm> make_ngm(agent_context context, ngm_options options);

// CCL's communicated class-feature exchange (§6.3) around DSGD (O3) with QGM.
// The loss term lives in the runtime: it reads prototypes() and the
// neighbours' models.
struct ccl_options {
  sgd_options sgd{.momentum = 0.9, .nesterov = true, .weight_decay = 1e-4};
  momentum_kind momentum = momentum_kind::quasi_global;
  qgm_options qgm;
  double gamma = 1.0;
  std::int64_t classes = 10;
  std::int64_t features = 64;
  // The CCL code's momentum (undamped heavy ball with the gossip folded in)
  // instead of the epfml EMA form of QGM.
  bool heavy_ball = true;
};
std::unique_ptr<algorithm> make_ccl(agent_context context, ccl_options options);

}  // namespace murmur::protocols
