//===- CompileModel.h - Ahead-of-time compilation ---------------*- C++ -*-===//
//
// What tvc-compile drives: derive the KV-cached entry points, lower with the
// target's pipeline (CPU, or CUDA: host code plus embedded kernels), pack
// the weights blob, add the artifact's fixed-name entry
// wrappers (`tvc_model_forward/prefill/decode(void **args)`) and its
// manifest (`tvc_model_manifest`), translate to LLVM IR and emit an object.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_COMPILEMODEL_H
#define TVC_LIB_DRIVER_COMPILEMODEL_H

#include "lib/Target/WeightsLayout.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace mlir::tvc {

enum class EmitKind { Mlir, Llvm, Object, Ptx };

enum class TargetKind { Cpu, Cuda };

struct CompileOptions {
  TargetKind target = TargetKind::Cpu;
  /// CUDA: the GPU architecture of the kernels (sm_80, sm_90, ...).
  std::string cudaChip = "sm_90";
  /// CUDA: the linear maps' GEMM math, fp32 or tf32.
  std::string cudaPrecision = "fp32";
  /// The element type of the weight matrices (tvc-convert-precision's
  /// `weights`: keep, f32, bf16 or f16); activations are always f32.
  std::string weightPrecision = "keep";
  /// LLVM CPU name; empty or "native" for the host.
  std::string cpu;
  /// Directory relative weight files resolve against.
  std::string weightsDir;
  /// KV cache capacity; 0 lets tvc-derive-decode choose.
  int64_t maxSeqLen = 0;
  /// Most new tokens one prefill call takes (tvc-derive-decode's
  /// max-prefill-tokens); 0: the capacity.
  int64_t maxPrefillTokens = 0;
  /// Sliding-window (and window + global) layers keep ring caches.
  bool ringWindows = true;
  /// What to stop at.
  EmitKind emit = EmitKind::Object;
  /// Put the weights blob in the artifact (`tvc_model_weights`, 64-byte
  /// aligned, read-only) instead of Artifact::weights. LLVM IR and
  /// objects only.
  bool embedWeights = false;
  /// Non-empty: tvc-premerge-ffn runs after the entry points are derived,
  /// with this policy (keep, merge, cost) and workload=auto, so each entry
  /// point gets its own form of structured linears.
  std::string premergePolicy;
  /// Non-empty (policy cost): the cost model's constants from this
  /// calibration file (tvc-calibrate).
  std::string premergeCalibration;
  /// With a budget, tvc-plan-offload runs first (its options budget,
  /// planner, report); the artifact then streams weights under it.
  std::string offloadBudget;
  std::string offloadPlanner = "cost";
  /// tvc-plan-offload's kv: plan or resident.
  std::string offloadKv = "plan";
  /// CUDA: tvc-plan-offload's attention-offload (KV caches may stay in host
  /// memory, their attention run by the host CPU).
  bool offloadAttention = false;
  std::string offloadReport;
  /// tvc-recompute-kv: "none" (or empty), "all", or "auto" (with a budget:
  /// the offload plan with the faster predicted decode step, or the one
  /// that fits).
  std::string kvRecompute;
  /// With a budget: the largest matrix read whole (tvc-chunk-weights'
  /// max-bytes); empty: a quarter of the budget; "0": never split.
  std::string offloadChunk;
  /// The planner's read model (tvc-plan-offload read-bandwidth and
  /// read-overhead); 0: its defaults.
  double offloadReadBandwidth = 0;
  double offloadReadOverhead = -1;
  /// The valid KV-cache rows the planner predicts a call at
  /// (tvc-plan-offload kv-position); 0: a full cache.
  int64_t offloadKvPosition = 0;
};

struct Artifact {
  /// The lowered module (EmitKind::Mlir), LLVM IR (Llvm), object (Object)
  /// or the kernels' PTX (Ptx, CUDA only).
  std::string text;
  /// The manifest embedded in the artifact.
  std::string manifest;
  /// Lines saying what the passes decided: the precision conversion (when
  /// it changed the model) and tvc-plan-offload's plan (when it ran).
  std::string summary;
  /// The packed weights blob (empty without weights, or when embedded).
  std::optional<AlignedBuffer> weights;
};

/// Compiles `module` (consumed) for `options.target`.
/// tvc-convert-precision's `weights` option for a tool's --precision value:
/// "" and keep -> keep, fp32 and tf32 -> f32 (tf32 changes the GEMMs, not
/// the weights), bf16 -> bf16, fp16 -> f16; std::nullopt for other values.
std::optional<std::string> getWeightPrecision(llvm::StringRef precision);

/// Runs tvc-convert-precision on `module` with `weights` (a
/// getWeightPrecision result), relative weight files resolving against
/// `weightsDir`: every activation f32, the matrices in that type. Returns
/// the pass's summary without its name ("" when nothing changed); errors
/// carry the pass's diagnostics.
llvm::Expected<std::string> convertPrecision(ModuleOp module,
                                             llvm::StringRef weights,
                                             llvm::StringRef weightsDir);

llvm::Expected<Artifact> compileModel(OwningOpRef<ModuleOp> module,
                                      const CompileOptions &options);

/// The `offload-kv` lines of the manifest (runtime/tools/Manifest.h) for a
/// planned module (tvc-plan-offload, before lowering): one per `tvc.kv_cache`
/// argument of the `_prefill` entry point, in order, from its
/// `tvc.kv_placement` and `tvc.kv_item` attributes, with the cache's batch
/// (dim 0), rows (dim 1) and bytes per row (the other dims times the element
/// size). Empty when the module has no `tvc.offload` plan or the plan places
/// no KV cache (no `tvc.kv_placement` anywhere). Errors for a partial or
/// inconsistent placement, a dynamic cache shape, and `host_attention`
/// unless `hostAttention` (the CUDA target, which runs that attention on
/// the host; the CPU target cannot run it where the cache lives).
llvm::Expected<std::string> getKvOffloadManifest(ModuleOp module,
                                                 bool hostAttention = false);

/// Writes `weights` as a tvc weights file: the 8-byte magic "TVCWGT02", the
/// blob size (u64, little endian), zero padding to 4096 bytes, then the blob
/// (blob offset X at file offset 4096 + X, page aligned). Written whole or
/// not at all.
llvm::Error writeWeightsFile(llvm::StringRef path,
                             const AlignedBuffer &weights);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_COMPILEMODEL_H
