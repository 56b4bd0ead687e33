//===- SelectKernels.cpp - tvc-gpu-select-kernels -------------------------===//
//
// Renames runtime kernel calls to their CUDA entries (runtime/api/
// tvc_cuda.h) and rejects what the CUDA runtime cannot run yet.
//
//===----------------------------------------------------------------------===//

#include "passes/Gpu/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCGPUSELECTKERNELS
#include "passes/Gpu/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;

namespace {

/// A CPU kernel entry and what its CUDA entry implements.
struct CudaKernel {
  StringRef cpuName;
  StringRef cudaName;
  /// For attention: the scalar index of `mask_kind` and the largest kind
  /// the CUDA kernel implements (kinds 0..maxMaskKind); -1: no mask.
  int maskKindScalar = -1;
  int64_t maxMaskKind = 0;
};

/// The runtime's CUDA entries (runtime/api/tvc_cuda.h). Append when the
/// runtime gains one.
constexpr CudaKernel kCudaKernels[] = {
    {"tvc_kernel_linear_f32", "tvc_cuda_kernel_linear_f32"},
    // Scalars: batch, q_len, kv_len, kv_capacity, heads, kv_heads,
    // head_dim, mask_kind, ...; kinds 0-4 (full, causal, sliding window,
    // window + global, block-local).
    {"tvc_kernel_attention_f32", "tvc_cuda_kernel_attention_f32", 7, 4},
};

struct SelectKernelsPass
    : public tvc::impl::TvcGpuSelectKernelsBase<SelectKernelsPass> {
  void runOnOperation() override {
    bool failed = false;
    getOperation().walk([&](tvc::KernelCallOp call) {
      const CudaKernel *kernel = llvm::find_if(
          kCudaKernels, [&](const CudaKernel &k) {
            return k.cpuName == call.getCallee();
          });
      if (kernel == std::end(kCudaKernels)) {
        if (llvm::any_of(kCudaKernels, [&](const CudaKernel &k) {
              return k.cudaName == call.getCallee();
            }))
          return; // Already selected.
        call.emitOpError() << "calls '" << call.getCallee()
                           << "', which has no CUDA version in the tvc "
                              "runtime yet (CUDA kernels: "
                           << llvm::join(llvm::map_range(kCudaKernels,
                                                         [](const CudaKernel &k) {
                                                           return k.cpuName;
                                                         }),
                                         ", ")
                           << ")";
        failed = true;
        return;
      }
      if (kernel->maskKindScalar >= 0) {
        auto scalars = call.getScalars();
        APInt kind;
        if (static_cast<int>(scalars.size()) <= kernel->maskKindScalar ||
            !matchPattern(scalars[kernel->maskKindScalar],
                          m_ConstantInt(&kind))) {
          call.emitOpError() << "needs a constant mask kind for the CUDA "
                                "attention kernel";
          failed = true;
          return;
        }
        if (kind.getSExtValue() < 0 ||
            kind.getSExtValue() > kernel->maxMaskKind) {
          call.emitOpError()
              << "uses attention mask kind " << kind.getSExtValue()
              << ", which the CUDA attention kernel does not implement yet "
                 "(kinds 0-"
              << kernel->maxMaskKind
              << ": full, causal, sliding window, window + global, "
                 "block-local)";
          failed = true;
          return;
        }
      }
      call.setCalleeAttr(StringAttr::get(&getContext(), kernel->cudaName));
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
