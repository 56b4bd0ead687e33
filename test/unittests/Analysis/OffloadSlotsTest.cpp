//===- OffloadSlotsTest.cpp - Compile-time pool slots of offload plans ----===//
//
// offload::assignSlots and verifySlots on hand-made actions with known
// overlaps (within a call, across calls, huge page alignment), and plans of
// randomised schedules replayed by a checker written here (independent of
// the planner's replay): no two streamed items held at once share pool
// bytes, and the resident items, the pool and the gather reserve fit the
// budget.
//
//===----------------------------------------------------------------------===//

#include "passes/Analysis/OffloadPlan.h"
#include "test/unittests/Analysis/RandomOffloadModel.h"

#include "gtest/gtest.h"

#include <map>
#include <random>

using namespace mlir::tvc::offload;

namespace {

constexpr uint64_t kPage = kPageBytes;
constexpr uint64_t kMiB = 1024 * 1024;

Action prefetch(unsigned item) { return {Action::Kind::Prefetch, item}; }
Action wait(unsigned item) { return {Action::Kind::Wait, item}; }
Action evict(unsigned item) { return {Action::Kind::Evict, item}; }

/// One schedule reading `reads[step]` at each step, densely.
Schedule chain(std::string entry, llvm::ArrayRef<unsigned> reads,
               unsigned successor) {
  Schedule schedule;
  schedule.entry = std::move(entry);
  schedule.numSteps = reads.size();
  schedule.successor = successor;
  for (auto [step, item] : llvm::enumerate(reads))
    schedule.uses.push_back(
        {item, static_cast<unsigned>(step), static_cast<unsigned>(step)});
  return schedule;
}

/// Three items read one per step; the second is read ahead with the first,
/// the third after the first's eviction: A and C may share bytes, B not.
struct ThreeItems {
  std::vector<Item> items = {
      {"a", 3 * kPage}, {"b", 2 * kPage}, {"c", 3 * kPage}};
  std::vector<Placement> placement =
      std::vector<Placement>(3, Placement::Streamed);
  std::vector<Schedule> schedules = {chain("decode", {0, 1, 2}, 0)};
  std::vector<EntryActions> actions;
  ThreeItems() {
    EntryActions entry;
    entry.before = {{prefetch(0), prefetch(1), wait(0)}, {wait(1)}, {wait(2)}};
    entry.after = {{evict(0), prefetch(2)}, {evict(1)}, {evict(2)}};
    actions.push_back(entry);
  }
};

TEST(OffloadSlots, ItemsHeldTogetherGetDisjointSlots) {
  ThreeItems model;
  auto slots = assignSlots(model.items, model.placement, model.schedules,
                           model.actions, 1 << 30);
  ASSERT_TRUE(static_cast<bool>(slots)) << llvm::toString(slots.takeError());
  // Largest first: a at 0, c at 0 too (never held with a), b after both.
  EXPECT_EQ(slots->offset[0], 0u);
  EXPECT_EQ(slots->offset[2], 0u);
  EXPECT_EQ(slots->offset[1], 3 * kPage);
  EXPECT_EQ(slots->poolBytes, 5 * kPage);
  EXPECT_FALSE(static_cast<bool>(verifySlots(
      model.items, model.placement, model.schedules, model.actions, *slots)));
}

TEST(OffloadSlots, OnlyStreamedItemsHaveSlots) {
  ThreeItems model;
  model.placement[1] = Placement::Resident;
  // Without b: no prefetch or eviction of it.
  model.actions[0].before = {{prefetch(0), wait(0)}, {}, {wait(2)}};
  model.actions[0].after = {{evict(0), prefetch(2)}, {}, {evict(2)}};
  auto slots = assignSlots(model.items, model.placement, model.schedules,
                           model.actions, 1 << 30);
  ASSERT_TRUE(static_cast<bool>(slots)) << llvm::toString(slots.takeError());
  EXPECT_EQ(slots->offset[1], kNoSlot);
  EXPECT_EQ(slots->poolBytes, 3 * kPage);
}

TEST(OffloadSlots, VerifyNamesTheOverlap) {
  ThreeItems model;
  Slots slots;
  slots.offset = {0, 2 * kPage, 0}; // b over the end of a
  slots.poolBytes = 4 * kPage;
  llvm::Error error = verifySlots(model.items, model.placement, model.schedules,
                                  model.actions, slots);
  ASSERT_TRUE(static_cast<bool>(error));
  std::string message = llvm::toString(std::move(error));
  EXPECT_NE(message.find("'b' is read in 'decode' into pool bytes [8192, "
                         "16384) while 'a' holds [0, 12288)"),
            std::string::npos)
      << message;

  // Outside the pool, unaligned, missing.
  slots.offset = {0, 3 * kPage, 0};
  slots.poolBytes = 4 * kPage;
  error = verifySlots(model.items, model.placement, model.schedules,
                      model.actions, slots);
  ASSERT_TRUE(static_cast<bool>(error));
  message = llvm::toString(std::move(error));
  EXPECT_NE(message.find("the slot of 'b' (8192 bytes at 12288) is not a "
                         "page-aligned range of the 16384-byte pool"),
            std::string::npos)
      << message;
  slots.offset = {0, 3 * kPage + 1, 0};
  slots.poolBytes = 8 * kPage;
  error = verifySlots(model.items, model.placement, model.schedules,
                      model.actions, slots);
  EXPECT_TRUE(static_cast<bool>(error));
  llvm::consumeError(std::move(error));
  slots.offset = {0, kNoSlot, 0};
  error = verifySlots(model.items, model.placement, model.schedules,
                      model.actions, slots);
  EXPECT_TRUE(static_cast<bool>(error));
  llvm::consumeError(std::move(error));
}

/// An item read ahead at the end of one call is held when the next call
/// starts: it must not share bytes with what that call reads before it.
TEST(OffloadSlots, ItemsCarriedAcrossCallsStayHeld) {
  std::vector<Item> items = {{"p", kPage}, {"x", 2 * kPage}, {"d", 2 * kPage}};
  std::vector<Placement> placement(3, Placement::Streamed);
  std::vector<Schedule> schedules = {chain("prefill", {0}, 1),
                                     chain("decode", {2, 1}, 1)};
  std::vector<EntryActions> actions(2);
  // prefill reads p, then reads x ahead for decode.
  actions[0].before = {{wait(0)}};
  actions[0].after = {{evict(0), prefetch(1)}};
  // decode alone reads d, evicts it, then reads x: never both held.
  actions[1].before = {{wait(2)}, {wait(1)}};
  actions[1].after = {{evict(2)}, {evict(1)}};
  auto slots = assignSlots(items, placement, schedules, actions, 1 << 30);
  ASSERT_TRUE(static_cast<bool>(slots)) << llvm::toString(slots.takeError());
  EXPECT_NE(slots->offset[1], slots->offset[2]);
  EXPECT_EQ(slots->poolBytes, 4 * kPage);
  EXPECT_FALSE(static_cast<bool>(
      verifySlots(items, placement, schedules, actions, *slots)));

  // Without prefill before it, decode could keep both at 0.
  std::vector<Schedule> alone = {chain("decode", {1, 0}, 0)};
  std::vector<Item> two = {items[1], items[2]};
  std::vector<EntryActions> aloneActions(1);
  aloneActions[0].before = {{wait(1)}, {wait(0)}};
  aloneActions[0].after = {{evict(1)}, {evict(0)}};
  auto shared = assignSlots(two, {Placement::Streamed, Placement::Streamed},
                            alone, aloneActions, 1 << 30);
  ASSERT_TRUE(static_cast<bool>(shared)) << llvm::toString(shared.takeError());
  EXPECT_EQ(shared->poolBytes, 2 * kPage);
}

/// Items of 2 MiB or more start on a 2 MiB boundary when the limit leaves
/// room for the padding, else on a page.
TEST(OffloadSlots, HugeItemsAlignWhenTheLimitAllows) {
  std::vector<Item> items = {
      {"big", 3 * kMiB}, {"huge", 2 * kMiB}, {"small", kPage}};
  std::vector<Placement> placement(3, Placement::Streamed);
  std::vector<Schedule> schedules = {chain("decode", {0, 1, 2}, 0)};
  std::vector<EntryActions> actions(1);
  actions[0].before = {
      {prefetch(0), prefetch(1), prefetch(2), wait(0)}, {wait(1)}, {wait(2)}};
  actions[0].after = {{}, {}, {evict(0), evict(1), evict(2)}};
  auto aligned = assignSlots(items, placement, schedules, actions, 6 * kMiB);
  ASSERT_TRUE(static_cast<bool>(aligned));
  EXPECT_EQ(aligned->offset[0], 0u);
  EXPECT_EQ(aligned->offset[1], 4 * kMiB);
  EXPECT_EQ(aligned->offset[2], 3 * kMiB);
  EXPECT_EQ(aligned->poolBytes, 6 * kMiB);

  auto compact =
      assignSlots(items, placement, schedules, actions, 5 * kMiB + kPage);
  ASSERT_TRUE(static_cast<bool>(compact));
  EXPECT_EQ(compact->offset[1], 3 * kMiB);
  EXPECT_EQ(compact->offset[2], 5 * kMiB);
  EXPECT_EQ(compact->poolBytes, 5 * kMiB + kPage);
  EXPECT_FALSE(static_cast<bool>(
      verifySlots(items, placement, schedules, actions, *compact)));
}

/// Replays [s, s, successor, successor, s] per schedule from nothing held
/// and fails the test where two streamed items held at once overlap in the
/// pool, or a held item has no slot inside it.
void checkSlots(const Plan &plan, llvm::ArrayRef<Schedule> schedules) {
  const Slots &slots = plan.slots;
  ASSERT_EQ(slots.offset.size(), plan.items.size());
  uint64_t fixed = plan.bytesPlaced(Placement::Resident) +
                   pagedReserve(plan.items, plan.placement, schedules);
  ASSERT_LE(fixed + slots.poolBytes, plan.options.budget);
  for (size_t start = 0; start < schedules.size(); ++start) {
    std::map<unsigned, std::pair<uint64_t, uint64_t>> held;
    unsigned next = schedules[start].successor;
    for (unsigned index :
         {unsigned(start), unsigned(start), next, next, unsigned(start)}) {
      const EntryActions &actions = plan.actions[index];
      auto apply = [&](const std::vector<Action> &list) {
        for (const Action &action : list) {
          if (plan.placement[action.item] != Placement::Streamed)
            continue;
          if (action.kind == Action::Kind::Evict) {
            held.erase(action.item);
            continue;
          }
          if (held.count(action.item))
            continue;
          uint64_t begin = slots.offset[action.item];
          uint64_t end = begin + plan.items[action.item].bytes;
          ASSERT_NE(begin, kNoSlot) << plan.items[action.item].name;
          ASSERT_EQ(begin % kPage, 0u);
          ASSERT_LE(end, slots.poolBytes);
          for (auto &[other, range] : held)
            ASSERT_TRUE(end <= range.first || range.second <= begin)
                << plan.items[action.item].name << " and "
                << plan.items[other].name << " held at once overlap";
          held[action.item] = {begin, end};
        }
      };
      for (unsigned step = 0; step < schedules[index].numSteps; ++step) {
        apply(actions.before[step]);
        apply(actions.after[step]);
      }
    }
  }
}

/// Random models (items of random sizes, some over 2 MiB, read densely or
/// gathered over random steps of a prefill and a decode, some KV caches),
/// planned at random budgets from the minimum up: the cost planner always
/// finds a plan, and nearly always with slots that the checker accepts.
TEST(OffloadSlots, RandomPlansHaveSlotsThatNeverOverlap) {
  std::mt19937 random(4321);
  unsigned planned = 0, slotted = 0;
  for (unsigned trial = 0; trial < 300; ++trial) {
    tvc::test::RandomModelShape shape;
    shape.maxItems = 24;
    shape.hugeItems = true;
    shape.kvCaches = true;
    tvc::test::RandomModel model = tvc::test::randomModel(random, shape);
    const std::vector<Schedule> &schedules = model.schedules;
    tvc::test::planWithBothPlanners(
        model, random, trial, [&](const Plan &plan, const Options &) {
          ++planned;
          if (plan.slots.offset.empty())
            return;
          ++slotted;
          checkSlots(plan, schedules);
          if (HasFatalFailure())
            return;
          EXPECT_FALSE(static_cast<bool>(
              verifySlots(model.items, plan.placement, schedules, plan.actions,
                          plan.slots)));
        });
    if (HasFatalFailure())
      return;
  }
  EXPECT_GT(planned, 300u);
  // Fragmentation beyond what holding fewer items ahead cures is rare.
  EXPECT_GE(slotted * 100, planned * 95) << slotted << " of " << planned;
}

/// The plan's dump and JSON give the pool and each streamed item's slot.
TEST(OffloadSlots, DumpAndJsonGiveTheSlots) {
  std::vector<Item> items = {
      {"a", 8 * kPage, 0}, {"b", 8 * kPage, 1}, {"c", 8 * kPage, 2}};
  std::vector<Schedule> schedules = {chain("decode", {0, 1, 2}, 0)};
  Options options;
  options.planner = PlannerKind::Reference;
  options.depth = 0;
  options.budget = 16 * kPage;
  auto plan = planOffload(items, schedules, options);
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  ASSERT_FALSE(plan->slots.offset.empty());
  EXPECT_LE(plan->slots.poolBytes, 16 * kPage);
  std::string text;
  llvm::raw_string_ostream os(text);
  plan->dump(os, schedules);
  EXPECT_NE(text.find(", pool "), std::string::npos) << text;
  EXPECT_NE(text.find("streamed a 32768 layer 0 slot "), std::string::npos)
      << text;
  llvm::json::Value json = plan->toJSON(schedules);
  const llvm::json::Object *object = json.getAsObject();
  ASSERT_TRUE(object);
  EXPECT_EQ(object->getInteger("pool_bytes").value_or(-1),
            static_cast<int64_t>(plan->slots.poolBytes));
  const llvm::json::Array *list = object->getArray("items");
  ASSERT_TRUE(list && list->size() == 3);
  EXPECT_TRUE((*list)[0].getAsObject()->getInteger("slot_offset").has_value());
}

} // namespace
