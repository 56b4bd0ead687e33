//===- ManifestTest.cpp - The artifact manifest's offload plan ------------===//
//
// parseManifest (runtime/tools/Manifest.h) on the offload lines tvc-compile
// writes for a model with an offload plan (weights and KV caches), and their
// malformed variants.
//
//===----------------------------------------------------------------------===//

#include "runtime/tools/Manifest.h"

#include "gtest/gtest.h"

#include <string>

namespace {

std::string manifestWith(const std::string &offloadLines) {
  return "tvc-model 2\nweights 12288\n" + offloadLines +
         "entry forward main 1 0 0\n"
         "input x 1 0 2,3 -\n"
         "result 1 -1 2,3\n"
         "end\n";
}

/// Manifest lines parseManifest must refuse, and a part of its message.
struct Rejected {
  const char *lines;
  const char *message;
};

/// Expects the manifest `wrap` makes of each case's lines to be refused
/// with the case's message.
template <size_t N, typename Wrap>
void expectRejected(const Rejected (&cases)[N], Wrap wrap) {
  for (const Rejected &test : cases) {
    tvc::Manifest manifest;
    std::string error;
    EXPECT_FALSE(tvc::parseManifest(wrap(test.lines), manifest, error))
        << test.lines;
    EXPECT_NE(error.find(test.message), std::string::npos)
        << test.lines << " gave: " << error;
  }
}

/// Without offload lines there is no plan.
TEST(Manifest, NoOffloadPlan) {
  tvc::Manifest manifest;
  std::string error;
  ASSERT_TRUE(tvc::parseManifest(manifestWith(""), manifest, error)) << error;
  EXPECT_FALSE(manifest.hasOffload);
  EXPECT_TRUE(manifest.offloadItems.empty());
  EXPECT_EQ(manifest.weightsBytes, 12288u);
  ASSERT_EQ(manifest.entries.size(), 1u);
}

/// The budget and every item, in order, with their placements.
TEST(Manifest, OffloadPlan) {
  tvc::Manifest manifest;
  std::string error;
  ASSERT_TRUE(
      tvc::parseManifest(manifestWith("offload 8192 3\n"
                                      "offload-item 0 0 100 resident\n"
                                      "offload-item 1 4096 5000 streamed\n"
                                      "offload-item 2 8192 4096 paged\n"),
                         manifest, error))
      << error;
  EXPECT_TRUE(manifest.hasOffload);
  EXPECT_EQ(manifest.offloadBudget, 8192u);
  ASSERT_EQ(manifest.offloadItems.size(), 3u);
  EXPECT_EQ(manifest.offloadItems[1].offset, 4096u);
  EXPECT_EQ(manifest.offloadItems[1].bytes, 5000u);
  EXPECT_EQ(manifest.offloadItems[0].placement, TVC_OFFLOAD_RESIDENT);
  EXPECT_EQ(manifest.offloadItems[1].placement, TVC_OFFLOAD_STREAMED);
  EXPECT_EQ(manifest.offloadItems[2].placement, TVC_OFFLOAD_PAGED);
}

/// Malformed plans are refused with the line or the missing items.
TEST(Manifest, MalformedOffloadPlans) {
  const Rejected cases[] = {
      {"offload-item 0 0 100 resident\n", "malformed manifest line 3"},
      {"offload 8192\n", "malformed manifest line 3"},
      {"offload 8192 -1\n", "malformed manifest line 3"},
      {"offload 8192 1\noffload 8192 1\n", "malformed manifest line 4"},
      {"offload 8192 1\noffload-item 1 0 100 resident\n",
       "malformed manifest line 4"},
      {"offload 8192 1\noffload-item 0 0 100 swapped\n",
       "malformed manifest line 4"},
      {"offload 8192 1\noffload-item 0 0 resident\n",
       "malformed manifest line 4"},
      {"offload 8192 1\noffload-item 0 0 1 paged\noffload-item 1 4096 1 "
       "paged\n",
       "malformed manifest line 5"},
      {"offload 8192 2\noffload-item 0 0 100 resident\n",
       "lists 1 of its 2 items"},
  };
  expectRejected(cases, manifestWith);
}

/// A manifest with a prefill entry point taking a [1, 1024, 768] f32 key
/// cache and a [2, 64, 4, 32] f16 value cache, after `offloadLines`.
std::string prefillWith(const std::string &offloadLines) {
  return "tvc-model 2\nweights 12288\n" + offloadLines +
         "entry prefill forward_prefill 1 1 0\n"
         "input input_ids 7 0 1,-1 1,1024\n"
         "input past_len 7 0 - -\n"
         "input past_key_values.0.key 1 1 1,1024,768 -\n"
         "input past_key_values.0.value 10 1 2,64,4,32 -\n"
         "result 1 -1 1,-1,50257\n"
         "end\n";
}

/// The KV caches of a plan: one item per offload-kv line, in order, after
/// the weights' items; none without such lines.
TEST(Manifest, OffloadKvItems) {
  tvc::Manifest manifest;
  std::string error;
  ASSERT_TRUE(
      tvc::parseManifest(prefillWith("offload 1000000 1\n"
                                     "offload-item 0 0 100 streamed\n"
                                     "offload-kv 0 1 1024 3072 streamed\n"
                                     "offload-kv 1 2 64 256 resident\n"),
                         manifest, error))
      << error;
  ASSERT_EQ(manifest.offloadItems.size(), 1u);
  ASSERT_EQ(manifest.offloadKvItems.size(), 2u);
  EXPECT_EQ(manifest.offloadKvItems[0].batch, 1);
  EXPECT_EQ(manifest.offloadKvItems[0].rows, 1024);
  EXPECT_EQ(manifest.offloadKvItems[0].row_bytes, 3072u);
  EXPECT_EQ(manifest.offloadKvItems[0].placement, TVC_OFFLOAD_STREAMED);
  EXPECT_EQ(manifest.offloadKvItems[1].batch, 2);
  EXPECT_EQ(manifest.offloadKvItems[1].rows, 64);
  EXPECT_EQ(manifest.offloadKvItems[1].row_bytes, 256u);
  EXPECT_EQ(manifest.offloadKvItems[1].placement, TVC_OFFLOAD_RESIDENT);

  // A cache the plan keeps where attention runs (CUDA attention offload).
  tvc::Manifest host;
  ASSERT_TRUE(tvc::parseManifest(
      prefillWith("offload 1000000 1\n"
                  "offload-item 0 0 100 streamed\n"
                  "offload-kv 0 1 1024 3072 host_attention\n"
                  "offload-kv 1 2 64 256 resident\n"),
      host, error))
      << error;
  ASSERT_EQ(host.offloadKvItems.size(), 2u);
  EXPECT_EQ(host.offloadKvItems[0].placement, TVC_OFFLOAD_HOST_ATTENTION);
  EXPECT_EQ(host.offloadKvItems[0].has_slot, 0);

  // An older plan of the weights only is still valid.
  tvc::Manifest weightsOnly;
  ASSERT_TRUE(tvc::parseManifest(
      prefillWith("offload 8192 1\noffload-item 0 0 100 resident\n"),
      weightsOnly, error))
      << error;
  EXPECT_TRUE(weightsOnly.hasOffload);
  EXPECT_TRUE(weightsOnly.offloadKvItems.empty());
}

/// KV items that do not describe the prefill's caches: too few or too
/// many, or another batch, row count or row size.
TEST(Manifest, OffloadKvItemsOfOtherCaches) {
  const Rejected cases[] = {
      {"offload-kv 0 1 1024 3072 streamed\n",
       "the offload plan lists 1 KV caches, but the prefill entry point takes "
       "2"},
      {"offload-kv 0 1 1024 3072 streamed\noffload-kv 1 2 64 256 resident\n"
       "offload-kv 2 2 64 256 resident\n",
       "lists 3 KV caches, but the prefill entry point takes 2"},
      {"offload-kv 0 2 1024 3072 streamed\noffload-kv 1 2 64 256 resident\n",
       "the offload plan's KV cache 0 is 2 x 1024 rows of 3072 bytes, but the "
       "prefill's cache input 'past_key_values.0.key' is [1x1024x768] "
       "(3072-byte rows)"},
      {"offload-kv 0 1 1024 3072 streamed\noffload-kv 1 2 32 256 resident\n",
       "KV cache 1 is 2 x 32 rows of 256 bytes, but the prefill's cache input "
       "'past_key_values.0.value' is [2x64x4x32] (256-byte rows)"},
      {"offload-kv 0 1 1024 768 streamed\noffload-kv 1 2 64 256 resident\n",
       "KV cache 0 is 1 x 1024 rows of 768 bytes"},
  };
  expectRejected(cases, [](const std::string &lines) {
    return prefillWith("offload 8192 0\n" + lines);
  });
  // Without a prefill entry point no cache matches.
  tvc::Manifest forward;
  std::string error;
  EXPECT_FALSE(tvc::parseManifest(
      manifestWith("offload 8192 0\noffload-kv 0 1 16 64 resident\n"), forward,
      error));
  EXPECT_NE(error.find("lists 1 KV caches, but the prefill entry point takes "
                       "0"),
            std::string::npos)
      << error;
}

/// Malformed KV lines: out of order, before the weights' items or without
/// a plan, sizes that are not positive, a placement a cache cannot have,
/// missing or extra fields.
TEST(Manifest, MalformedOffloadKvItems) {
  const Rejected cases[] = {
      {"offload-kv 0 1 16 64 resident\n", "malformed manifest line 3"},
      {"offload 8192 1\noffload-kv 0 1 16 64 resident\n"
       "offload-item 0 0 100 resident\n",
       "malformed manifest line 4"},
      {"offload 8192 0\noffload-kv 1 1 16 64 resident\n",
       "malformed manifest line 4"},
      {"offload 8192 0\noffload-kv 0 1 16 64 resident\n"
       "offload-kv 0 1 16 64 resident\n",
       "malformed manifest line 5"},
      {"offload 8192 0\noffload-kv 0 0 16 64 resident\n",
       "malformed manifest line 4"},
      {"offload 8192 0\noffload-kv 0 1 -16 64 resident\n",
       "malformed manifest line 4"},
      {"offload 8192 0\noffload-kv 0 1 16 0 streamed\n",
       "malformed manifest line 4"},
      {"offload 8192 0\noffload-kv 0 1 16 -64 streamed\n",
       "malformed manifest line 4"},
      {"offload 8192 0\noffload-kv 0 1 16 64 paged\n",
       "malformed manifest line 4"},
      // Only a KV cache is where attention runs; it has no slot.
      {"offload 8192 1\noffload-item 0 0 100 host_attention\n",
       "malformed manifest line 4"},
      {"offload 8192 0 4096\noffload-kv 0 1 16 64 host_attention 0\n",
       "malformed manifest line 4"},
      {"offload 8192 0\noffload-kv 0 1 16 64\n", "malformed manifest line 4"},
      {"offload 8192 0\noffload-kv 0 1 16 64 resident 7\n",
       "malformed manifest line 4"},
  };
  expectRejected(cases, manifestWith);
}

} // namespace

namespace {

/// The target line: CPU by default, CUDA with its architecture; anything
/// else is refused.
TEST(Manifest, Target) {
  tvc::Manifest cpu, cuda, bad;
  std::string error;
  ASSERT_TRUE(tvc::parseManifest(manifestWith(""), cpu, error)) << error;
  EXPECT_EQ(cpu.target, "cpu");
  std::string text = manifestWith("");
  text.insert(text.find('\n') + 1, "target cuda sm_90\n");
  ASSERT_TRUE(tvc::parseManifest(text, cuda, error)) << error;
  EXPECT_EQ(cuda.target, "cuda");
  EXPECT_EQ(cuda.cudaChip, "sm_90");
  for (const char *line : {"target tpu\n", "target cuda\n", "target\n"}) {
    std::string wrong = manifestWith("");
    wrong.insert(wrong.find('\n') + 1, line);
    EXPECT_FALSE(tvc::parseManifest(wrong, bad, error)) << line;
    EXPECT_NE(error.find("malformed manifest line 2"), std::string::npos)
        << error;
  }
}

/// The compiler's pool slots: the pool's bytes on the offload line and a
/// slot on each streamed item's and cache's line, both optional (older
/// manifests have neither: has_slot 0, pool 0).
TEST(Manifest, OffloadSlots) {
  tvc::Manifest manifest;
  std::string error;
  ASSERT_TRUE(
      tvc::parseManifest(prefillWith("offload 1000000 2 3162112\n"
                                     "offload-item 0 0 100 resident\n"
                                     "offload-item 1 4096 5000 streamed 0\n"
                                     "offload-kv 0 1 1024 3072 streamed 8192\n"
                                     "offload-kv 1 2 64 256 resident\n"),
                         manifest, error))
      << error;
  EXPECT_EQ(manifest.offloadPoolBytes, 3162112u);
  ASSERT_EQ(manifest.offloadItems.size(), 2u);
  EXPECT_EQ(manifest.offloadItems[0].has_slot, 0);
  EXPECT_EQ(manifest.offloadItems[1].has_slot, 1);
  EXPECT_EQ(manifest.offloadItems[1].slot_offset, 0u);
  ASSERT_EQ(manifest.offloadKvItems.size(), 2u);
  EXPECT_EQ(manifest.offloadKvItems[0].has_slot, 1);
  EXPECT_EQ(manifest.offloadKvItems[0].slot_offset, 8192u);
  EXPECT_EQ(manifest.offloadKvItems[1].has_slot, 0);

  tvc::Manifest older;
  ASSERT_TRUE(
      tvc::parseManifest(prefillWith("offload 1000000 1\n"
                                     "offload-item 0 4096 5000 streamed\n"
                                     "offload-kv 0 1 1024 3072 streamed\n"
                                     "offload-kv 1 2 64 256 resident\n"),
                         older, error))
      << error;
  EXPECT_EQ(older.offloadPoolBytes, 0u);
  EXPECT_EQ(older.offloadItems[0].has_slot, 0);
  EXPECT_EQ(older.offloadKvItems[0].has_slot, 0);

  // A slot without the pool's size, on a resident or paged item, not a
  // number, or followed by more; a pool that is not whole pages.
  for (const char *lines :
       {"offload 8192 1\noffload-item 0 0 100 streamed 0\n",
        "offload 8192 1 8192\noffload-item 0 0 100 resident 0\n",
        "offload 8192 1 8192\noffload-item 0 0 100 paged 0\n",
        "offload 8192 1 8192\noffload-item 0 0 100 streamed -4096\n",
        "offload 8192 1 8192\noffload-item 0 0 100 streamed 0 1\n",
        "offload 8192 1 8192 1\noffload-item 0 0 100 streamed 0\n",
        "offload 8192 1 100\noffload-item 0 0 100 streamed 0\n"}) {
    tvc::Manifest bad;
    EXPECT_FALSE(tvc::parseManifest(manifestWith(lines), bad, error)) << lines;
    EXPECT_NE(error.find("malformed manifest line"), std::string::npos)
        << error;
  }
  for (const char *lines : {"offload 1000000 0\n"
                            "offload-kv 0 1 1024 3072 streamed 0\n"
                            "offload-kv 1 2 64 256 resident\n",
                            "offload 1000000 0 8192\n"
                            "offload-kv 0 1 1024 3072 streamed 0\n"
                            "offload-kv 1 2 64 256 resident 4096\n"}) {
    tvc::Manifest bad;
    EXPECT_FALSE(tvc::parseManifest(prefillWith(lines), bad, error)) << lines;
    EXPECT_NE(error.find("malformed manifest line"), std::string::npos)
        << error;
  }
}

/// A prefill compiled for fewer tokens per call (--max-prefill-tokens 64)
/// than its caches' 1024 rows, with `lines` after the weights.
std::string chunkedPrefillWith(const std::string &lines,
                               const std::string &bound = "1,64") {
  return "tvc-model 2\nweights 12288\n" + lines +
         "entry prefill forward_prefill 1 1 0\n"
         "input input_ids 7 0 1,-1 " +
         bound + "\n" +
         "input past_len 7 0 - -\n"
         "input past_key_values.0.key 1 1 1,1024,768 -\n"
         "input past_key_values.0.value 1 1 1,1024,768 -\n"
         "result 1 -1 1,-1,50257\n"
         "end\n";
}

/// The context comes from the `context` line when there is one (the
/// prefill's own bound may be smaller); older manifests fall back to the
/// prefill's bound, then to the longest cache.
TEST(Manifest, Context) {
  tvc::Manifest chunked;
  std::string error;
  ASSERT_TRUE(
      tvc::parseManifest(chunkedPrefillWith("context 1024\n"), chunked, error))
      << error;
  EXPECT_EQ(chunked.context, 1024);
  EXPECT_EQ(chunked.prefillTokenBound(), 64);
  EXPECT_EQ(chunked.contextPositions(), 1024);

  // Before the line existed the prefill's bound was the context.
  tvc::Manifest older;
  ASSERT_TRUE(tvc::parseManifest(chunkedPrefillWith(""), older, error))
      << error;
  EXPECT_EQ(older.context, 0);
  EXPECT_EQ(older.prefillTokenBound(), 64);
  EXPECT_EQ(older.contextPositions(), 64);

  // Unbounded sequence inputs: the caches' rows.
  tvc::Manifest unbounded;
  ASSERT_TRUE(tvc::parseManifest(chunkedPrefillWith("", "-"), unbounded, error))
      << error;
  EXPECT_EQ(unbounded.prefillTokenBound(), 0);
  EXPECT_EQ(unbounded.contextPositions(), 1024);

  // The offload plan's lines follow it.
  tvc::Manifest offloaded;
  ASSERT_TRUE(tvc::parseManifest(
      chunkedPrefillWith("context 1024\noffload 8192 1\n"
                         "offload-item 0 0 100 resident\n"
                         "offload-kv 0 1 1024 3072 streamed\n"
                         "offload-kv 1 1 1024 3072 resident\n"),
      offloaded, error))
      << error;
  EXPECT_EQ(offloaded.contextPositions(), 1024);
  EXPECT_EQ(offloaded.offloadKvItems.size(), 2u);

  // No prefill entry point: no context.
  tvc::Manifest forward;
  ASSERT_TRUE(tvc::parseManifest(manifestWith(""), forward, error)) << error;
  EXPECT_EQ(forward.contextPositions(), 0);
}

/// A context that is not one positive number, or given twice.
TEST(Manifest, MalformedContext) {
  const Rejected cases[] = {
      {"context 0\n", "malformed manifest line 3: context 0"},
      {"context -5\n", "malformed manifest line 3"},
      {"context\n", "malformed manifest line 3"},
      {"context ten\n", "malformed manifest line 3"},
      {"context 12 34\n", "malformed manifest line 3"},
      {"context 1024\ncontext 1024\n", "malformed manifest line 4"},
  };
  expectRejected(cases,
                 [](const char *lines) { return chunkedPrefillWith(lines); });
}

} // namespace
