//===- OffloadPlan.cpp - Where weights live and when they move ------------===//
//
// Planners, the derivation of actions from placements, and the replay that
// checks them. See OffloadPlan.h.
//
//===----------------------------------------------------------------------===//

#include "passes/Analysis/OffloadPlan.h"

#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

#include <algorithm>
#include <deque>
#include <numeric>
#include <optional>

using namespace mlir::tvc::offload;
using llvm::createStringError;

namespace {

std::string mib(uint64_t bytes) {
  return llvm::formatv("{0:f2} MiB", bytes / (1024.0 * 1024.0)).str();
}

/// The dense uses of streamed items of one schedule in order of first use.
std::vector<const Use *> streamedOrder(llvm::ArrayRef<Placement> placement,
                                       const Schedule &schedule) {
  std::vector<const Use *> order;
  for (const Use &use : schedule.uses)
    if (!use.gather && placement[use.item] == Placement::Streamed)
      order.push_back(&use);
  std::stable_sort(order.begin(), order.end(), [](const Use *a, const Use *b) {
    return a->first != b->first ? a->first < b->first : a->item < b->item;
  });
  return order;
}

uint64_t residentBytes(llvm::ArrayRef<Item> items,
                       llvm::ArrayRef<Placement> placement) {
  uint64_t total = 0;
  for (auto [item, where] : llvm::zip_equal(items, placement))
    if (where == Placement::Resident)
      total += item.bytes;
  return total;
}

/// The objective the cost planner minimises: predicted time of every
/// schedule's steady-state call when there are step times, else bytes read.
double objective(const Replay &replay, bool timed) {
  double total = 0;
  for (size_t index = 0; index < replay.seconds.size(); ++index)
    total += timed ? replay.seconds[index]
                   : static_cast<double>(replay.bytesRead[index]);
  return total;
}

} // namespace

llvm::StringRef mlir::tvc::offload::placementName(Placement placement) {
  switch (placement) {
  case Placement::Resident:
    return "resident";
  case Placement::Streamed:
    return "streamed";
  case Placement::Paged:
    return "paged";
  case Placement::HostAttention:
    return "host_attention";
  }
  return "?";
}

uint64_t Plan::bytesPlaced(Placement kind) const {
  uint64_t total = 0;
  for (auto [item, where] : llvm::zip_equal(items, placement))
    if (where == kind)
      total += item.bytes;
  return total;
}

llvm::Error
mlir::tvc::offload::checkSchedules(llvm::ArrayRef<Item> items,
                                   llvm::ArrayRef<Schedule> schedules) {
  for (const Schedule &schedule : schedules) {
    if (schedule.successor >= schedules.size())
      return createStringError("entry '" + schedule.entry +
                               "' has no successor schedule");
    if (!schedule.stepSeconds.empty() &&
        schedule.stepSeconds.size() != schedule.numSteps)
      return createStringError("entry '" + schedule.entry +
                               "' has step times for a different number of "
                               "steps");
    llvm::SmallSet<unsigned, 16> dense, gathered;
    for (const Use &use : schedule.uses) {
      if (use.item >= items.size() || use.first > use.last ||
          use.last >= schedule.numSteps)
        return createStringError("entry '" + schedule.entry +
                                 "' has a use outside its items or steps");
      if (!(use.gather ? gathered : dense).insert(use.item).second)
        return createStringError("entry '" + schedule.entry + "' reads '" +
                                 items[use.item].name +
                                 "' twice in the same way");
    }
  }
  return llvm::Error::success();
}

uint64_t mlir::tvc::offload::pagedReserve(llvm::ArrayRef<Item> items,
                                          llvm::ArrayRef<Placement> placement,
                                          llvm::ArrayRef<Schedule> schedules) {
  uint64_t reserve = 0;
  for (const Schedule &schedule : schedules) {
    uint64_t touched = 0;
    for (const Use &use : schedule.uses)
      if (use.gather && placement[use.item] != Placement::Resident)
        touched += std::min(pageRound(use.touchedBytes), items[use.item].bytes);
    reserve = std::max(reserve, touched);
  }
  return reserve;
}

uint64_t
mlir::tvc::offload::residentFootprint(llvm::ArrayRef<Item> items,
                                      llvm::ArrayRef<Schedule> schedules) {
  std::vector<Placement> placement(items.size(), Placement::Paged);
  uint64_t total = 0;
  for (const Schedule &schedule : schedules)
    for (const Use &use : schedule.uses)
      if (!use.gather && placement[use.item] != Placement::Resident) {
        placement[use.item] = Placement::Resident;
        total += items[use.item].bytes;
      }
  return total + pagedReserve(items, placement, schedules);
}

uint64_t mlir::tvc::offload::minimumBudget(llvm::ArrayRef<Item> items,
                                           llvm::ArrayRef<Schedule> schedules,
                                           std::string *where,
                                           bool attentionOffload) {
  std::vector<Placement> streamed(items.size(), Placement::Streamed);
  uint64_t pinned = 0;
  for (auto [index, item] : llvm::enumerate(items))
    if (!item.movable) {
      streamed[index] = Placement::Resident;
      pinned += item.bytes;
    }
  uint64_t reserve = pagedReserve(items, streamed, schedules);
  uint64_t most = 0;
  for (const Schedule &schedule : schedules) {
    std::vector<uint64_t> live(schedule.numSteps, 0);
    for (const Use &use : schedule.uses) {
      const Item &item = items[use.item];
      if (!use.gather && item.movable &&
          !canStayWhereAttentionRuns(item, attentionOffload))
        for (unsigned step = use.first; step <= use.last; ++step)
          live[step] += item.bytes;
    }
    for (unsigned step = 0; step < schedule.numSteps; ++step) {
      if (live[step] <= most)
        continue;
      most = live[step];
      if (!where)
        continue;
      std::string names;
      unsigned count = 0;
      for (const Use &use : schedule.uses)
        if (!use.gather && use.first <= step && step <= use.last &&
            items[use.item].movable &&
            !canStayWhereAttentionRuns(items[use.item], attentionOffload) &&
            count++ < 3)
          names += (names.empty() ? "" : ", ") + items[use.item].name;
      if (count > 3)
        names += llvm::formatv(" and {0} more", count - 3).str();
      *where = llvm::formatv("step {0} of '{1}': {2}", step, schedule.entry,
                             names);
    }
  }
  if (where && pinned > 0)
    *where += ", plus " + mib(pinned) + " that must stay resident";
  return most + pinned + reserve;
}

llvm::Expected<std::vector<EntryActions>>
mlir::tvc::offload::scheduleActions(llvm::ArrayRef<Item> items,
                                    llvm::ArrayRef<Placement> placement,
                                    llvm::ArrayRef<Schedule> schedules,
                                    const Options &options) {
  uint64_t fixed = residentBytes(items, placement) +
                   pagedReserve(items, placement, schedules);
  if (fixed > options.budget)
    return createStringError("resident items and gather reserves take " +
                             mib(fixed) + ", over the budget of " +
                             mib(options.budget));
  uint64_t capacity = options.budget - fixed;
  bool layered = options.planner == PlannerKind::Reference;

  // What each entry point reads ahead at its start from an empty state: a
  // prefix of its streamed items in order, as many as fit.
  auto startPrefix = [&](const Schedule &schedule) {
    llvm::SmallSet<unsigned, 32> prefix;
    llvm::SmallSet<int, 8> layers;
    uint64_t bytes = 0;
    for (const Use *use : streamedOrder(placement, schedule)) {
      bytes += items[use->item].bytes;
      layers.insert(items[use->item].layer);
      if (bytes > capacity || (layered && layers.size() > options.depth + 1))
        break;
      prefix.insert(use->item);
    }
    return prefix;
  };
  // The end of a call may read ahead for the next one only what every
  // entry point reads ahead at its start anyway, so that whichever entry
  // is called next, what was carried over is part of what it holds.
  std::vector<llvm::SmallSet<unsigned, 32>> prefixes;
  for (const Schedule &schedule : schedules)
    prefixes.push_back(startPrefix(schedule));
  auto carriable = [&](unsigned item) {
    // A KV cache's valid rows change with every call: never read ahead.
    if (items[item].kvCache)
      return false;
    return llvm::all_of(prefixes, [&](const llvm::SmallSet<unsigned, 32> &p) {
      return p.contains(item);
    });
  };

  std::vector<EntryActions> result;
  for (const Schedule &schedule : schedules) {
    EntryActions actions;
    actions.before.resize(schedule.numSteps);
    actions.after.resize(schedule.numSteps);
    std::vector<const Use *> own = streamedOrder(placement, schedule);
    std::vector<const Use *> next =
        streamedOrder(placement, schedules[schedule.successor]);
    // What may be read ahead: this call's streamed items, then the
    // successor's (for the next call).
    std::vector<unsigned> future;
    for (const Use *use : own)
      future.push_back(use->item);
    for (const Use *use : next)
      future.push_back(use->item);

    std::vector<std::vector<unsigned>> firstAt(schedule.numSteps),
        lastAt(schedule.numSteps);
    for (const Use *use : own) {
      firstAt[use->first].push_back(use->item);
      lastAt[use->last].push_back(use->item);
    }
    for (const Use &use : schedule.uses) {
      // Paged items drop their touched pages after the call's last gather.
      if (use.gather && placement[use.item] == Placement::Paged)
        lastAt[use.last].push_back(use.item);
    }

    llvm::SmallSet<unsigned, 32> loaded;
    uint64_t held = 0;
    size_t cursor = 0;
    auto layersAhead = [&](unsigned candidate) {
      llvm::SmallSet<int, 8> layers;
      for (unsigned item : loaded)
        layers.insert(items[item].layer);
      layers.insert(items[candidate].layer);
      return layers.size();
    };
    auto fill = [&](std::vector<Action> &into, bool force) -> llvm::Error {
      while (cursor < future.size()) {
        unsigned item = future[cursor];
        if (loaded.contains(item)) {
          // A next-call item still held by this call: read it again after
          // its eviction (reads stay in order).
          if (cursor >= own.size())
            return llvm::Error::success();
          ++cursor;
          continue;
        }
        if (cursor >= own.size() && !carriable(item))
          return llvm::Error::success();
        uint64_t bytes = items[item].bytes;
        bool fits = held + bytes <= capacity;
        if (!force && (!fits || (layered && layersAhead(item) >
                                                 options.depth + 1)))
          return llvm::Error::success();
        if (!fits)
          return createStringError(
              "'" + schedule.entry + "' needs " + mib(held + bytes + fixed) +
              " when '" + items[item].name + "' is read; the budget is " +
              mib(options.budget));
        into.push_back({Action::Kind::Prefetch, item});
        loaded.insert(item);
        held += bytes;
        ++cursor;
        if (force)
          return llvm::Error::success();
      }
      return llvm::Error::success();
    };

    if (schedule.numSteps > 0)
      if (llvm::Error error = fill(actions.before[0], false))
        return std::move(error);
    for (unsigned step = 0; step < schedule.numSteps; ++step) {
      for (unsigned item : firstAt[step]) {
        while (!loaded.contains(item)) {
          if (cursor >= future.size())
            return createStringError("'" + items[item].name +
                                     "' is read before it can be loaded");
          if (llvm::Error error = fill(actions.before[step], true))
            return std::move(error);
        }
        actions.before[step].push_back({Action::Kind::Wait, item});
      }
      for (unsigned item : lastAt[step]) {
        actions.after[step].push_back({Action::Kind::Evict, item});
        if (placement[item] == Placement::Streamed) {
          loaded.erase(item);
          held -= items[item].bytes;
        }
      }
      if (!lastAt[step].empty())
        if (llvm::Error error = fill(actions.after[step], false))
          return std::move(error);
    }
    result.push_back(std::move(actions));
  }
  return result;
}

llvm::Expected<Replay> mlir::tvc::offload::simulate(
    llvm::ArrayRef<Item> items, llvm::ArrayRef<Placement> placement,
    llvm::ArrayRef<Schedule> schedules, llvm::ArrayRef<EntryActions> actions,
    const Options &options) {
  if (llvm::Error error = checkSchedules(items, schedules))
    return std::move(error);
  if (placement.size() != items.size() || actions.size() != schedules.size())
    return createStringError("a plan needs a placement per item and actions "
                             "per schedule");
  for (auto [item, where] : llvm::zip_equal(items, placement)) {
    if (!item.movable && where != Placement::Resident)
      return createStringError("'" + item.name + "' must stay resident");
    if (item.kvCache && where == Placement::Paged)
      return createStringError("KV cache '" + item.name + "' cannot be paged");
    if (where == Placement::HostAttention &&
        !canStayWhereAttentionRuns(item, options.attentionOffload))
      return createStringError(
          "'" + item.name + "' is placed where attention runs, " +
          (!item.kvCache                ? "but it is not a KV cache"
           : !options.attentionOffload ? "but the target has no attention "
                                         "offload"
                                       : "but no attention reads it"));
  }
  uint64_t fixed = residentBytes(items, placement) +
                   pagedReserve(items, placement, schedules);
  Replay replay;
  replay.bytesRead.assign(schedules.size(), 0);
  replay.bytesWritten.assign(schedules.size(), 0);
  replay.seconds.assign(schedules.size(), 0);
  replay.stallSeconds.assign(schedules.size(), 0);
  replay.coldWaits.assign(schedules.size(), 0);
  replay.peakBytes = fixed;
  if (fixed > options.budget)
    return createStringError("resident items and gather reserves take " +
                             mib(fixed) + ", over the budget of " +
                             mib(options.budget));

  for (size_t start = 0; start < schedules.size(); ++start) {
    // State of the executor: per item, not held, in flight (done at a
    // time) or waited for in this call.
    enum class State { Absent, Issued, Ready };
    std::vector<State> state(items.size(), State::Absent);
    std::vector<double> doneAt(items.size(), 0);
    uint64_t held = fixed;
    double now = 0, ioFree = 0;
    unsigned second = schedules[start].successor;
    // Every transition: start -> start -> successor -> successor -> start.
    unsigned sequence[] = {static_cast<unsigned>(start),
                           static_cast<unsigned>(start), second, second,
                           static_cast<unsigned>(start)};
    for (unsigned call = 0; call < 5; ++call) {
      unsigned index = sequence[call];
      const Schedule &schedule = schedules[index];
      const EntryActions &entry = actions[index];
      if (entry.before.size() != schedule.numSteps ||
          entry.after.size() != schedule.numSteps)
        return createStringError("actions of '" + schedule.entry +
                                 "' do not cover its steps");
      bool measured = call == 1;
      double callStart = now, stalls = 0;
      uint64_t bytesRead = 0, bytesWritten = 0;
      unsigned coldWaits = 0;
      // A KV cache's bytes moved by this entry point (weights move whole).
      llvm::DenseMap<unsigned, const Use *> kvUse;
      for (const Use &use : schedule.uses)
        if (items[use.item].kvCache && !use.gather)
          kvUse[use.item] = &use;
      auto readBytes = [&](unsigned item) -> uint64_t {
        if (!items[item].kvCache)
          return items[item].bytes;
        const Use *use = kvUse.lookup(item);
        return use ? use->kvReadBytes : 0;
      };
      auto issue = [&](unsigned item) -> llvm::Error {
        state[item] = State::Issued;
        held += items[item].bytes;
        replay.peakBytes = std::max(replay.peakBytes, held);
        if (held > options.budget)
          return createStringError(
              llvm::formatv("reading '{0}' in '{1}' holds {2}, over the "
                            "budget of {3}",
                            items[item].name, schedule.entry, mib(held),
                            mib(options.budget))
                  .str());
        if (items[item].kvCache && !kvUse.count(item))
          return createStringError("'" + schedule.entry + "' reads KV cache '" +
                                   items[item].name +
                                   "', which it does not use, ahead");
        uint64_t bytes = readBytes(item);
        ioFree = std::max(ioFree, now) + options.readOverheadSeconds +
                 bytes / options.readBytesPerSecond;
        doneAt[item] = ioFree;
        bytesRead += bytes;
        return llvm::Error::success();
      };
      auto run = [&](llvm::ArrayRef<Action> list) -> llvm::Error {
        for (const Action &action : list) {
          if (action.item >= items.size())
            return createStringError("an action names no item");
          Placement where = placement[action.item];
          const std::string &name = items[action.item].name;
          switch (action.kind) {
          case Action::Kind::Prefetch:
            if (where != Placement::Streamed)
              return createStringError("prefetch of '" + name +
                                       "', which is not streamed");
            if (state[action.item] == State::Absent)
              if (llvm::Error error = issue(action.item))
                return error;
            break;
          case Action::Kind::Wait:
            if (where != Placement::Streamed)
              return createStringError("wait for '" + name +
                                       "', which is not streamed");
            if (state[action.item] == State::Absent) {
              ++coldWaits;
              if (llvm::Error error = issue(action.item))
                return error;
            }
            if (doneAt[action.item] > now) {
              stalls += doneAt[action.item] - now;
              now = doneAt[action.item];
            }
            state[action.item] = State::Ready;
            break;
          case Action::Kind::Evict:
            if (where == Placement::Resident ||
                where == Placement::HostAttention)
              return createStringError("eviction of " +
                                       placementName(where).str() + " '" +
                                       name + "'");
            if (where == Placement::Streamed) {
              if (state[action.item] != State::Ready)
                return createStringError("eviction of '" + name +
                                         "', which was not waited for");
              state[action.item] = State::Absent;
              held -= items[action.item].bytes;
              // A KV cache's new rows go back to the slower tier before its
              // slot is given up (on the computing thread).
              if (const Use *use = kvUse.lookup(action.item)) {
                now += options.readOverheadSeconds +
                       use->kvWriteBytes / options.readBytesPerSecond;
                bytesWritten += use->kvWriteBytes;
              }
            }
            break;
          }
        }
        return llvm::Error::success();
      };
      // Which streamed items each step reads densely; what attention run
      // where the KV cache lives adds to a step's time.
      std::vector<std::vector<unsigned>> reads(schedule.numSteps);
      std::vector<double> offloaded(schedule.numSteps, 0);
      for (const Use &use : schedule.uses) {
        if (use.gather)
          continue;
        if (placement[use.item] == Placement::Streamed)
          for (unsigned step = use.first; step <= use.last; ++step)
            reads[step].push_back(use.item);
        if (placement[use.item] == Placement::HostAttention)
          offloaded[use.last] +=
              options.attentionLatencySeconds +
              use.kvReadBytes / options.hostAttentionBytesPerSecond -
              use.kvReadBytes / options.computeBytesPerSecond;
      }
      for (unsigned step = 0; step < schedule.numSteps; ++step) {
        if (llvm::Error error = run(entry.before[step]))
          return std::move(error);
        for (unsigned item : reads[step])
          if (state[item] != State::Ready)
            return createStringError(
                llvm::formatv("step {0} of '{1}' reads '{2}', which is not "
                              "resident then",
                              step, schedule.entry, items[item].name)
                    .str());
        if (!schedule.stepSeconds.empty())
          now += std::max(0.0, schedule.stepSeconds[step] + offloaded[step]);
        if (llvm::Error error = run(entry.after[step]))
          return std::move(error);
      }
      // A KV cache read ahead for the next call would miss the rows this
      // call writes (the prefetch reads the valid rows of its own call).
      for (auto [item, itemState] : llvm::zip_equal(items, state))
        if (item.kvCache && itemState != State::Absent)
          return createStringError("'" + schedule.entry + "' holds KV cache '" +
                                   item.name + "' at its end");
      if (measured) {
        replay.bytesRead[index] = bytesRead;
        replay.bytesWritten[index] = bytesWritten;
        replay.seconds[index] = now - callStart;
        replay.stallSeconds[index] = stalls;
        replay.coldWaits[index] = coldWaits;
      }
    }
  }
  return replay;
}

namespace {

/// Replays the calls `simulate` makes (per schedule, from an empty state:
/// s, s, successor, successor, s) for the lifetimes of streamed items only:
/// `onIssue(item, held, schedule)` runs when a prefetch or a wait issues
/// the read of a streamed item not held, with the streamed items held then.
/// An eviction ends the item's lifetime; what is held at the end of the
/// last call is dropped before the next replay.
llvm::Error
forEachIssue(llvm::ArrayRef<Item> items, llvm::ArrayRef<Placement> placement,
             llvm::ArrayRef<Schedule> schedules,
             llvm::ArrayRef<EntryActions> actions,
             llvm::function_ref<llvm::Error(unsigned, llvm::ArrayRef<unsigned>,
                                            const Schedule &)>
                 onIssue) {
  if (placement.size() != items.size() || actions.size() != schedules.size())
    return createStringError("a plan needs a placement per item and actions "
                             "per schedule");
  for (const Schedule &schedule : schedules)
    if (schedule.successor >= schedules.size())
      return createStringError("entry '" + schedule.entry +
                               "' has no successor schedule");
  std::vector<bool> isHeld(items.size(), false);
  std::vector<unsigned> held;
  for (size_t start = 0; start < schedules.size(); ++start) {
    for (unsigned item : held)
      isHeld[item] = false;
    held.clear();
    unsigned second = schedules[start].successor;
    unsigned sequence[] = {static_cast<unsigned>(start),
                           static_cast<unsigned>(start), second, second,
                           static_cast<unsigned>(start)};
    for (unsigned index : sequence) {
      const EntryActions &entry = actions[index];
      auto run = [&](llvm::ArrayRef<Action> list) -> llvm::Error {
        for (const Action &action : list) {
          if (action.item >= items.size())
            return createStringError("an action names no item");
          if (placement[action.item] != Placement::Streamed)
            continue;
          if (action.kind == Action::Kind::Evict) {
            if (isHeld[action.item]) {
              isHeld[action.item] = false;
              llvm::erase(held, action.item);
            }
            continue;
          }
          if (isHeld[action.item])
            continue;
          if (llvm::Error error = onIssue(action.item, held, schedules[index]))
            return error;
          isHeld[action.item] = true;
          held.push_back(action.item);
        }
        return llvm::Error::success();
      };
      for (size_t step = 0; step < entry.before.size(); ++step) {
        if (llvm::Error error = run(entry.before[step]))
          return error;
        if (step < entry.after.size())
          if (llvm::Error error = run(entry.after[step]))
            return error;
      }
    }
  }
  return llvm::Error::success();
}

/// Greedy packing in `order`: each streamed item at the lowest offset,
/// aligned to a huge page for huge items when asked, that clears every item
/// placed before it that it is ever held with.
Slots packSlots(llvm::ArrayRef<Item> items, llvm::ArrayRef<unsigned> order,
                llvm::ArrayRef<llvm::BitVector> together, bool hugeAlign) {
  Slots slots;
  slots.offset.assign(items.size(), kNoSlot);
  std::vector<std::pair<uint64_t, uint64_t>> taken;
  for (unsigned item : order) {
    uint64_t span = pageRound(items[item].bytes);
    uint64_t align =
        hugeAlign && span >= kHugePageBytes ? kHugePageBytes : kPageBytes;
    taken.clear();
    for (unsigned other : together[item].set_bits())
      if (slots.offset[other] != kNoSlot)
        taken.push_back({slots.offset[other],
                         slots.offset[other] + pageRound(items[other].bytes)});
    llvm::sort(taken);
    uint64_t at = 0;
    for (auto [begin, end] : taken) {
      if (end <= at || begin == end)
        continue;
      if (begin >= at + span)
        break;
      at = (end + align - 1) / align * align;
    }
    slots.offset[item] = at;
    slots.poolBytes = std::max(slots.poolBytes, at + span);
  }
  return slots;
}

} // namespace

llvm::Expected<Slots> mlir::tvc::offload::assignSlots(
    llvm::ArrayRef<Item> items, llvm::ArrayRef<Placement> placement,
    llvm::ArrayRef<Schedule> schedules, llvm::ArrayRef<EntryActions> actions,
    uint64_t poolLimit) {
  // Which streamed items are ever held at the same time, and the order in
  // which they are first read.
  std::vector<llvm::BitVector> together(items.size(),
                                        llvm::BitVector(items.size()));
  std::vector<unsigned> byFirstRead;
  std::vector<bool> seen(items.size(), false);
  if (llvm::Error error = forEachIssue(
          items, placement, schedules, actions,
          [&](unsigned item, llvm::ArrayRef<unsigned> held, const Schedule &) {
            for (unsigned other : held) {
              together[item].set(other);
              together[other].set(item);
            }
            if (!seen[item])
              byFirstRead.push_back(item);
            seen[item] = true;
            return llvm::Error::success();
          }))
    return std::move(error);
  // Three greedy orders, the smallest pool kept: largest first (as
  // tvc-plan-memory packs the arena), first read first (a ring where the
  // reads follow one another), and most bytes held alongside first.
  std::vector<unsigned> bySize, byPressure;
  for (unsigned index = 0; index < items.size(); ++index)
    if (placement[index] == Placement::Streamed) {
      bySize.push_back(index);
      if (!seen[index])
        byFirstRead.push_back(index); // issued nowhere: no conflicts
    }
  auto span = [&](unsigned item) { return pageRound(items[item].bytes); };
  std::vector<uint64_t> pressure(items.size(), 0);
  for (unsigned item : bySize) {
    pressure[item] = span(item);
    for (unsigned other : together[item].set_bits())
      pressure[item] += span(other);
  }
  byPressure = bySize;
  llvm::stable_sort(bySize,
                    [&](unsigned a, unsigned b) { return span(a) > span(b); });
  llvm::stable_sort(byPressure, [&](unsigned a, unsigned b) {
    return pressure[a] > pressure[b];
  });
  // Huge page alignment when one of its packings fits the limit, else the
  // smallest pool of all.
  std::optional<Slots> best;
  for (bool hugeAlign : {true, false}) {
    for (llvm::ArrayRef<unsigned> order :
         {llvm::ArrayRef(bySize), llvm::ArrayRef(byFirstRead),
          llvm::ArrayRef(byPressure)}) {
      Slots slots = packSlots(items, order, together, hugeAlign);
      if (!best || slots.poolBytes < best->poolBytes)
        best = std::move(slots);
    }
    if (best->poolBytes <= poolLimit)
      break;
  }
  return std::move(*best);
}

llvm::Error mlir::tvc::offload::verifySlots(
    llvm::ArrayRef<Item> items, llvm::ArrayRef<Placement> placement,
    llvm::ArrayRef<Schedule> schedules, llvm::ArrayRef<EntryActions> actions,
    const Slots &slots) {
  if (slots.offset.size() != items.size())
    return createStringError("the slots need an offset per item");
  for (auto [index, item] : llvm::enumerate(items)) {
    uint64_t at = slots.offset[index];
    bool streamed = placement[index] == Placement::Streamed;
    if (!streamed) {
      if (at != kNoSlot)
        return createStringError("'" + item.name + "' is " +
                                 placementName(placement[index]).str() +
                                 " but has a pool slot");
      continue;
    }
    uint64_t span = pageRound(item.bytes);
    if (at == kNoSlot || at % kPageBytes != 0 || at > slots.poolBytes ||
        span > slots.poolBytes - at)
      return createStringError(llvm::formatv(
          "the slot of '{0}' ({1} bytes at {2}) is not a page-aligned range "
          "of the {3}-byte pool",
          item.name, span,
          at == kNoSlot ? std::string("none") : std::to_string(at),
          slots.poolBytes));
  }
  return forEachIssue(
      items, placement, schedules, actions,
      [&](unsigned item, llvm::ArrayRef<unsigned> held,
          const Schedule &schedule) -> llvm::Error {
        uint64_t begin = slots.offset[item];
        uint64_t end = begin + pageRound(items[item].bytes);
        for (unsigned other : held) {
          uint64_t otherBegin = slots.offset[other];
          uint64_t otherEnd = otherBegin + pageRound(items[other].bytes);
          if (begin < otherEnd && otherBegin < end)
            return createStringError(llvm::formatv(
                "'{0}' is read in '{1}' into pool bytes [{2}, {3}) while "
                "'{4}' holds [{5}, {6})",
                items[item].name, schedule.entry, begin, end, items[other].name,
                otherBegin, otherEnd));
        }
        return llvm::Error::success();
      });
}

llvm::Expected<Scheduled> mlir::tvc::offload::schedulePlan(
    llvm::ArrayRef<Item> items, llvm::ArrayRef<Placement> placement,
    llvm::ArrayRef<Schedule> schedules, const Options &options) {
  uint64_t fixed = residentBytes(items, placement) +
                   pagedReserve(items, placement, schedules);
  uint64_t poolLimit = options.budget - std::min(options.budget, fixed);
  Options scheduling = options;
  std::optional<Scheduled> unslotted;
  for (unsigned attempt = 0; attempt < 8; ++attempt) {
    auto actions = scheduleActions(items, placement, schedules, scheduling);
    if (!actions) {
      if (attempt == 0)
        return actions.takeError();
      llvm::consumeError(actions.takeError());
      break;
    }
    auto replay = simulate(items, placement, schedules, *actions, options);
    if (!replay)
      return replay.takeError();
    auto slots = assignSlots(items, placement, schedules, *actions, poolLimit);
    if (!slots)
      return slots.takeError();
    if (slots->poolBytes <= poolLimit) {
      // The packing's own check, against the same replay.
      if (llvm::Error error =
              verifySlots(items, placement, schedules, *actions, *slots))
        return std::move(error);
      return Scheduled{std::move(*actions), std::move(*replay),
                       std::move(*slots)};
    }
    if (!unslotted)
      unslotted = Scheduled{std::move(*actions), std::move(*replay), Slots()};
    // The packing fragments: holding fewer items at once (reading less far
    // ahead) leaves it more room.
    uint64_t excess = slots->poolBytes - poolLimit;
    if (scheduling.budget < fixed + excess)
      break;
    scheduling.budget -= excess;
  }
  return std::move(*unslotted);
}

llvm::Expected<Plan>
mlir::tvc::offload::planOffload(llvm::ArrayRef<Item> items,
                                llvm::ArrayRef<Schedule> schedules,
                                const Options &options) {
  if (llvm::Error error = checkSchedules(items, schedules))
    return std::move(error);
  if (!(options.readBytesPerSecond > 0))
    return createStringError("the read bandwidth must be positive");
  std::string where;
  uint64_t minimum =
      minimumBudget(items, schedules, &where, options.attentionOffload);
  if (options.budget < minimum)
    return createStringError("a budget of " + std::to_string(options.budget) +
                             " bytes is below the " + std::to_string(minimum) +
                             " bytes (" + mib(minimum) +
                             ") that any plan needs (the items read at " +
                             where + ", plus the pages gathers touch)");

  Plan plan;
  plan.options = options;
  plan.items.assign(items.begin(), items.end());

  // What items are read, and how.
  std::vector<bool> dense(items.size(), false), gathered(items.size(), false);
  for (const Schedule &schedule : schedules)
    for (const Use &use : schedule.uses)
      (use.gather ? gathered : dense)[use.item] = true;

  uint64_t total = 0;
  for (const Item &item : items)
    total += item.bytes;

  // A placement holds when its actions replay within the budget and its
  // slots fit the pool the budget leaves.
  auto attempt = [&](llvm::ArrayRef<Placement> placement) {
    return schedulePlan(items, placement, schedules, options);
  };

  // Everything resident if it fits; else what is read densely resident and
  // the gathered tables paged, if that fits; else streaming. Of the items
  // never read densely, a KV cache no entry point uses cannot be paged but
  // moves nothing (streamed, it holds no bytes), and one that must stay
  // resident holds its bytes beside the footprint.
  uint64_t pinnedUnread = 0;
  for (size_t index = 0; index < items.size(); ++index)
    if (!dense[index] && !items[index].movable)
      pinnedUnread += items[index].bytes;
  std::vector<Placement> placement(items.size(), Placement::Resident);
  if (total > options.budget &&
      residentFootprint(items, schedules) + pinnedUnread <= options.budget) {
    for (size_t index = 0; index < items.size(); ++index)
      if (!dense[index] && items[index].movable)
        placement[index] =
            items[index].kvCache ? Placement::Streamed : Placement::Paged;
    total = 0; // nothing to stream: no greedy search below
  } else if (total > options.budget) {
    for (size_t index = 0; index < items.size(); ++index) {
      const Item &item = items[index];
      bool insideLayer = item.layer >= 0;
      bool moved = options.planner == PlannerKind::Cost || insideLayer;
      if (!item.movable)
        continue;
      // A KV cache moves with its layer, or stays where attention can run.
      if (item.kvCache) {
        if (canStayWhereAttentionRuns(item, options.attentionOffload))
          placement[index] = Placement::HostAttention;
        else if (moved)
          placement[index] = Placement::Streamed;
        continue;
      }
      // Never read, or only gathered: demand-paged (never touched, or only
      // the touched rows).
      if (!dense[index])
        placement[index] = Placement::Paged;
      else if (moved)
        placement[index] = Placement::Streamed;
    }
  }
  auto best = attempt(placement);
  if (!best && options.planner == PlannerKind::Reference)
    return createStringError(
        llvm::toString(best.takeError()) +
        " (the reference planner keeps the " +
        mib(residentBytes(items, placement)) +
        " read outside layers resident; planner=cost may stream them)");
  if (!best)
    return best.takeError();

  if (options.planner == PlannerKind::Cost && total > options.budget) {
    // Greedily make the largest streamed items resident while the predicted
    // steady-state time does not grow.
    bool timed = llvm::all_of(schedules, [](const Schedule &schedule) {
      return !schedule.stepSeconds.empty();
    });
    // Two orders of candidates, the better result kept: largest first
    // (fewest bytes read), and most read time saved per byte of budget
    // first (small items, whose fixed read cost dominates).
    // An item no entry point reads densely moves nothing where it is:
    // resident, it would only spend budget (the greedy step accepts ties).
    std::vector<unsigned> candidates;
    for (unsigned index = 0; index < items.size(); ++index)
      if ((placement[index] == Placement::Streamed ||
           placement[index] == Placement::HostAttention) &&
          dense[index])
        candidates.push_back(index);
    auto saved = [&](unsigned index) {
      return (options.readOverheadSeconds +
              items[index].bytes / options.readBytesPerSecond) /
             static_cast<double>(std::max<uint64_t>(1, items[index].bytes));
    };
    std::vector<unsigned> bySize = candidates, byDensity = candidates;
    std::stable_sort(bySize.begin(), bySize.end(), [&](unsigned a, unsigned b) {
      return items[a].bytes > items[b].bytes;
    });
    std::stable_sort(byDensity.begin(), byDensity.end(),
                     [&](unsigned a, unsigned b) { return saved(a) > saved(b); });
    std::vector<Placement> start = placement;
    double startValue = objective(best->replay, timed);
    std::optional<Scheduled> winner;
    double winnerValue = 0;
    for (const std::vector<unsigned> &order : {bySize, byDensity}) {
      std::vector<Placement> trialPlacement = start;
      Scheduled current = *best;
      double value = startValue;
      // Moves one item to `to`, kept when the plan holds and is no slower.
      auto tryPlacement = [&](unsigned candidate, Placement to) {
        Placement from = trialPlacement[candidate];
        trialPlacement[candidate] = to;
        auto trial = attempt(trialPlacement);
        if (!trial) {
          llvm::consumeError(trial.takeError());
          trialPlacement[candidate] = from;
          return;
        }
        double trialValue = objective(trial->replay, timed);
        // A plan whose slots do not fit the pool is worse than one whose do
        // (the executor would allocate slots at run time, and may fragment).
        bool slotsLost =
            trial->slots.offset.empty() && !current.slots.offset.empty();
        bool slotsGained =
            !trial->slots.offset.empty() && current.slots.offset.empty();
        if (!slotsLost && (slotsGained || trialValue <= value * (1 + 1e-9))) {
          value = trialValue;
          current = std::move(*trial);
        } else {
          trialPlacement[candidate] = from;
        }
      };
      // A KV cache where attention runs may be faster streamed in (a fast
      // link, a slow host); then what the budget leaves becomes resident.
      for (unsigned candidate : order)
        if (trialPlacement[candidate] == Placement::HostAttention)
          tryPlacement(candidate, Placement::Streamed);
      for (unsigned candidate : order)
        tryPlacement(candidate, Placement::Resident);
      bool slotted = !current.slots.offset.empty();
      bool winnerSlotted = winner && !winner->slots.offset.empty();
      if (!winner || (slotted && !winnerSlotted) ||
          (slotted == winnerSlotted && value < winnerValue)) {
        winner = std::move(current);
        winnerValue = value;
        placement = trialPlacement;
      }
    }
    *best = std::move(*winner);
  }
  plan.placement = std::move(placement);
  plan.actions = std::move(best->actions);
  plan.replay = std::move(best->replay);
  plan.slots = std::move(best->slots);
  return plan;
}

std::optional<uint64_t>
mlir::tvc::offload::parseByteSize(llvm::StringRef text,
                                  std::optional<uint64_t> total,
                                  std::string &error) {
  text = text.trim();
  std::string original = text.str();
  if (text.empty()) {
    error = "needs a size (N bytes, e.g. 512MiB, or P% of the weights)";
    return std::nullopt;
  }
  double scale = 1;
  bool percent = false;
  static const std::pair<llvm::StringRef, double> units[] = {
      {"KiB", 1024.0},          {"MiB", 1024.0 * 1024},
      {"GiB", 1024.0 * 1024 * 1024}, {"KB", 1e3}, {"MB", 1e6},
      {"GB", 1e9},              {"B", 1}};
  if (text.consume_back("%")) {
    if (!total) {
      error = "expected a number of bytes, not a percentage";
      return std::nullopt;
    }
    percent = true;
  } else {
    for (auto [suffix, factor] : units)
      if (text.consume_back(suffix)) {
        scale = factor;
        break;
      }
  }
  double value;
  if (text.trim().getAsDouble(value) || !std::isfinite(value) || value <= 0) {
    error = "cannot read '" + original + "': expected a positive number of bytes "
            "with an optional unit (KiB, MiB, GiB, KB, MB, GB) or a "
            "percentage";
    return std::nullopt;
  }
  if (percent && value > 100) {
    error = "more than 100% of the weights: nothing to plan";
    return std::nullopt;
  }
  double bytes = percent ? value / 100 * static_cast<double>(*total)
                         : value * scale;
  if (bytes >= 1.8e19) {
    error = "too large";
    return std::nullopt;
  }
  return static_cast<uint64_t>(bytes);
}

void Plan::dump(llvm::raw_ostream &os,
                llvm::ArrayRef<Schedule> schedules) const {
  os << "offload plan: "
     << (options.planner == PlannerKind::Cost ? "cost" : "reference")
     << " planner, budget " << mib(options.budget) << ", peak "
     << mib(replay.peakBytes) << ", pool " << mib(slots.poolBytes) << "\n";
  for (Placement kind : {Placement::Resident, Placement::Streamed,
                         Placement::Paged, Placement::HostAttention}) {
    if (kind == Placement::HostAttention && !options.attentionOffload)
      continue;
    unsigned count = llvm::count(placement, kind);
    os << "  " << placementName(kind) << ": " << count << " items, "
       << mib(bytesPlaced(kind)) << "\n";
  }
  for (auto [index, schedule] : llvm::enumerate(schedules)) {
    os << "  entry '" << schedule.entry << "': " << schedule.numSteps
       << " steps, reads " << mib(replay.bytesRead[index]) << " per call";
    if (replay.bytesWritten[index] > 0)
      os << ", writes " << mib(replay.bytesWritten[index]);
    if (!schedule.stepSeconds.empty())
      os << llvm::formatv(", predicted {0:f3} ms ({1:f3} ms waiting)",
                          replay.seconds[index] * 1e3,
                          replay.stallSeconds[index] * 1e3);
    os << ", " << replay.coldWaits[index] << " unprefetched waits\n";
  }
  for (auto [index, item] : llvm::enumerate(items)) {
    os << "  " << placementName(placement[index]) << " " << item.name << " "
       << item.bytes
       << (item.layer >= 0 ? " layer " + std::to_string(item.layer)
                           : std::string())
       << (item.kvCache ? " kv-cache" : "");
    if (index < slots.offset.size() && slots.offset[index] != kNoSlot)
      os << " slot " << slots.offset[index];
    os << "\n";
  }
}

llvm::json::Value Plan::toJSON(llvm::ArrayRef<Schedule> schedules) const {
  llvm::json::Array itemList;
  for (auto [index, item] : llvm::enumerate(items)) {
    llvm::json::Object object{{"name", item.name},
                              {"bytes", item.bytes},
                              {"layer", item.layer},
                              {"kv_cache", item.kvCache},
                              {"placement", placementName(placement[index])}};
    if (index < slots.offset.size() && slots.offset[index] != kNoSlot)
      object["slot_offset"] = slots.offset[index];
    itemList.push_back(std::move(object));
  }
  auto kindName = [](Action::Kind kind) {
    switch (kind) {
    case Action::Kind::Prefetch:
      return "prefetch";
    case Action::Kind::Wait:
      return "wait";
    case Action::Kind::Evict:
      return "evict";
    }
    return "?";
  };
  llvm::json::Array entries;
  for (auto [index, schedule] : llvm::enumerate(schedules)) {
    llvm::json::Array list;
    const EntryActions &entry = actions[index];
    for (unsigned step = 0; step < schedule.numSteps; ++step) {
      // "<step> before|after <action> <item>", one string per action.
      for (const Action &action : entry.before[step])
        list.push_back(llvm::formatv("{0} before {1} {2}", step,
                                     kindName(action.kind),
                                     items[action.item].name)
                           .str());
      for (const Action &action : entry.after[step])
        list.push_back(llvm::formatv("{0} after {1} {2}", step,
                                     kindName(action.kind),
                                     items[action.item].name)
                           .str());
    }
    llvm::json::Object object{{"entry", schedule.entry},
                              {"steps", schedule.numSteps},
                              {"bytes_read", replay.bytesRead[index]},
                              {"bytes_written", replay.bytesWritten[index]},
                              {"unprefetched_waits", replay.coldWaits[index]},
                              {"actions", std::move(list)}};
    if (!schedule.stepSeconds.empty()) {
      object["predicted_seconds"] = replay.seconds[index];
      object["predicted_stall_seconds"] = replay.stallSeconds[index];
    }
    entries.push_back(std::move(object));
  }
  return llvm::json::Object{
      {"planner", options.planner == PlannerKind::Cost ? "cost" : "reference"},
      {"budget_bytes", options.budget},
      {"read_bytes_per_second", options.readBytesPerSecond},
      {"peak_bytes", replay.peakBytes},
      {"resident_bytes", bytesPlaced(Placement::Resident)},
      {"streamed_bytes", bytesPlaced(Placement::Streamed)},
      {"paged_bytes", bytesPlaced(Placement::Paged)},
      {"pool_bytes", slots.poolBytes},
      {"attention_offload", options.attentionOffload},
      {"items", std::move(itemList)},
      {"entries", std::move(entries)}};
}
