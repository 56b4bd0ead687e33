//===- SelectKernels.cpp - tvc-gpu-select-kernels -------------------------===//
//
// Renames runtime kernel calls to their CUDA entries (runtime/api/
// tvc_cuda.h) and rejects what the CUDA runtime cannot run yet.
//
//===----------------------------------------------------------------------===//

#include "passes/Gpu/Passes.h"

#include "dialects/tvc/IR/TvcOps.h"
#include "runtime/api/tvc_kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

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
  /// For linear maps: the scalar index of `flags`; -1: none.
  int flagsScalar = -1;
};

/// The runtime's CUDA entries (runtime/api/tvc_cuda.h). Append when the
/// runtime gains one.
constexpr CudaKernel kCudaKernels[] = {
    // Scalars: m, n, k, flags.
    {"tvc_kernel_linear_f32", "tvc_cuda_kernel_linear_f32", -1, 0, 3},
    // The same scalars; 16-bit weights run on tensor cores already (the TF32
    // flag does not apply).
    {"tvc_kernel_linear_bf16w_f32", "tvc_cuda_kernel_linear_bf16w_f32"},
    {"tvc_kernel_linear_f16w_f32", "tvc_cuda_kernel_linear_f16w_f32"},
    // Scalars: batch, q_len, kv_len, kv_capacity, heads, kv_heads,
    // head_dim, mask_kind, ...; every kind, 0-8.
    {"tvc_kernel_attention_f32", "tvc_cuda_kernel_attention_f32", 7, 8},
    // ALISA with its carried state: the same scalars (kind 8).
    {"tvc_kernel_attention_state_f32", "tvc_cuda_kernel_attention_state_f32", 7,
     8},
    // Scalars: m, blocks, block_n, block_k, flags (one batched cuBLAS GEMM;
    // TF32 applies).
    {"tvc_kernel_block_diagonal_f32", "tvc_cuda_kernel_block_diagonal_f32", -1,
     0, 4},
    // Scalars: m, n, k, flags; TF32 applies to its GEMM path (more than 8
    // rows: weights expanded, then cuBLAS).
    {"tvc_kernel_linear_2to4_f32", "tvc_cuda_kernel_linear_2to4_f32", -1, 0, 3},
};

constexpr int64_t kLinearAllowTf32 = TVC_LINEAR_ALLOW_TF32;

/// The entry that runs attention on the host over KV caches in host memory.
constexpr StringRef kHostAttention = "tvc_cuda_kernel_host_attention_f32";

/// Whether `value` is (a view of) a function argument that an offload plan
/// placed where attention runs (`tvc.kv_placement = "host_attention"`).
bool isHostAttentionCache(Value value) {
  while (Operation *op = value.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(op))
      value = view.getViewSource();
    else if (op->getNumOperands() == 1 &&
             isa<MemRefType>(op->getOperand(0).getType()) &&
             op->getName().getStringRef() == "memref.cast")
      value = op->getOperand(0);
    else
      return false;
  }
  auto argument = dyn_cast<BlockArgument>(value);
  if (!argument)
    return false;
  auto function =
      dyn_cast<FunctionOpInterface>(argument.getOwner()->getParentOp());
  if (!function)
    return false;
  auto placement = function.getArgAttrOfType<StringAttr>(
      argument.getArgNumber(), "tvc.kv_placement");
  return placement && placement.getValue() == "host_attention";
}

struct SelectKernelsPass
    : public tvc::impl::TvcGpuSelectKernelsBase<SelectKernelsPass> {
  using TvcGpuSelectKernelsBase::TvcGpuSelectKernelsBase;

  void runOnOperation() override {
    if (precision != "fp32" && precision != "tf32") {
      getOperation().emitError()
          << "tvc-gpu-select-kernels: precision must be fp32 or tf32, got '"
          << precision << "'";
      return signalPassFailure();
    }
    bool failed = false;
    getOperation().walk([&](tvc::KernelCallOp call) {
      const CudaKernel *kernel = llvm::find_if(
          kCudaKernels, [&](const CudaKernel &k) {
            return k.cpuName == call.getCallee();
          });
      if (kernel == std::end(kCudaKernels)) {
        if (call.getCallee() == kHostAttention ||
            llvm::any_of(kCudaKernels, [&](const CudaKernel &k) {
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
              << ", which the CUDA attention kernel does not implement "
                 "(kinds 0-"
              << kernel->maxMaskKind
              << ": full, causal, sliding window, window + global, "
                 "block-local, top-k, block top-k, vertical-slash, ALISA)";
          failed = true;
          return;
        }
      }
      // Attention over caches the plan keeps in host memory runs there.
      if (kernel->maskKindScalar >= 0 && call.getInputs().size() >= 3) {
        bool hostK = isHostAttentionCache(call.getInputs()[1]);
        bool hostV = isHostAttentionCache(call.getInputs()[2]);
        if (hostK || hostV) {
          if (hostK != hostV ||
              call.getCallee() != "tvc_kernel_attention_f32") {
            call.emitOpError()
                << "reads KV caches placed host_attention, which only "
                   "tvc_kernel_attention_f32 with both caches there runs on "
                   "the host";
            failed = true;
            return;
          }
          call.setCalleeAttr(StringAttr::get(&getContext(), kHostAttention));
          return;
        }
      }
      if (kernel->flagsScalar >= 0 && precision == "tf32") {
        OpOperand &flags =
            call.getScalarsMutable()[kernel->flagsScalar];
        OpBuilder builder(call);
        Value allow = arith::ConstantIntOp::create(builder, call.getLoc(),
                                                   builder.getI64Type(),
                                                   kLinearAllowTf32);
        flags.set(arith::OrIOp::create(builder, call.getLoc(), flags.get(),
                                       allow));
      }
      call.setCalleeAttr(StringAttr::get(&getContext(), kernel->cudaName));
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
