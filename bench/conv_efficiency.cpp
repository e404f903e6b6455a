// murmur's conv2d layer against the bare oneDNN primitives of the same shape,
// in the same process: GFLOP/s of forward, backward-data and backward-weights.
// The bare primitives get every tensor in the layout they prefer (tag::any),
// already reordered, with a library scratchpad: the ceiling murmur's layer
// (NHWC activations, OIHW weights in the arena, reorders per step) is
// measured against.
//
// Usage: murmur_bench_conv N C O H K STRIDE PAD f32|bf16 THREADS [REPEATS]

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "murmur/common/rng.hpp"
#include "murmur/nn/conv2d.hpp"

using namespace murmur;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

namespace {

double median_seconds(const std::function<void()>& f, int repeats, int inner) {
  for (int i = 0; i < 2; ++i) f();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < inner; ++i) f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / inner);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

dnnl::memory filled(const dnnl::memory::desc& md, dnnl::engine& eng) {
  dnnl::memory m(md, eng);
  auto* p = static_cast<unsigned char*>(m.get_data_handle());
  for (std::size_t i = 0; i < md.get_size(); ++i) p[i] = static_cast<unsigned char>(i * 7 % 61);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 10) {
    std::fprintf(stderr, "usage: %s N C O H K STRIDE PAD f32|bf16 THREADS [REPEATS]\n", argv[0]);
    return 2;
  }
  const long n = std::atol(argv[1]), c = std::atol(argv[2]), o = std::atol(argv[3]), h = std::atol(argv[4]),
             k = std::atol(argv[5]), s = std::atol(argv[6]), pad = std::atol(argv[7]);
  const std::string precision = argv[8];
  const int threads = std::atoi(argv[9]);
  const int repeats = argc > 10 ? std::atoi(argv[10]) : 7;
  if (n < 1 || c < 1 || o < 1 || h < k || k < 1 || s < 1 || pad < 0 || threads < 1 ||
      (precision != "f32" && precision != "bf16")) {
    std::fprintf(stderr, "murmur_bench_conv: bad arguments\n");
    return 2;
  }
  omp_set_num_threads(threads);
  const long ho = (h + 2 * pad - k) / s + 1;
  const double gflop = 2.0 * n * o * ho * ho * c * k * k / 1e9;
  const auto type = precision == "bf16" ? dt::bf16 : dt::f32;
  const int inner = std::max(1, static_cast<int>(2.0 / gflop));

  // murmur's layer.
  nn::parameter_store store;
  nn::compute_context ctx(threads);
  nn::conv2d layer({store, ctx}, "conv",
                   {.in_channels = c, .out_channels = o, .kernel = k, .stride = s, .padding = pad, .bias = false});
  store.finalize();
  common::rng gen(1);
  layer.init(gen);
  nn::tensor src({n, c, h, h}, precision == "bf16" ? nn::dtype::bf16 : nn::dtype::f32, nn::layout::nhwc);
  nn::tensor diff({n, o, ho, ho}, src.type(), nn::layout::nhwc);
  std::fill_n(static_cast<unsigned char*>(src.raw()), src.bytes(), 0x3c);
  std::fill_n(static_cast<unsigned char*>(diff.raw()), diff.bytes(), 0x3c);
  ctx.enter();
  const double ours_fwd = median_seconds([&] { (void)layer.forward(src, nn::mode::train); }, repeats, inner);
  const double ours_bwd = median_seconds([&] { (void)layer.backward(diff); }, repeats, inner);

  // The bare primitives.
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const dnnl::memory::dims strides{s, s}, padding{pad, pad};
  const dnnl::memory::desc src_md({n, c, h, h}, type, tag::any), dst_md({n, o, ho, ho}, type, tag::any),
      w_md({o, c, k, k}, type, tag::any), dw_md({o, c, k, k}, dt::f32, tag::any);
  dnnl::convolution_forward::primitive_desc fwd_pd(
      {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src_md, w_md, dst_md, strides, padding,
       padding},
      eng);
  dnnl::convolution_backward_data::primitive_desc bwd_d_pd(
      {dnnl::algorithm::convolution_direct, src_md, w_md, dst_md, strides, padding, padding}, eng, fwd_pd);
  dnnl::convolution_backward_weights::primitive_desc bwd_w_pd(
      {dnnl::algorithm::convolution_direct, src_md, dw_md, dst_md, strides, padding, padding}, eng, fwd_pd);
  auto m_src = filled(fwd_pd.src_desc(), eng), m_w = filled(fwd_pd.weights_desc(), eng),
       m_dst = filled(fwd_pd.dst_desc(), eng), m_wd = filled(bwd_d_pd.weights_desc(), eng),
       m_dsrc = filled(bwd_d_pd.diff_src_desc(), eng), m_ddst = filled(bwd_d_pd.diff_dst_desc(), eng),
       m_dw = filled(bwd_w_pd.diff_weights_desc(), eng), m_ddst_w = filled(bwd_w_pd.diff_dst_desc(), eng),
       m_src_w = filled(bwd_w_pd.src_desc(), eng);
  dnnl::convolution_forward fwd(fwd_pd);
  dnnl::convolution_backward_data bwd_d(bwd_d_pd);
  dnnl::convolution_backward_weights bwd_w(bwd_w_pd);
  const double bare_fwd = median_seconds(
      [&] {
        fwd.execute(strm, {{DNNL_ARG_SRC, m_src}, {DNNL_ARG_WEIGHTS, m_w}, {DNNL_ARG_DST, m_dst}});
      },
      repeats, inner);
  const double bare_bwd = median_seconds(
      [&] {
        bwd_d.execute(strm, {{DNNL_ARG_DIFF_DST, m_ddst}, {DNNL_ARG_WEIGHTS, m_wd}, {DNNL_ARG_DIFF_SRC, m_dsrc}});
        bwd_w.execute(strm, {{DNNL_ARG_SRC, m_src_w}, {DNNL_ARG_DIFF_DST, m_ddst_w}, {DNNL_ARG_DIFF_WEIGHTS, m_dw}});
      },
      repeats, inner);
  std::printf(
      "{\"shape\": \"N%ld C%ld O%ld H%ld K%ld S%ld\", \"precision\": \"%s\", \"threads\": %d, "
      "\"murmur_forward_gflops\": %.1f, \"bare_forward_gflops\": %.1f, "
      "\"murmur_backward_gflops\": %.1f, \"bare_backward_gflops\": %.1f}\n",
      n, c, o, h, k, s, precision.c_str(), threads, gflop / ours_fwd, gflop / bare_fwd, 2 * gflop / ours_bwd,
      2 * gflop / bare_bwd);
  return 0;
}
