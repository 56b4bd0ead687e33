//===- Manifest.h - What a compiled tvc model says about itself -*- C++ -*-===//
//
// tvc-compile embeds a short text manifest (the global string
// `tvc_model_manifest`) in every artifact; the runtime's model main reads it
// to call the entry points without knowing the model. The format, one item
// per line:
//
//   tvc-model 2
//   target <cpu | cuda sm_XX>                            (optional; cpu)
//   weights <bytes of the weights blob>
//   context <positions>                                  (optional)
//   offload <budget bytes> <number of items> [<pool bytes>]  (optional)
//   offload-item <index> <blob offset> <bytes> <resident|streamed|paged>
//                [<slot offset>]
//   offload-kv <index> <batch> <rows> <row bytes> <resident|streamed>
//              [<slot offset>]
//   entry <role: forward|prefill|decode> <function> <takes_weights 0|1>
//         <in_place_results_dropped 0|1> <arena bytes; 0: takes no arena>
//   input <name> <onnx element type> <is_kv_cache 0|1> <d0,d1,...; -1 dynamic>
//         <largest shape d0,d1,...; - when unbounded>
//   result <onnx element type> <updated input index or -1> <dims>
//   end
//
// An entry with an arena takes, after the weights, a scratch buffer of that
// many bytes (64-byte aligned) for its temporaries (tvc-plan-memory); its
// inputs must not exceed their largest shape, which the plan was sized for.
//
// input/result lines belong to the entry above them.
//
// `context` is the model's context: the KV caches' capacity in positions
// (tvc.kv_cache_capacity), which generation must not exceed. The prefill
// may take fewer new tokens per call (its inputs' largest shape:
// tvc-compile --max-prefill-tokens); a longer prompt then runs in chunks.
// Manifests without the line (older artifacts) leave it 0, and a reader
// takes the prefill's sequence bound for the context as before.
//
// A CUDA artifact's entry points take device memory for every argument
// except rank-0 inputs (host scalars such as past_len), and return results
// in device memory (docs/CudaTarget.md).
//
// A model compiled with an offload plan (a RAM budget for its weights,
// docs/Offload.md) lists every weight range after `weights`: one
// offload-item line per item, indices 0..n-1 in order, offsets multiples of
// 4096. The model main hands them to the offload executor
// (runtime/api/tvc_offload.h), whose calls the compiled code makes.
// The budget then covers the KV caches too: after the offload-item lines,
// one offload-kv line per KV-cache input of the prefill entry point, in
// the order of those inputs (indices 0..n-1), with its geometry and
// whether the caller's buffer holds it (resident) or the executor's spill
// file (streamed). A plan without offload-kv lines has no KV items (an
// older artifact, or a model without caches). The parser checks the lines
// against the prefill's cache inputs: as many, and each item's batch, rows
// and row bytes those of the input's dims [batch, rows, ...].
// When the compiler assigned the streamed items and caches their slots in
// the executor's page pool (tvc-materialize-offload), the offload line ends
// with the pool's bytes and each streamed item's and cache's line with its
// slot's offset in the pool; older manifests have neither (the executor
// allocates slots then), and a slot needs the pool's size before it.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_TOOLS_MANIFEST_H
#define TVC_RUNTIME_TOOLS_MANIFEST_H

#include "runtime/api/tvc_offload.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tvc {

struct ManifestTensor {
  std::string name;
  int32_t elementType = 0;
  bool isCache = false;
  int updatesInput = -1;
  std::vector<int64_t> dims; // -1 where dynamic
  std::vector<int64_t> maxDims; // inputs: upper bounds, empty if unbounded
};

struct ManifestEntry {
  std::string role;
  std::string function;
  bool takesWeights = false;
  bool inPlaceDropped = false;
  uint64_t arenaBytes = 0;
  std::vector<ManifestTensor> inputs;
  std::vector<ManifestTensor> results;
};

struct Manifest {
  /// "cpu" (no `target` line) or "cuda": entry points take device memory.
  std::string target = "cpu";
  /// CUDA: the architecture the kernels were compiled for ("sm_90").
  std::string cudaChip;
  uint64_t weightsBytes = 0;
  /// The KV caches' capacity in positions (`context`); 0 when not given.
  int64_t context = 0;
  /// The offload plan: present when the manifest has an `offload` line.
  bool hasOffload = false;
  uint64_t offloadBudget = 0;
  /// The page pool of the compiler's slots (the items' has_slot and
  /// slot_offset); 0 when the manifest gives none.
  uint64_t offloadPoolBytes = 0;
  std::vector<tvc_offload_item_t> offloadItems;
  /// The plan's KV caches, in the order of the prefill's cache inputs.
  std::vector<tvc_offload_kv_item_t> offloadKvItems;
  std::vector<ManifestEntry> entries;
  const ManifestEntry *find(const std::string &role) const;
  /// The most new tokens one prefill call takes: the largest bound on the
  /// sequence dim (dim 1) of the prefill's inputs other than caches; 0 when
  /// there is no prefill or none is bounded.
  int64_t prefillTokenBound() const;
  /// The model's context in positions: `context` when the manifest gives
  /// it, else (older manifests) the prefill's token bound, else the most
  /// rows of its cache inputs; 0 without a prefill entry point.
  int64_t contextPositions() const;
};

/// Parses `text`; on failure returns false with a message in `error`. Checks
/// the offload plan's items are all listed and its KV items describe the
/// prefill's cache inputs.
bool parseManifest(const std::string &text, Manifest &out, std::string &error);

} // namespace tvc

#endif // TVC_RUNTIME_TOOLS_MANIFEST_H
