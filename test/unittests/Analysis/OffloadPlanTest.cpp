//===- OffloadPlanTest.cpp - The offload planners' invariants -------------===//
//
// Hand-made schedules with known plans, and randomised schedules replayed by
// a checker written here (independent of offload::simulate): at every step
// every dense read is resident and the bytes held stay within the budget.
//
//===----------------------------------------------------------------------===//

#include "passes/Analysis/OffloadPlan.h"

#include "gtest/gtest.h"

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
      model.items.push_back({"l" + std::to_string(layer) + "." +
                                 std::to_string(index),
                             itemBytes, static_cast<int>(layer)});
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

/// Replays calls [s, s, successor, successor, s] for every schedule s and
/// fails the test where a dense read is not resident or the budget breaks.
void checkPlan(const Plan &plan, llvm::ArrayRef<Schedule> schedules) {
  uint64_t fixed = plan.bytesPlaced(Placement::Resident) +
                   pagedReserve(plan.items, plan.placement, schedules);
  ASSERT_LE(fixed, plan.options.budget);
  for (size_t start = 0; start < schedules.size(); ++start) {
    std::set<unsigned> held;
    uint64_t bytes = fixed;
    unsigned next = schedules[start].successor;
    for (unsigned index :
         {unsigned(start), unsigned(start), next, next, unsigned(start)}) {
      const Schedule &schedule = schedules[index];
      const EntryActions &actions = plan.actions[index];
      auto apply = [&](const std::vector<Action> &list) {
        for (const Action &action : list) {
          Placement where = plan.placement[action.item];
          ASSERT_NE(where, Placement::Resident);
          if (where == Placement::Paged) {
            ASSERT_EQ(action.kind, Action::Kind::Evict);
            continue;
          }
          if (action.kind == Action::Kind::Evict) {
            ASSERT_TRUE(held.erase(action.item));
            bytes -= plan.items[action.item].bytes;
          } else if (held.insert(action.item).second) {
            bytes += plan.items[action.item].bytes;
          }
          ASSERT_LE(bytes, plan.options.budget);
        }
      };
      for (unsigned step = 0; step < schedule.numSteps; ++step) {
        apply(actions.before[step]);
        for (const Use &use : schedule.uses)
          if (!use.gather && use.first <= step && step <= use.last &&
              plan.placement[use.item] == Placement::Streamed)
            ASSERT_TRUE(held.count(use.item))
                << plan.items[use.item].name << " at step " << step;
        apply(actions.after[step]);
      }
    }
  }
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
  EXPECT_NE(message.find("step 7 of 'decode': table"), std::string::npos) << message;
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
  EXPECT_FALSE(static_cast<bool>(planOffload(bad.items, bad.schedules,
                                             options)));
  bad = model;
  bad.schedules[0].uses[0].last = 99;
  auto plan = planOffload(bad.items, bad.schedules, options);
  ASSERT_FALSE(static_cast<bool>(plan));
  EXPECT_NE(llvm::toString(plan.takeError()).find("outside"),
            std::string::npos);
  bad = model;
  bad.schedules[0].successor = 3;
  EXPECT_FALSE(static_cast<bool>(planOffload(bad.items, bad.schedules,
                                             options)));
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
  auto replay = simulate(plan->items, plan->placement, model.schedules,
                         actions, options);
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
    unsigned numItems = 2 + random() % 20;
    std::vector<Item> items;
    uint64_t total = 0;
    for (unsigned index = 0; index < numItems; ++index) {
      uint64_t bytes = (1 + random() % 40) * kPage;
      items.push_back({"w" + std::to_string(index), bytes,
                       static_cast<int>(random() % 4) - 1});
      total += bytes;
    }
    std::vector<Schedule> schedules(2);
    schedules[0].entry = "prefill";
    schedules[0].successor = 1;
    schedules[1].entry = "decode";
    schedules[1].successor = 1;
    for (Schedule &schedule : schedules) {
      schedule.numSteps = 1 + random() % 30;
      for (unsigned item = 0; item < numItems; ++item) {
        unsigned kind = random() % 5;
        if (kind == 0)
          continue; // not read by this entry
        unsigned first = random() % schedule.numSteps;
        unsigned last =
            first + random() % std::min(4u, schedule.numSteps - first);
        if (kind == 1) {
          schedule.uses.push_back({item, first, first, true,
                                   (1 + random() % 2) * kPage});
          continue;
        }
        schedule.uses.push_back({item, first, last, false, 0});
      }
      schedule.stepSeconds.assign(schedule.numSteps, 1e-4);
    }
    uint64_t minimum = minimumBudget(items, schedules);
    for (PlannerKind kind : {PlannerKind::Cost, PlannerKind::Reference}) {
      Options options;
      options.planner = kind;
      options.depth = random() % 3;
      options.budget =
          minimum + (total > minimum ? random() % (total - minimum + 1) : 0);
      auto plan = planOffload(items, schedules, options);
      if (kind == PlannerKind::Cost) {
        // Every budget from the minimum up has a plan.
        ASSERT_TRUE(static_cast<bool>(plan))
            << "trial " << trial << ": " << llvm::toString(plan.takeError());
      } else if (!plan) {
        // The reference planner keeps what is outside layers resident and
        // may not fit; it says so.
        llvm::consumeError(plan.takeError());
        continue;
      }
      ++planned;
      checkPlan(*plan, schedules);
      if (HasFatalFailure())
        return;
      EXPECT_LE(plan->replay.peakBytes, options.budget);
    }
    Options below;
    below.budget = minimum - 1;
    auto plan = planOffload(items, schedules, below);
    EXPECT_FALSE(static_cast<bool>(plan));
    if (!plan)
      llvm::consumeError(plan.takeError());
  }
  EXPECT_GT(planned, 300u);
}

} // namespace
