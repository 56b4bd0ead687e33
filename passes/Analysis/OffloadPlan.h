//===- OffloadPlan.h - Where weights live and when they move ----*- C++ -*-===//
//
// The memory-offload plan as plain data (no IR): the weights and the KV
// caches of a model are `Item`s; an entry point reads them at `Step`s of its
// schedule; a plan places every item (resident, streamed, paged, or for a KV
// cache: its attention run where it lives) and lists, per step, the
// explicit actions (prefetch, wait, evict) that keep each read resident
// while the bytes held never exceed the budget.
//
// tvc-plan-offload builds schedules from tvc IR and chooses placements;
// tvc-materialize-offload rebuilds the schedules from the lowered code
// (whose op order is final) and turns the actions into runtime calls. Both
// use `simulate` to check a plan: it replays calls the way the runtime
// executor (runtime/offload/Executor.cpp) runs them.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_PASSES_ANALYSIS_OFFLOADPLAN_H
#define TVC_PASSES_ANALYSIS_OFFLOADPLAN_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tvc::offload {

/// Streamed and paged items start on a page of their own, so that eviction
/// frees whole pages.
constexpr uint64_t kPageBytes = 4096;
inline uint64_t pageRound(uint64_t bytes) {
  return (bytes + kPageBytes - 1) / kPageBytes * kPageBytes;
}
/// A transparent huge page: pool slots of this size or more start on one
/// when the budget leaves room for the padding (the executor's pool starts
/// on one).
constexpr uint64_t kHugePageBytes = 2 * 1024 * 1024;
/// The slot offset of an item that has none (not streamed).
constexpr uint64_t kNoSlot = ~uint64_t{0};

enum class Placement {
  /// Read once when the model is loaded; never evicted.
  Resident,
  /// Read ahead of its first use in each call, evicted after its last.
  Streamed,
  /// Only ever gathered (a few rows per call): demand-paged, the touched
  /// pages dropped after the call's last gather.
  Paged,
  /// A KV cache that stays in the slower tier, where the attention that
  /// reads it runs (Lamina-style attention offload: only the step's query,
  /// keys and values go there and the attention's output comes back).
  /// Needs `Options::attentionOffload`; holds no budget.
  HostAttention,
};
llvm::StringRef placementName(Placement placement);

struct Item {
  std::string name;
  /// Bytes held when resident (page rounded by the caller).
  uint64_t bytes = 0;
  /// The layer that reads it, -1 outside layers (for the reference planner
  /// and reports).
  int layer = -1;
  /// A KV cache: read and written by its layer's attention. Streamed, only
  /// its valid rows are read (`Use::kvReadBytes`) and its new rows written
  /// back at eviction (`Use::kvWriteBytes`); never paged; never read ahead
  /// across calls (the valid rows change).
  bool kvCache = false;
  /// False: must stay resident (e.g. a sliding window's ring cache, whose
  /// rows are not positions).
  bool movable = true;
  /// A KV cache that an attention reads as it is; false for a cache of the
  /// inputs keys and values are recomputed from (tvc-recompute-kv), which
  /// linear maps read: it cannot stay where attention runs.
  bool attentionReads = true;
};

/// Whether `item` may be placed HostAttention under `attentionOffload`.
inline bool canStayWhereAttentionRuns(const Item &item,
                                      bool attentionOffload) {
  return attentionOffload && item.kvCache && item.attentionReads;
}

/// How an entry point reads one item: densely over steps [first, last]
/// (the item must be resident throughout), or by gathers (only the touched
/// rows come in; `touchedBytes` bounds them per call).
struct Use {
  unsigned item = 0;
  unsigned first = 0;
  unsigned last = 0;
  bool gather = false;
  uint64_t touchedBytes = 0;
  /// A KV cache's use: the bytes of valid rows a call reads when it is
  /// streamed (the plan's assumed position), and the new rows it writes.
  uint64_t kvReadBytes = 0;
  uint64_t kvWriteBytes = 0;
};

/// One entry point's reads in execution order. An item has at most one
/// dense and one gather use per schedule (callers merge ranges).
struct Schedule {
  std::string entry;
  unsigned numSteps = 0;
  std::vector<Use> uses;
  /// Predicted compute time of each step without stalls (size numSteps, or
  /// empty: no time prediction).
  std::vector<double> stepSeconds;
  /// The entry point usually called after this one (its index in the
  /// schedule list): prefetches at the end of a call are for it.
  unsigned successor = 0;
};

struct Action {
  enum class Kind { Prefetch, Wait, Evict };
  Kind kind;
  unsigned item;
  bool operator==(const Action &other) const {
    return kind == other.kind && item == other.item;
  }
};

struct EntryActions {
  /// Per step: actions before it runs and after it ran.
  std::vector<std::vector<Action>> before;
  std::vector<std::vector<Action>> after;
};

enum class PlannerKind {
  /// Items read inside layers are streamed (at most `depth` layers ahead of
  /// the one running), everything else is resident.
  Reference,
  /// Placements that minimise the predicted time of the steady-state call
  /// under the budget: as many bytes resident as the budget leaves after
  /// the streaming window, prefetching as far ahead as the budget allows.
  Cost,
};

struct Options {
  uint64_t budget = 0;
  PlannerKind planner = PlannerKind::Cost;
  /// Reference planner: how many layers ahead prefetches may run.
  unsigned depth = 1;
  /// Bandwidth of reads from the weights file (predictions, cost planner).
  double readBytesPerSecond = 2e9;
  /// Fixed cost of one read (system calls, mapping, the I/O thread's
  /// hand-over), which makes many small streamed items slow.
  double readOverheadSeconds = 5e-5;
  /// Bytes per second the kernels consume: a step that reads a KV cache is
  /// predicted to spend kvReadBytes at this rate on it.
  double computeBytesPerSecond = 2e10;
  /// The slower tier can run attention (the host CPU next to a GPU): KV
  /// caches may be placed HostAttention. Such a step costs
  /// `attentionLatencySeconds` (sending the step's q/k/v, waiting for the
  /// output) plus kvReadBytes at `hostAttentionBytesPerSecond` instead of
  /// kvReadBytes at the compute rate.
  bool attentionOffload = false;
  double hostAttentionBytesPerSecond = 1e10;
  double attentionLatencySeconds = 3e-5;
};

/// What replaying a plan found.
struct Replay {
  /// The most bytes held at any point (resident + streamed in flight or
  /// loaded + paged reserves).
  uint64_t peakBytes = 0;
  /// Per schedule, in its steady state (the second call in a row): bytes
  /// read, and the predicted time with and without stalls.
  std::vector<uint64_t> bytesRead;
  /// KV-cache rows written back at evictions.
  std::vector<uint64_t> bytesWritten;
  std::vector<double> seconds;
  std::vector<double> stallSeconds;
  /// Waits whose item had not been prefetched in the steady state.
  std::vector<unsigned> coldWaits;
};

/// Where each streamed item's bytes go in the executor's page pool: one
/// offset per item for every call, so the runtime allocates nothing and the
/// pool cannot fragment.
struct Slots {
  /// Per item: its byte offset in the pool (page aligned), kNoSlot when it
  /// is not streamed. Empty: no slots (the executor allocates them at run
  /// time, first fit), when none fit the budget.
  std::vector<uint64_t> offset;
  /// The pool's size: the end of the highest slot.
  uint64_t poolBytes = 0;
};

struct Plan {
  Options options;
  std::vector<Item> items;
  std::vector<Placement> placement;
  /// Per schedule, the actions (same order as the schedules).
  std::vector<EntryActions> actions;
  Replay replay;
  /// The streamed items' pool slots (assignSlots).
  Slots slots;

  uint64_t bytesPlaced(Placement kind) const;
  /// One line per item and the predictions; stable text for tests.
  void dump(llvm::raw_ostream &os,
            llvm::ArrayRef<Schedule> schedules) const;
  llvm::json::Value toJSON(llvm::ArrayRef<Schedule> schedules) const;
};

/// Parses a size: N, N with a unit (KiB, MiB, GiB, KB, MB, GB, B) or, when
/// `total` is given, P% of it; nothing (and a message) when malformed,
/// not positive or above 100 %.
std::optional<uint64_t> parseByteSize(llvm::StringRef text,
                                      std::optional<uint64_t> total,
                                      std::string &error);

/// Bytes held for gathers of non-resident items (their touched pages, which
/// stay until the item's eviction or the end of the call).
uint64_t pagedReserve(llvm::ArrayRef<Item> items,
                      llvm::ArrayRef<Placement> placement,
                      llvm::ArrayRef<Schedule> schedules);

/// What a run holds with nothing streamed: every item read densely, plus
/// the touched pages of gather-only tables (paged). A budget of 100 % is
/// this much.
uint64_t residentFootprint(llvm::ArrayRef<Item> items,
                           llvm::ArrayRef<Schedule> schedules);

/// The least budget any plan needs: every movable item streamed or paged
/// (or, with `attentionOffload`, its KV caches left where attention runs),
/// the others resident, nothing prefetched ahead; `where` says which step
/// needs it.
uint64_t minimumBudget(llvm::ArrayRef<Item> items,
                       llvm::ArrayRef<Schedule> schedules,
                       std::string *where = nullptr,
                       bool attentionOffload = false);

/// Checks that items, uses and successors are consistent.
llvm::Error checkSchedules(llvm::ArrayRef<Item> items,
                           llvm::ArrayRef<Schedule> schedules);

/// Chooses placements, actions and pool slots; an error names the minimum
/// budget when `options.budget` is below it. The cost planner counts a
/// placement whose slots do not fit the budget (resident + pool + gather
/// reserve) as worse than any whose do.
llvm::Expected<Plan> planOffload(llvm::ArrayRef<Item> items,
                                 llvm::ArrayRef<Schedule> schedules,
                                 const Options &options);

/// The actions for fixed placements (a placement per item), as the planner
/// derives them: waits before first dense uses, evictions after last uses
/// (and after the last gather of a paged item), and after each eviction the
/// prefetches that now fit, continuing into the successor's reads.
llvm::Expected<std::vector<EntryActions>>
scheduleActions(llvm::ArrayRef<Item> items,
                llvm::ArrayRef<Placement> placement,
                llvm::ArrayRef<Schedule> schedules, const Options &options);

/// Replays, for each schedule s from an empty state, the calls s, s,
/// successor, successor, s with the executor's semantics:
/// a prefetch of an item in flight or loaded does nothing; a wait for an
/// item never prefetched reads it then; an evict frees it (writing a KV
/// cache's new rows back first, on the computing thread). Fails when a
/// dense read finds its item not resident, when an action names a resident
/// item or one not used where it stands, when the bytes held exceed the
/// budget, when a call ends holding a KV cache (read ahead across calls), or
/// when a placement does not suit its item (paged KV caches,
/// HostAttention weights or without attentionOffload, a moved item that
/// must stay resident).
llvm::Expected<Replay> simulate(llvm::ArrayRef<Item> items,
                                llvm::ArrayRef<Placement> placement,
                                llvm::ArrayRef<Schedule> schedules,
                                llvm::ArrayRef<EntryActions> actions,
                                const Options &options);

/// Gives every streamed item an offset in the executor's page pool such
/// that no two items held at the same time overlap, in every call the
/// replay of `simulate` makes (s, s, successor, successor, s per schedule:
/// an item is held from the prefetch or wait that issues its read to its
/// eviction, across the end of a call when it is read ahead for the next).
/// Greedy: each item at the lowest offset clear of the items placed before
/// it that it is held with, in three orders (largest first, first read
/// first, most bytes held alongside first), the smallest pool kept; items
/// of kHugePageBytes or more on a huge page boundary unless no such packing
/// fits `poolLimit` (then page aligned). The pool may still exceed
/// `poolLimit` (the caller decides).
llvm::Expected<Slots> assignSlots(llvm::ArrayRef<Item> items,
                                  llvm::ArrayRef<Placement> placement,
                                  llvm::ArrayRef<Schedule> schedules,
                                  llvm::ArrayRef<EntryActions> actions,
                                  uint64_t poolLimit);

/// Checks `slots` against the same replay: every streamed item has a page
/// aligned slot inside the pool, and no two items held at once overlap.
llvm::Error verifySlots(llvm::ArrayRef<Item> items,
                        llvm::ArrayRef<Placement> placement,
                        llvm::ArrayRef<Schedule> schedules,
                        llvm::ArrayRef<EntryActions> actions,
                        const Slots &slots);

/// Actions, their replay and slots for fixed placements, as planOffload and
/// tvc-materialize-offload derive them.
struct Scheduled {
  std::vector<EntryActions> actions;
  Replay replay;
  Slots slots;
};

/// scheduleActions, simulate and assignSlots; when the slots need a pool
/// larger than the budget leaves after the resident items and gather
/// reserves (the packing fragments), the actions are derived again with
/// less room for reading ahead, a few times. When none fit, the first
/// actions without slots (empty `slots.offset`).
llvm::Expected<Scheduled> schedulePlan(llvm::ArrayRef<Item> items,
                                       llvm::ArrayRef<Placement> placement,
                                       llvm::ArrayRef<Schedule> schedules,
                                       const Options &options);

} // namespace mlir::tvc::offload

#endif // TVC_PASSES_ANALYSIS_OFFLOADPLAN_H
