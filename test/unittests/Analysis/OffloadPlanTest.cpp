//===- OffloadPlanTest.cpp - The offload planners' invariants -------------===//
//
// Hand-made schedules with known plans, and randomised schedules replayed by
// a checker written here (independent of offload::simulate): at every step
// every dense read is resident and the bytes held stay within the budget.
// With KV caches: placements suit their items (KV caches never paged,
// host attention only for caches and with attention offload, items that
// must stay resident do), a cache moves only within a call that uses it
// (never read ahead for the next one), a streamed cache reads its valid
// rows and writes its new ones back, and the planners' replays agree with
// the checker's bytes.
//
//===----------------------------------------------------------------------===//

#include "passes/Analysis/OffloadPlan.h"
#include "test/unittests/Analysis/RandomOffloadModel.h"

#include "llvm/ADT/STLExtras.h"

#include "gtest/gtest.h"

#include <map>
#include <random>
#include <set>

using namespace mlir::tvc::offload;

namespace {

constexpr uint64_t kPage = kPageBytes;

/// A model of `layers` layers reading `perLayer` items each (one step per
/// item), with an embedding gathered at step 0 and read densely by the
/// head at the end, like a tied GPT-2.
struct Model {
  std::vector<Item> items;
  std::vector<Schedule> schedules;
};

Model layeredModel(unsigned layers, unsigned perLayer, uint64_t itemBytes,
                   uint64_t tableBytes) {
  Model model;
  model.items.push_back({"table", tableBytes, -1});
  Schedule schedule;
  schedule.entry = "decode";
  unsigned step = 1;
  for (unsigned layer = 0; layer < layers; ++layer)
    for (unsigned index = 0; index < perLayer; ++index) {
      model.items.push_back(
          {"l" + std::to_string(layer) + "." + std::to_string(index), itemBytes,
           static_cast<int>(layer)});
      unsigned item = model.items.size() - 1;
      schedule.uses.push_back({item, step, step, false, 0});
      ++step;
    }
  schedule.uses.push_back({0, 0, 0, true, kPage});
  schedule.uses.push_back({0, step, step, false, 0});
  schedule.numSteps = step + 1;
  schedule.stepSeconds.assign(schedule.numSteps, 1e-3);
  model.schedules.push_back(schedule);
  return model;
}

/// Gather reserve, recomputed here: per schedule, the touched pages of every
/// gathered item that is not resident; the largest schedule's.
uint64_t gatherReserve(const Plan &plan, llvm::ArrayRef<Schedule> schedules) {
  uint64_t reserve = 0;
  for (const Schedule &schedule : schedules) {
    uint64_t touched = 0;
    for (const Use &use : schedule.uses)
      if (use.gather && plan.placement[use.item] != Placement::Resident)
        touched += std::min(pageRound(use.touchedBytes),
                            pageRound(plan.items[use.item].bytes));
    reserve = std::max(reserve, touched);
  }
  return reserve;
}

/// Replays calls [s, s, successor, successor, s] for every schedule s and
/// fails the test where a placement does not suit its item, a dense read is
/// not resident, the budget breaks, or a KV cache is read ahead across
/// calls; the steady-state bytes read and written and the peak must match
/// the plan's own replay.
void checkPlan(const Plan &plan, llvm::ArrayRef<Schedule> schedules) {
  const Options &options = plan.options;
  ASSERT_EQ(plan.placement.size(), plan.items.size());
  ASSERT_EQ(plan.actions.size(), schedules.size());
  for (auto [item, where] : llvm::zip_equal(plan.items, plan.placement)) {
    if (!item.movable)
      ASSERT_EQ(where, Placement::Resident) << item.name << " was moved";
    if (item.kvCache)
      ASSERT_NE(where, Placement::Paged) << "KV cache " << item.name;
    if (where == Placement::HostAttention) {
      ASSERT_TRUE(item.kvCache) << item.name;
      ASSERT_TRUE(options.attentionOffload) << item.name;
    }
  }
  uint64_t fixed = gatherReserve(plan, schedules);
  for (auto [item, where] : llvm::zip_equal(plan.items, plan.placement))
    if (where == Placement::Resident)
      fixed += pageRound(item.bytes);
  ASSERT_LE(fixed, options.budget);
  uint64_t peak = fixed;
  for (size_t start = 0; start < schedules.size(); ++start) {
    // Held: prefetched or waited for; waited: may be read.
    std::set<unsigned> held, waited;
    uint64_t bytes = fixed;
    unsigned next = schedules[start].successor;
    unsigned sequence[] = {unsigned(start), unsigned(start), next, next,
                           unsigned(start)};
    for (unsigned call = 0; call < 5; ++call) {
      unsigned index = sequence[call];
      const Schedule &schedule = schedules[index];
      const EntryActions &actions = plan.actions[index];
      ASSERT_EQ(actions.before.size(), schedule.numSteps);
      ASSERT_EQ(actions.after.size(), schedule.numSteps);
      std::map<unsigned, const Use *> kvUse;
      for (const Use &use : schedule.uses)
        if (!use.gather && plan.items[use.item].kvCache)
          kvUse[use.item] = &use;
      uint64_t read = 0, written = 0;
      auto bring = [&](unsigned item) {
        if (!held.insert(item).second)
          return;
        bytes += pageRound(plan.items[item].bytes);
        peak = std::max(peak, bytes);
        read += plan.items[item].kvCache ? kvUse.at(item)->kvReadBytes
                                         : plan.items[item].bytes;
        ASSERT_LE(bytes, options.budget)
            << "reading " << plan.items[item].name << " in " << schedule.entry;
      };
      auto apply = [&](const std::vector<Action> &list, unsigned step,
                       bool before) {
        for (const Action &action : list) {
          ASSERT_LT(action.item, plan.items.size());
          const Item &item = plan.items[action.item];
          Placement where = plan.placement[action.item];
          ASSERT_NE(where, Placement::Resident) << item.name;
          ASSERT_NE(where, Placement::HostAttention) << item.name;
          if (where == Placement::Paged) {
            ASSERT_EQ(action.kind, Action::Kind::Evict) << item.name;
            continue;
          }
          if (item.kvCache) {
            // A KV cache moves only in a call that uses it, and is read
            // no later than its first use (not after it, for the next
            // call).
            ASSERT_TRUE(kvUse.count(action.item))
                << schedule.entry << " moves KV cache " << item.name
                << ", which it does not use";
            if (action.kind == Action::Kind::Prefetch)
              ASSERT_TRUE(before ? step <= kvUse[action.item]->first
                                 : step < kvUse[action.item]->first)
                  << schedule.entry << " reads KV cache " << item.name
                  << " ahead at step " << step << " after its use";
          }
          switch (action.kind) {
          case Action::Kind::Prefetch:
            bring(action.item);
            break;
          case Action::Kind::Wait:
            bring(action.item);
            waited.insert(action.item);
            break;
          case Action::Kind::Evict:
            ASSERT_TRUE(waited.erase(action.item)) << item.name;
            ASSERT_TRUE(held.erase(action.item)) << item.name;
            bytes -= pageRound(item.bytes);
            if (item.kvCache)
              written += kvUse[action.item]->kvWriteBytes;
            break;
          }
          if (::testing::Test::HasFatalFailure())
            return;
        }
      };
      for (unsigned step = 0; step < schedule.numSteps; ++step) {
        apply(actions.before[step], step, true);
        if (::testing::Test::HasFatalFailure())
          return;
        for (const Use &use : schedule.uses)
          if (!use.gather && use.first <= step && step <= use.last &&
              plan.placement[use.item] == Placement::Streamed)
            ASSERT_TRUE(waited.count(use.item))
                << plan.items[use.item].name << " at step " << step;
        apply(actions.after[step], step, false);
        if (::testing::Test::HasFatalFailure())
          return;
      }
      for (unsigned item : held)
        ASSERT_FALSE(plan.items[item].kvCache)
            << schedule.entry << " holds KV cache " << plan.items[item].name
            << " into the next call";
      if (call == 1) {
        EXPECT_EQ(read, plan.replay.bytesRead[index]) << schedule.entry;
        EXPECT_EQ(written, plan.replay.bytesWritten[index]) << schedule.entry;
      }
    }
  }
  EXPECT_EQ(peak, plan.replay.peakBytes);
}

TEST(OffloadPlan, EverythingFitsStaysResident) {
  Model model = layeredModel(3, 2, 10 * kPage, 20 * kPage);
  Options options;
  options.budget = 1 << 30;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  for (Placement where : plan->placement)
    EXPECT_EQ(where, Placement::Resident);
  for (const auto &step : plan->actions[0].before)
    EXPECT_TRUE(step.empty());
  EXPECT_EQ(plan->replay.bytesRead[0], 0u);
}

TEST(OffloadPlan, AtTheFootprintNothingStreams) {
  Model model = layeredModel(3, 2, 10 * kPage, 20 * kPage);
  model.schedules[0].uses.pop_back(); // the table is only gathered
  // Six 10-page matrices and the one page the gather touches.
  EXPECT_EQ(residentFootprint(model.items, model.schedules), 61 * kPage);
  Options options;
  options.budget = 61 * kPage;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  EXPECT_EQ(plan->placement[0], Placement::Paged);
  for (size_t index = 1; index < plan->items.size(); ++index)
    EXPECT_EQ(plan->placement[index], Placement::Resident);
  EXPECT_EQ(plan->replay.bytesRead[0], 0u);
  checkPlan(*plan, model.schedules);
}

TEST(OffloadPlan, BelowTheMinimumNamesIt) {
  Model model = layeredModel(3, 2, 10 * kPage, 20 * kPage);
  // The largest dense read is the table (20 pages) plus the reserve of its
  // gathered page.
  EXPECT_EQ(minimumBudget(model.items, model.schedules), 21 * kPage);
  Options options;
  options.budget = 20 * kPage;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_FALSE(static_cast<bool>(plan));
  std::string message = llvm::toString(plan.takeError());
  EXPECT_NE(message.find(std::to_string(21 * kPage) + " bytes ("),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("step 7 of 'decode': table"), std::string::npos)
      << message;
}

TEST(OffloadPlan, ReferenceStreamsLayersOneAhead) {
  // Four layers: the last is held while the next call's first is read
  // ahead, and an item has one pool slot in every call, so layers 0 and 2
  // share slots, as do 1 and 3 (with three layers no two could).
  Model model = layeredModel(4, 2, 10 * kPage, 20 * kPage);
  Options options;
  options.planner = PlannerKind::Reference;
  options.depth = 1;
  options.budget = 60 * kPage; // table resident (20) + 40 of streaming
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  EXPECT_EQ(plan->placement[0], Placement::Resident);
  for (size_t index = 1; index < plan->items.size(); ++index)
    EXPECT_EQ(plan->placement[index], Placement::Streamed);
  // Depth 1: at the start, layers 0 and 1 are read ahead, not layer 2.
  const EntryActions &actions = plan->actions[0];
  std::vector<Action> expected = {{Action::Kind::Prefetch, 1},
                                  {Action::Kind::Prefetch, 2},
                                  {Action::Kind::Prefetch, 3},
                                  {Action::Kind::Prefetch, 4}};
  EXPECT_EQ(actions.before[0], expected);
  // After layer 0's second item, layer 2 comes in.
  std::vector<Action> afterLayer0 = {{Action::Kind::Evict, 2},
                                     {Action::Kind::Prefetch, 5},
                                     {Action::Kind::Prefetch, 6}};
  EXPECT_EQ(actions.after[2], afterLayer0);
  // In the steady state every wait finds its item prefetched.
  EXPECT_EQ(plan->replay.coldWaits[0], 0u);
  checkPlan(*plan, model.schedules);
}

TEST(OffloadPlan, CostKeepsWhatFitsResident) {
  Model model = layeredModel(4, 2, 10 * kPage, 20 * kPage);
  Options options;
  options.budget = 60 * kPage;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  uint64_t total = 20 * kPage + 8 * 10 * kPage;
  EXPECT_GT(plan->bytesPlaced(Placement::Resident), 0u);
  EXPECT_EQ(plan->replay.bytesRead[0],
            total - plan->bytesPlaced(Placement::Resident));
  EXPECT_LE(plan->replay.peakBytes, options.budget);
  checkPlan(*plan, model.schedules);
  // A larger budget never predicts a slower call.
  Options more = options;
  more.budget = 120 * kPage;
  auto larger = planOffload(model.items, model.schedules, more);
  ASSERT_TRUE(static_cast<bool>(larger));
  EXPECT_LE(larger->replay.seconds[0], plan->replay.seconds[0] + 1e-12);
}

TEST(OffloadPlan, GatherOnlyTablesArePaged) {
  Model model = layeredModel(2, 1, 10 * kPage, 50 * kPage);
  // Make the table gather-only.
  model.schedules[0].uses.pop_back();
  Options options;
  options.budget = 25 * kPage;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  EXPECT_EQ(plan->placement[0], Placement::Paged);
  // Its touched pages are dropped after the gather at step 0.
  std::vector<Action> expected = {{Action::Kind::Evict, 0}};
  bool found = false;
  for (const Action &action : plan->actions[0].after[0])
    found |= action == expected[0];
  EXPECT_TRUE(found);
  checkPlan(*plan, model.schedules);
}

TEST(OffloadPlan, DumpAndJsonSayWhatWasPlanned) {
  Model model = layeredModel(3, 2, 10 * kPage, 20 * kPage);
  Options options;
  options.planner = PlannerKind::Reference;
  options.budget = 60 * kPage;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  std::string text;
  llvm::raw_string_ostream os(text);
  plan->dump(os, model.schedules);
  EXPECT_NE(text.find("offload plan: reference planner, budget 0.23 MiB"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  resident: 1 items, 0.08 MiB\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  streamed: 6 items, 0.23 MiB\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  streamed l2.1 40960 layer 2 slot "), std::string::npos)
      << text;
  llvm::json::Value json = plan->toJSON(model.schedules);
  const llvm::json::Object *object = json.getAsObject();
  ASSERT_TRUE(object);
  EXPECT_EQ(object->getInteger("budget_bytes"), int64_t(60 * kPage));
  EXPECT_EQ(object->getString("planner"), llvm::StringRef("reference"));
  const llvm::json::Array *entries = object->getArray("entries");
  ASSERT_TRUE(entries && entries->size() == 1);
  const llvm::json::Array *actions =
      (*entries)[0].getAsObject()->getArray("actions");
  ASSERT_TRUE(actions && !actions->empty());
  EXPECT_EQ((*actions)[0].getAsString(),
            llvm::StringRef("0 before prefetch l0.0"));
}

TEST(OffloadPlan, SizesParse) {
  std::string error;
  EXPECT_EQ(parseByteSize("512MiB", std::nullopt, error), 512u << 20);
  EXPECT_EQ(parseByteSize(" 1.5GB ", std::nullopt, error), 1500000000u);
  EXPECT_EQ(parseByteSize("25%", 1000u, error), 250u);
  EXPECT_EQ(parseByteSize("4096", std::nullopt, error), 4096u);
  EXPECT_FALSE(parseByteSize("25%", std::nullopt, error));
  EXPECT_FALSE(parseByteSize("101%", 1000u, error));
  EXPECT_FALSE(parseByteSize("-3", std::nullopt, error));
  EXPECT_FALSE(parseByteSize("lots", std::nullopt, error));
  EXPECT_NE(error.find("cannot read 'lots'"), std::string::npos) << error;
  EXPECT_FALSE(parseByteSize("", std::nullopt, error));
}

TEST(OffloadPlan, InvalidSchedulesAreRejected) {
  Model model = layeredModel(1, 1, kPage, kPage);
  Options options;
  options.budget = 1 << 20;
  Model bad = model;
  bad.schedules[0].uses.push_back({1, 0, 0, false, 0}); // item 1 twice
  EXPECT_FALSE(
      static_cast<bool>(planOffload(bad.items, bad.schedules, options)));
  bad = model;
  bad.schedules[0].uses[0].last = 99;
  auto plan = planOffload(bad.items, bad.schedules, options);
  ASSERT_FALSE(static_cast<bool>(plan));
  EXPECT_NE(llvm::toString(plan.takeError()).find("outside"),
            std::string::npos);
  bad = model;
  bad.schedules[0].successor = 3;
  EXPECT_FALSE(
      static_cast<bool>(planOffload(bad.items, bad.schedules, options)));
}

TEST(OffloadPlan, SimulateCatchesAMissingWait) {
  Model model = layeredModel(2, 1, 10 * kPage, 10 * kPage);
  Options options;
  options.budget = 25 * kPage;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  std::vector<EntryActions> actions = plan->actions;
  bool removed = false;
  for (auto &step : actions[0].before)
    for (auto it = step.begin(); it != step.end() && !removed; ++it)
      if (it->kind == Action::Kind::Wait) {
        step.erase(it);
        removed = true;
        break;
      }
  ASSERT_TRUE(removed);
  auto replay =
      simulate(plan->items, plan->placement, model.schedules, actions, options);
  EXPECT_FALSE(static_cast<bool>(replay));
  llvm::consumeError(replay.takeError());
}

/// Random models: items of random sizes read over random ranges (some
/// gathered), two entry points (prefill -> decode -> decode), random
/// budgets between the minimum and the total.
TEST(OffloadPlan, RandomSchedulesKeepTheInvariants) {
  std::mt19937 random(1234);
  unsigned planned = 0;
  for (unsigned trial = 0; trial < 300; ++trial) {
    tvc::test::RandomModel model = tvc::test::randomModel(random, {});
    const std::vector<Schedule> &schedules = model.schedules;
    tvc::test::planWithBothPlanners(
        model, random, trial, [&](const Plan &plan, const Options &options) {
          ++planned;
          checkPlan(plan, schedules);
          if (HasFatalFailure())
            return;
          EXPECT_LE(plan.replay.peakBytes, options.budget);
        });
    if (HasFatalFailure())
      return;
    uint64_t minimum = minimumBudget(model.items, schedules);
    Options below;
    below.budget = minimum - 1;
    auto plan = planOffload(model.items, schedules, below);
    EXPECT_FALSE(static_cast<bool>(plan));
    if (!plan)
      llvm::consumeError(plan.takeError());
  }
  EXPECT_GT(planned, 300u);
}

/// A decoder of `layers` layers with KV caches, like plan-offload-kv.mlir:
/// per layer a weight read at one step, a key and a value cache updated at
/// the next two steps and read by the attention at the third. Items per
/// layer l: w<l> (3l), k<l> (3l + 1), v<l> (3l + 2). Prefill and decode
/// share the caches; decode follows both. Every call reads `kvRead` valid
/// bytes of each streamed cache and writes back `prefillWrite` or
/// `decodeWrite` new ones.
Model kvModel(unsigned layers, uint64_t weightBytes, uint64_t cacheBytes,
              uint64_t kvRead, uint64_t prefillWrite, uint64_t decodeWrite) {
  Model model;
  for (unsigned layer = 0; layer < layers; ++layer) {
    std::string suffix = std::to_string(layer);
    model.items.push_back({"w" + suffix, weightBytes, int(layer)});
    model.items.push_back({"k" + suffix, cacheBytes, int(layer), true});
    model.items.push_back({"v" + suffix, cacheBytes, int(layer), true});
  }
  for (llvm::StringRef entry : {"prefill", "decode"}) {
    Schedule schedule;
    schedule.entry = entry.str();
    schedule.successor = 1;
    uint64_t write = entry == "prefill" ? prefillWrite : decodeWrite;
    for (unsigned layer = 0; layer < layers; ++layer) {
      unsigned step = 4 * layer;
      schedule.uses.push_back({3 * layer, step, step, false, 0});
      schedule.uses.push_back(
          {3 * layer + 1, step + 1, step + 3, false, 0, kvRead, write});
      schedule.uses.push_back(
          {3 * layer + 2, step + 2, step + 3, false, 0, kvRead, write});
    }
    schedule.numSteps = 4 * layers;
    schedule.stepSeconds.assign(schedule.numSteps, 1e-4);
    model.schedules.push_back(schedule);
  }
  return model;
}

/// Bytes of the weights (not KV caches) placed `where`.
uint64_t weightBytes(const Plan &plan, Placement where) {
  uint64_t total = 0;
  for (auto [item, placed] : llvm::zip_equal(plan.items, plan.placement))
    if (!item.kvCache && placed == where)
      total += item.bytes;
  return total;
}

bool namesKvCache(const Plan &plan) {
  for (const EntryActions &entry : plan.actions)
    for (const auto *lists : {&entry.before, &entry.after})
      for (const std::vector<Action> &list : *lists)
        for (const Action &action : list)
          if (plan.items[action.item].kvCache)
            return true;
  return false;
}

// Two layers: 8 pages of weights, four 64-page caches (256 pages); each call
// reads 16 pages of valid rows per cache, decode writes one 256-byte row,
// prefill 8 pages.
constexpr uint64_t kKvRead = 16 * kPage, kPrefillWrite = 8 * kPage,
                   kDecodeWrite = 256;
Model largeCacheModel() {
  return kvModel(2, 4 * kPage, 64 * kPage, kKvRead, kPrefillWrite,
                 kDecodeWrite);
}

TEST(OffloadPlan, KvCachesCountInTheBudget) {
  Model model = largeCacheModel();
  // The attention of a layer reads both its caches: 128 pages at least.
  std::string where;
  EXPECT_EQ(minimumBudget(model.items, model.schedules, &where), 128 * kPage);
  EXPECT_NE(where.find("step 2 of 'prefill': k0, v0"), std::string::npos)
      << where;
  Options options;
  options.budget = 264 * kPage; // weights and caches: nothing moves
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  for (Placement placed : plan->placement)
    EXPECT_EQ(placed, Placement::Resident);
  EXPECT_EQ(plan->replay.bytesRead[1], 0u);
  EXPECT_EQ(plan->replay.bytesWritten[1], 0u);
  checkPlan(*plan, model.schedules);
  options.budget = 264 * kPage - 1;
  plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  EXPECT_GT(plan->bytesPlaced(Placement::Streamed), 0u);
  checkPlan(*plan, model.schedules);
}

TEST(OffloadPlan, CostStreamsLargeKvCaches) {
  Model model = largeCacheModel();
  Options options;
  // One layer's caches and the weights: no cache fits resident beside the
  // streaming window of the other layer's two.
  options.budget = 140 * kPage;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  for (auto [item, placed] : llvm::zip_equal(plan->items, plan->placement))
    if (item.kvCache)
      EXPECT_EQ(placed, Placement::Streamed) << item.name;
  // The weights are worth keeping.
  EXPECT_EQ(weightBytes(*plan, Placement::Resident), 8 * kPage);
  // Each call reads the valid rows of the four caches (not the whole
  // caches) and the streamed weights, and writes back its new rows.
  for (unsigned index : {0u, 1u}) {
    EXPECT_EQ(plan->replay.bytesRead[index],
              4 * kKvRead + weightBytes(*plan, Placement::Streamed));
    EXPECT_LT(plan->replay.bytesRead[index], 4 * 64 * kPage);
  }
  EXPECT_EQ(plan->replay.bytesWritten[0], 4 * kPrefillWrite);
  EXPECT_EQ(plan->replay.bytesWritten[1], 4 * kDecodeWrite);
  EXPECT_LE(plan->replay.peakBytes, options.budget);
  checkPlan(*plan, model.schedules);
}

TEST(OffloadPlan, FastHostKeepsKvCachesWhereAttentionRuns) {
  Model model = largeCacheModel();
  Options options;
  options.budget = 140 * kPage;
  options.attentionOffload = true; // default speeds: the host is fast
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  // Two caches fit resident beside the weights; the others stay where
  // attention runs and nothing of a cache is read, written or named.
  unsigned hosted = 0;
  for (auto [item, placed] : llvm::zip_equal(plan->items, plan->placement)) {
    if (!item.kvCache)
      continue;
    EXPECT_NE(placed, Placement::Streamed) << item.name;
    hosted += placed == Placement::HostAttention;
  }
  EXPECT_GE(hosted, 2u);
  EXPECT_FALSE(namesKvCache(*plan));
  for (unsigned index : {0u, 1u}) {
    EXPECT_EQ(plan->replay.bytesRead[index],
              weightBytes(*plan, Placement::Streamed));
    EXPECT_EQ(plan->replay.bytesWritten[index], 0u);
  }
  checkPlan(*plan, model.schedules);
  std::string text;
  llvm::raw_string_ostream os(text);
  plan->dump(os, model.schedules);
  EXPECT_NE(text.find("  host_attention k1 262144 layer 1 kv-cache\n"),
            std::string::npos)
      << text;
}

TEST(OffloadPlan, SlowHostStreamsKvCachesInstead) {
  Model model = largeCacheModel();
  Options options;
  options.budget = 140 * kPage;
  options.attentionOffload = true;
  options.hostAttentionBytesPerSecond = 1e6;
  options.attentionLatencySeconds = 1e-2;
  options.readBytesPerSecond = 1e12;
  options.readOverheadSeconds = 0;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  for (auto [item, placed] : llvm::zip_equal(plan->items, plan->placement))
    if (item.kvCache)
      EXPECT_EQ(placed, Placement::Streamed) << item.name;
  EXPECT_EQ(plan->replay.bytesRead[1],
            4 * kKvRead + weightBytes(*plan, Placement::Streamed));
  EXPECT_EQ(plan->replay.bytesWritten[1], 4 * kDecodeWrite);
  checkPlan(*plan, model.schedules);
}

TEST(OffloadPlan, PinnedKvCachesStayAndCount) {
  Model model = largeCacheModel();
  // Layer 1 keeps a ring of 4 pages per cache: it must stay resident.
  for (unsigned index : {4u, 5u}) {
    model.items[index].bytes = 4 * kPage;
    model.items[index].movable = false;
  }
  std::string where;
  EXPECT_EQ(minimumBudget(model.items, model.schedules, &where),
            (128 + 8) * kPage);
  EXPECT_NE(where.find("k0, v0, plus 0.03 MiB that must stay resident"),
            std::string::npos)
      << where;
  // With attention offload the movable caches need no budget: the largest
  // read is a weight.
  EXPECT_EQ(minimumBudget(model.items, model.schedules, &where, true),
            (4 + 8) * kPage);
  EXPECT_NE(where.find("w0, plus 0.03 MiB that must stay resident"),
            std::string::npos)
      << where;

  Options options;
  options.budget = (128 + 8) * kPage - 1;
  auto below = planOffload(model.items, model.schedules, options);
  ASSERT_FALSE(static_cast<bool>(below));
  std::string message = llvm::toString(below.takeError());
  EXPECT_NE(message.find("must stay resident"), std::string::npos) << message;

  for (PlannerKind kind : {PlannerKind::Cost, PlannerKind::Reference}) {
    options.planner = kind;
    options.budget = (128 + 8) * kPage;
    auto plan = planOffload(model.items, model.schedules, options);
    ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
    EXPECT_EQ(plan->placement[4], Placement::Resident);
    EXPECT_EQ(plan->placement[5], Placement::Resident);
    if (kind == PlannerKind::Reference)
      EXPECT_EQ(plan->placement[1], Placement::Streamed);
    checkPlan(*plan, model.schedules);
  }

  options.planner = PlannerKind::Cost;
  options.attentionOffload = true;
  options.budget = (4 + 8) * kPage;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  EXPECT_EQ(plan->placement[1], Placement::HostAttention);
  EXPECT_EQ(plan->placement[2], Placement::HostAttention);
  EXPECT_EQ(plan->placement[4], Placement::Resident);
  EXPECT_EQ(plan->placement[5], Placement::Resident);
  checkPlan(*plan, model.schedules);
}

TEST(OffloadPlan, UnreadKvCachesAreNeverPaged) {
  // A cache no entry point uses and a pinned one likewise (found by the
  // random test: where what is read fits resident, items never read densely
  // were paged, which a KV cache cannot be and a pinned item must not).
  Model model = largeCacheModel();
  model.items.push_back({"unused", 16 * kPage, -1, true});
  model.items.push_back({"ring", 2 * kPage, -1, true, false});
  for (PlannerKind kind : {PlannerKind::Cost, PlannerKind::Reference}) {
    Options options;
    options.planner = kind;
    // What is read (264 pages) and the pinned cache: nothing moves.
    options.budget = 266 * kPage;
    auto plan = planOffload(model.items, model.schedules, options);
    ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
    EXPECT_EQ(plan->placement[6], Placement::Streamed);
    EXPECT_EQ(plan->placement[7], Placement::Resident);
    EXPECT_EQ(plan->replay.bytesRead[1], 0u);
    checkPlan(*plan, model.schedules);
  }
  Options options;
  options.budget = 266 * kPage - 1;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  EXPECT_EQ(plan->placement[7], Placement::Resident);
  EXPECT_GT(plan->replay.bytesRead[1], 0u);
  checkPlan(*plan, model.schedules);
}

/// The most layers whose streamed items one call of `index` holds at once,
/// from a cold start.
size_t mostLayersHeld(const Plan &plan, unsigned index) {
  const EntryActions &actions = plan.actions[index];
  std::set<unsigned> held;
  size_t most = 0;
  auto apply = [&](const std::vector<Action> &list) {
    for (const Action &action : list) {
      if (action.kind == Action::Kind::Evict)
        held.erase(action.item);
      else
        held.insert(action.item);
      std::set<int> layers;
      for (unsigned item : held)
        layers.insert(plan.items[item].layer);
      most = std::max(most, layers.size());
    }
  };
  for (size_t step = 0; step < actions.before.size(); ++step) {
    apply(actions.before[step]);
    apply(actions.after[step]);
  }
  return most;
}

TEST(OffloadPlan, ReferenceStreamsKvCachesWithTheirLayer) {
  // Four layers of a 4-page weight and two 8-page caches; the budget holds
  // all but one page, so only the depth limits the reads ahead.
  Model model = kvModel(4, 4 * kPage, 8 * kPage, 2 * kPage, kPage, 256);
  Options options;
  options.planner = PlannerKind::Reference;
  options.depth = 1;
  options.budget = 80 * kPage - 1;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  for (Placement placed : plan->placement)
    EXPECT_EQ(placed, Placement::Streamed);
  // Depth 1: a call starts reading layers 0 and 1, caches included.
  const EntryActions &decode = plan->actions[1];
  std::vector<Action> start;
  for (unsigned item = 0; item < 6; ++item)
    start.push_back({Action::Kind::Prefetch, item});
  start.push_back({Action::Kind::Wait, 0});
  EXPECT_EQ(decode.before[0], start);
  // Layer 2 comes in when layer 0's caches leave after its attention.
  std::vector<Action> afterAttention0 = {{Action::Kind::Evict, 1},
                                         {Action::Kind::Evict, 2},
                                         {Action::Kind::Prefetch, 6},
                                         {Action::Kind::Prefetch, 7},
                                         {Action::Kind::Prefetch, 8}};
  EXPECT_EQ(decode.after[3], afterAttention0);
  std::vector<Action> afterAttention1 = {{Action::Kind::Evict, 4},
                                         {Action::Kind::Evict, 5},
                                         {Action::Kind::Prefetch, 9},
                                         {Action::Kind::Prefetch, 10},
                                         {Action::Kind::Prefetch, 11}};
  EXPECT_EQ(decode.after[7], afterAttention1);
  // Beside the last layer comes the next call's first weight, but never
  // its caches: nothing more is read at the end.
  std::vector<Action> afterAttention2 = {{Action::Kind::Evict, 7},
                                         {Action::Kind::Evict, 8},
                                         {Action::Kind::Prefetch, 0}};
  EXPECT_EQ(decode.after[11], afterAttention2);
  std::vector<Action> end = {{Action::Kind::Evict, 10},
                             {Action::Kind::Evict, 11}};
  EXPECT_EQ(decode.after[15], end);
  EXPECT_EQ(mostLayersHeld(*plan, 1), 2u);
  EXPECT_EQ(plan->replay.bytesRead[1], 4 * (4 * kPage + 2 * 2 * kPage));
  EXPECT_EQ(plan->replay.bytesWritten[1], 8 * 256u);
  checkPlan(*plan, model.schedules);

  options.depth = 2;
  plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  start.clear();
  for (unsigned item = 0; item < 9; ++item)
    start.push_back({Action::Kind::Prefetch, item});
  start.push_back({Action::Kind::Wait, 0});
  EXPECT_EQ(plan->actions[1].before[0], start);
  EXPECT_EQ(mostLayersHeld(*plan, 1), 3u);
  checkPlan(*plan, model.schedules);
}

/// `simulate` must expect `error` of the plan.
void expectRejected(llvm::ArrayRef<Item> items,
                    llvm::ArrayRef<Placement> placement,
                    llvm::ArrayRef<Schedule> schedules,
                    llvm::ArrayRef<EntryActions> actions,
                    const Options &options, llvm::StringRef error) {
  auto replay = simulate(items, placement, schedules, actions, options);
  ASSERT_FALSE(static_cast<bool>(replay)) << "expected: " << error.str();
  std::string message = llvm::toString(replay.takeError());
  EXPECT_NE(message.find(error.str()), std::string::npos) << message;
}

TEST(OffloadPlan, SimulateRejectsBadKvPlans) {
  Model model = largeCacheModel();
  // A third entry point that reads only w0 and no cache.
  Schedule score;
  score.entry = "score";
  score.numSteps = 1;
  score.successor = 1;
  score.uses.push_back({0, 0, 0, false, 0});
  model.schedules.push_back(score);
  Options options;
  options.budget = 140 * kPage;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  ASSERT_EQ(plan->placement[1], Placement::Streamed);
  checkPlan(*plan, model.schedules);
  // The plan as it stands replays.
  auto replay = simulate(plan->items, plan->placement, model.schedules,
                         plan->actions, options);
  ASSERT_TRUE(static_cast<bool>(replay)) << llvm::toString(replay.takeError());

  std::vector<Placement> placement = plan->placement;
  placement[1] = Placement::Paged;
  expectRejected(model.items, placement, model.schedules, plan->actions,
                 options, "KV cache 'k0' cannot be paged");

  placement = plan->placement;
  placement[1] = Placement::HostAttention;
  expectRejected(model.items, placement, model.schedules, plan->actions,
                 options, "but the target has no attention offload");

  Options offload = options;
  offload.attentionOffload = true;
  placement = plan->placement;
  placement[0] = Placement::HostAttention;
  expectRejected(model.items, placement, model.schedules, plan->actions,
                 offload, "but it is not a KV cache");

  std::vector<Item> pinned = model.items;
  pinned[1].movable = false;
  expectRejected(pinned, plan->placement, model.schedules, plan->actions,
                 options, "'k0' must stay resident");

  // A cache read ahead by an entry point that does not use it.
  std::vector<EntryActions> actions = plan->actions;
  actions[2].before[0].insert(actions[2].before[0].begin(),
                              {Action::Kind::Prefetch, 1});
  expectRejected(model.items, plan->placement, model.schedules, actions,
                 options, "reads KV cache 'k0', which it does not use, ahead");

  // A cache read ahead at the end of decode for the next decode: its valid
  // rows would miss this call's.
  actions = plan->actions;
  actions[1].after.back().push_back({Action::Kind::Prefetch, 1});
  expectRejected(model.items, plan->placement, model.schedules, actions,
                 options, "holds KV cache 'k0' at its end");

  // A plan with caches where attention runs: moving one is an error.
  Options fast = options;
  fast.attentionOffload = true;
  fast.budget = 12 * kPage; // no cache fits: all stay where attention runs
  auto hosted = planOffload(model.items, model.schedules, fast);
  ASSERT_TRUE(static_cast<bool>(hosted)) << llvm::toString(hosted.takeError());
  ASSERT_EQ(hosted->placement[4], Placement::HostAttention);
  checkPlan(*hosted, model.schedules);
  actions = hosted->actions;
  actions[1].after[7].push_back({Action::Kind::Evict, 4});
  expectRejected(model.items, hosted->placement, model.schedules, actions, fast,
                 "eviction of host_attention 'k1'");
  actions = hosted->actions;
  actions[1].before[0].push_back({Action::Kind::Prefetch, 4});
  expectRejected(model.items, hosted->placement, model.schedules, actions, fast,
                 "prefetch of 'k1', which is not streamed");
}

TEST(OffloadPlan, RecomputedInputsNeverStayWhereAttentionRuns) {
  // The same model with every cache a cache of recomputed keys' inputs
  // (read by linear maps, not by an attention): none is left where
  // attention runs; they are streamed or resident like weights, and a
  // plan that puts one there is rejected.
  Model model = largeCacheModel();
  for (Item &item : model.items)
    if (item.kvCache)
      item.attentionReads = false;
  Options options;
  options.budget = 140 * kPage;
  options.attentionOffload = true;
  auto plan = planOffload(model.items, model.schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  unsigned kvCaches = 0;
  for (auto [item, placed] : llvm::zip_equal(plan->items, plan->placement))
    if (item.kvCache) {
      ++kvCaches;
      EXPECT_NE(placed, Placement::HostAttention) << item.name;
    }
  EXPECT_GT(kvCaches, 0u);
  checkPlan(*plan, model.schedules);
  std::vector<Placement> placement = plan->placement;
  placement[1] = Placement::HostAttention;
  expectRejected(model.items, placement, model.schedules, plan->actions,
                 options, "but no attention reads it");
  // Without such caches the minimum budget counts them like weights.
  EXPECT_GT(minimumBudget(model.items, model.schedules, nullptr, true),
            minimumBudget(largeCacheModel().items, model.schedules, nullptr,
                          true));
}

/// What the reference planner's placements need when it streams: items it
/// keeps resident (pinned ones; outside layers, read densely, or a cache
/// without attention offload), the touched pages of gathers of the others,
/// and the most bytes its streamed items (inside layers, read densely or a
/// cache without attention offload) hold at one step.
uint64_t referenceNeed(llvm::ArrayRef<Item> items,
                       llvm::ArrayRef<Schedule> schedules,
                       bool attentionOffload) {
  std::vector<bool> dense(items.size(), false);
  for (const Schedule &schedule : schedules)
    for (const Use &use : schedule.uses)
      if (!use.gather)
        dense[use.item] = true;
  auto moves = [&](unsigned index) {
    const Item &item = items[index];
    return item.kvCache ? !attentionOffload : dense[index];
  };
  auto resident = [&](unsigned index) {
    return !items[index].movable || (items[index].layer < 0 && moves(index));
  };
  auto streams = [&](unsigned index) {
    return items[index].movable && items[index].layer >= 0 && moves(index);
  };
  uint64_t need = 0, reserve = 0, window = 0;
  for (unsigned index = 0; index < items.size(); ++index)
    if (resident(index))
      need += items[index].bytes;
  for (const Schedule &schedule : schedules) {
    uint64_t touched = 0;
    for (const Use &use : schedule.uses)
      if (use.gather && !resident(use.item))
        touched += std::min(pageRound(use.touchedBytes), items[use.item].bytes);
    reserve = std::max(reserve, touched);
    for (unsigned step = 0; step < schedule.numSteps; ++step) {
      uint64_t live = 0;
      for (const Use &use : schedule.uses)
        if (!use.gather && streams(use.item) && use.first <= step &&
            step <= use.last)
          live += items[use.item].bytes;
      window = std::max(window, live);
    }
  }
  return need + reserve + window;
}

/// Random models with KV caches: weights as above plus caches of random
/// sizes (some pinned resident) read by prefill and decode over random
/// ranges with random valid and new rows, sometimes a third entry point
/// without caches, random successors; random budgets from the minimum to
/// the total, both planners, with and without attention offload and at
/// random speeds. Every plan returned must pass `checkPlan`; the cost
/// planner must find one at every budget from the minimum, the reference
/// planner at least when what it keeps resident and its largest streamed
/// step fit.
class OffloadPlanRandomKv : public ::testing::TestWithParam<unsigned> {};

TEST_P(OffloadPlanRandomKv, PlansKeepTheInvariants) {
  std::mt19937 random(GetParam());
  auto pick = [&](std::initializer_list<double> values) {
    return *(values.begin() + random() % values.size());
  };
  unsigned planned = 0, streamedKv = 0, hostedKv = 0;
  for (unsigned trial = 0; trial < 300; ++trial) {
    std::vector<Item> items;
    uint64_t total = 0;
    unsigned numWeights = 1 + random() % 12, numCaches = 1 + random() % 8;
    for (unsigned index = 0; index < numWeights + numCaches; ++index) {
      bool kv = index >= numWeights;
      Item item{(kv ? "kv" : "w") + std::to_string(index),
                (1 + random() % 40) * kPage, int(random() % 4) - 1, kv};
      item.movable = !kv || random() % 5 != 0;
      total += item.bytes;
      items.push_back(item);
    }
    unsigned numSchedules = 2 + random() % 2;
    std::vector<Schedule> schedules(numSchedules);
    for (unsigned index = 0; index < numSchedules; ++index) {
      Schedule &schedule = schedules[index];
      schedule.entry = index == 0 ? "prefill" : index == 1 ? "decode" : "score";
      schedule.successor = random() % 3 == 0 ? random() % numSchedules : 1;
      schedule.numSteps = 1 + random() % 30;
      for (unsigned item = 0; item < items.size(); ++item) {
        bool kv = items[item].kvCache;
        unsigned kind = random() % 5;
        // Only prefill and decode read the caches.
        if (kind == 0 || (kv && index == 2))
          continue;
        unsigned first = random() % schedule.numSteps;
        unsigned last =
            first + random() % std::min(4u, schedule.numSteps - first);
        if (kind == 1 && !kv) {
          schedule.uses.push_back(
              {item, first, first, true, (1 + random() % 2) * kPage});
          continue;
        }
        Use use{item, first, last, false, 0};
        if (kv) {
          use.kvReadBytes = random() % (items[item].bytes + 1);
          use.kvWriteBytes = random() % (items[item].bytes / (index + 1) + 1);
        }
        schedule.uses.push_back(use);
      }
      schedule.stepSeconds.assign(schedule.numSteps, pick({1e-5, 1e-4, 1e-3}));
    }
    for (bool attentionOffload : {false, true}) {
      uint64_t minimum =
          minimumBudget(items, schedules, nullptr, attentionOffload);
      for (PlannerKind kind : {PlannerKind::Cost, PlannerKind::Reference}) {
        Options options;
        options.planner = kind;
        options.depth = random() % 3;
        options.attentionOffload = attentionOffload;
        options.readBytesPerSecond = pick({1e8, 2e9, 1e11});
        options.readOverheadSeconds = pick({0, 5e-5});
        options.hostAttentionBytesPerSecond = pick({1e6, 1e9, 1e10, 1e12});
        options.attentionLatencySeconds = pick({0, 3e-5, 1e-2});
        unsigned edge = random() % 8;
        options.budget =
            edge == 0 ? minimum
            : edge == 1
                ? std::max(minimum, total)
                : minimum +
                      (total > minimum ? random() % (total - minimum + 1) : 0);
        auto plan = planOffload(items, schedules, options);
        if (!plan && kind == PlannerKind::Reference) {
          // The reference planner keeps weights outside layers (and, without
          // attention offload, caches outside layers) resident and streams
          // the rest; it may fail only where that does not fit.
          std::string message = llvm::toString(plan.takeError());
          EXPECT_NE(message.find("the reference planner keeps"),
                    std::string::npos)
              << message;
          EXPECT_LT(options.budget,
                    referenceNeed(items, schedules, attentionOffload))
              << "seed " << GetParam() << " trial " << trial << ": " << message;
          continue;
        }
        ASSERT_TRUE(static_cast<bool>(plan))
            << "seed " << GetParam() << " trial " << trial << ": "
            << llvm::toString(plan.takeError());
        ++planned;
        SCOPED_TRACE("seed " + std::to_string(GetParam()) + " trial " +
                     std::to_string(trial));
        checkPlan(*plan, schedules);
        if (HasFatalFailure())
          return;
        EXPECT_LE(plan->replay.peakBytes, options.budget);
        for (auto [item, placed] : llvm::zip_equal(items, plan->placement)) {
          streamedKv += item.kvCache && placed == Placement::Streamed;
          hostedKv += placed == Placement::HostAttention;
        }
      }
      if (minimum == 0)
        continue;
      Options below;
      below.attentionOffload = attentionOffload;
      below.budget = minimum - 1;
      auto plan = planOffload(items, schedules, below);
      ASSERT_FALSE(static_cast<bool>(plan));
      std::string message = llvm::toString(plan.takeError());
      EXPECT_NE(message.find("that any plan needs"), std::string::npos)
          << message;
    }
  }
  // The trials reach every placement of a cache.
  EXPECT_GT(planned, 800u);
  EXPECT_GT(streamedKv, 0u);
  EXPECT_GT(hostedKv, 0u);
}

INSTANTIATE_TEST_SUITE_P(OffloadPlanSeeds, OffloadPlanRandomKv,
                         ::testing::Values(1u, 77u, 2026u));

} // namespace
