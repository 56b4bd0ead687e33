//===- RandomOffloadModel.h - Random schedules for planner tests -*- C++
//-*-===//
//
// Random models for the offload planner's randomised tests: items of random
// sizes read densely or gathered over random steps of a prefill and a
// decode entry point, and the planning of one at a random budget with both
// planners.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_TEST_UNITTESTS_ANALYSIS_RANDOMOFFLOADMODEL_H
#define TVC_TEST_UNITTESTS_ANALYSIS_RANDOMOFFLOADMODEL_H

#include "passes/Analysis/OffloadPlan.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace tvc::test {

struct RandomModelShape {
  /// Items: 2 up to 1 + maxItems.
  unsigned maxItems = 20;
  /// One item in six is 400-799 pages (over 2 MiB).
  bool hugeItems = false;
  /// One item in five is a KV cache, read densely by both entry points
  /// (half its bytes valid, one page written per call).
  bool kvCaches = false;
};

struct RandomModel {
  std::vector<mlir::tvc::offload::Item> items;
  /// prefill -> decode -> decode.
  std::vector<mlir::tvc::offload::Schedule> schedules;
  uint64_t totalBytes = 0;
};

inline RandomModel randomModel(std::mt19937 &random,
                               const RandomModelShape &shape) {
  using namespace mlir::tvc::offload;
  constexpr uint64_t kPage = kPageBytes;
  RandomModel model;
  unsigned numItems = 2 + random() % shape.maxItems;
  for (unsigned index = 0; index < numItems; ++index) {
    uint64_t bytes = shape.hugeItems && random() % 6 == 0
                         ? (400 + random() % 400) * kPage
                         : (1 + random() % 40) * kPage;
    Item item{"w" + std::to_string(index), bytes,
              static_cast<int>(random() % 4) - 1};
    if (shape.kvCaches)
      item.kvCache = random() % 5 == 0;
    model.items.push_back(item);
    model.totalBytes += bytes;
  }
  model.schedules.resize(2);
  model.schedules[0].entry = "prefill";
  model.schedules[0].successor = 1;
  model.schedules[1].entry = "decode";
  model.schedules[1].successor = 1;
  for (Schedule &schedule : model.schedules) {
    schedule.numSteps = 1 + random() % 30;
    for (unsigned item = 0; item < numItems; ++item) {
      unsigned kind = random() % 5;
      if (model.items[item].kvCache)
        kind = 2;
      if (kind == 0)
        continue; // not read by this entry
      unsigned first = random() % schedule.numSteps;
      unsigned last =
          first + random() % std::min(4u, schedule.numSteps - first);
      if (kind == 1) {
        schedule.uses.push_back(
            {item, first, first, true, (1 + random() % 2) * kPage});
        continue;
      }
      Use use{item, first, last, false, 0};
      if (model.items[item].kvCache) {
        use.kvReadBytes = model.items[item].bytes / 2;
        use.kvWriteBytes = kPage;
      }
      schedule.uses.push_back(use);
    }
    schedule.stepSeconds.assign(schedule.numSteps, 1e-4);
  }
  return model;
}

/// Plans `model` with the cost and the reference planner, each at a random
/// budget from the minimum up and a random depth, and calls
/// `check(plan, options)` for each plan made. The cost planner must find
/// one (a test failure names the trial); the reference planner keeps what
/// is outside layers resident and may not fit, which it says.
template <typename Check>
void planWithBothPlanners(const RandomModel &model, std::mt19937 &random,
                          unsigned trial, Check check) {
  using namespace mlir::tvc::offload;
  uint64_t minimum = minimumBudget(model.items, model.schedules);
  uint64_t total = model.totalBytes;
  for (PlannerKind kind : {PlannerKind::Cost, PlannerKind::Reference}) {
    Options options;
    options.planner = kind;
    options.depth = random() % 3;
    options.budget =
        minimum + (total > minimum ? random() % (total - minimum + 1) : 0);
    auto plan = planOffload(model.items, model.schedules, options);
    if (kind == PlannerKind::Cost) {
      ASSERT_TRUE(static_cast<bool>(plan))
          << "trial " << trial << ": " << llvm::toString(plan.takeError());
    } else if (!plan) {
      llvm::consumeError(plan.takeError());
      continue;
    }
    check(*plan, options);
    if (::testing::Test::HasFatalFailure())
      return;
  }
}

} // namespace tvc::test

#endif // TVC_TEST_UNITTESTS_ANALYSIS_RANDOMOFFLOADMODEL_H
