//===- Eval.h - Perplexity and task accuracy of a compiled model -*- C++
//-*-===//
//
// What `tvc-run --eval` measures on a JitModel's full-sequence entry point
// (token ids [1, T], optionally positions [1, T] -> logits [1, T, V]), the
// yardstick of the accuracy-driven passes:
//
//  - perplexity on a token file: windows of `context` tokens starting every
//    `stride` tokens (Hugging Face's perplexity guide); each window scores
//    the tokens after the previous window's end that it predicts from at
//    least one token of context, so overlapping windows count every token
//    once. Mean negative log-likelihood (nats) -> perplexity, bits/token.
//  - task accuracy on prompts X [N, T] (answers included) and expected
//    answers Y [N, A] of the last A positions: teacher forced, the
//    prediction for position t is the argmax of the logits at t - 1; exact
//    match (all A right), token accuracy and the answers' mean NLL.
//
// Log-softmax is computed in double from the logits the model returns.
// Batch 1: one call of the entry point per window or example.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_LIB_DRIVER_EVAL_H
#define TVC_LIB_DRIVER_EVAL_H

#include "lib/Driver/JitModel.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tvc {

/// How to call a model's full-sequence entry point.
struct EvalModel {
  /// The entry point: input 0 holds token ids [1, T] (int64 or int32),
  /// input 1, when present, positions [1, T] (0..T-1, tvc-import's
  /// signature); result 0 is float logits [1, T, vocab].
  const EntrySignature *entry = nullptr;
  int64_t vocab = 0;
  /// The longest sequence the compiled model takes (static dim, max shape
  /// or learned position table), or 0 when unbounded.
  int64_t maxLength = 0;
  /// What `maxLength` comes from, for messages ("the learned position
  /// table", ...).
  std::string maxLengthSource;
};

/// Checks that `entry` has the shape --eval calls and fills in the vocabulary
/// and the bound from its signature; `positionRows` (the learned position
/// table's rows, 0 if none) bounds the length further.
llvm::Expected<EvalModel> makeEvalModel(const EntrySignature &entry,
                                        int64_t positionRows);

/// A model compiled for evaluation: only its full-sequence entry point.
struct CompiledEvalModel {
  std::unique_ptr<JitModel> model;
  EvalModel eval;
  std::string entry;
  double compileMs = 0;
};

/// Compiles public function `entry` of `module` (consumed) alone — the
/// other public functions are erased first — and checks that it has the
/// shape --eval calls (makeEvalModel, bounded also by a learned position
/// table).
llvm::Expected<CompiledEvalModel>
compileForEval(OwningOpRef<ModuleOp> module, llvm::StringRef entry,
               llvm::StringRef weightsDir, const JitOptions &options = {});

/// The perplexity window: `context`, or the model's bound when 0; an
/// error names --eval-context when the model is unbounded.
llvm::Expected<int64_t> resolveEvalContext(const CompiledEvalModel &compiled,
                                           int64_t context);

/// A token file: a 1-D .npy array of int64 or int32 ids, or any other file
/// read as bytes (ids 0..255).
struct TokenFile {
  std::vector<int64_t> ids;
  /// "npy int64", "npy int32" or "bytes".
  std::string format;
};
llvm::Expected<TokenFile> readTokenFile(llvm::StringRef path);

/// A 2-D .npy array of int64 or int32 ids, row-major.
struct IdMatrix {
  int64_t rows = 0, columns = 0;
  std::vector<int64_t> ids;
};
llvm::Expected<IdMatrix> readIdMatrix(llvm::StringRef path);

struct PerplexityResult {
  /// Tokens in the file, tokens scored, windows run.
  int64_t fileTokens = 0, scoredTokens = 0, windows = 0;
  int64_t context = 0, stride = 0;
  /// Summed and mean negative log-likelihood (nats).
  double totalNll = 0, meanNll = 0;
  double perplexity = 0, bitsPerToken = 0;
  double seconds = 0;
};

struct AccuracyResult {
  int64_t examples = 0, sequenceLength = 0, answerLength = 0;
  int64_t exactMatches = 0, correctTokens = 0;
  double exactMatch = 0, tokenAccuracy = 0;
  /// Mean NLL (nats) of the expected answer tokens.
  double answerNll = 0;
  double seconds = 0;
};

/// Called after every window or example with (done, total, what).
using EvalProgress = std::function<void(int64_t, int64_t, llvm::StringRef)>;

/// Perplexity of `ids` in windows of `context` tokens every `stride`
/// (0 < stride <= context <= the model's bound); `source` names the ids in
/// errors.
llvm::Expected<PerplexityResult>
evaluatePerplexity(JitModel &model, const EvalModel &eval,
                   llvm::ArrayRef<int64_t> ids, int64_t context, int64_t stride,
                   llvm::StringRef source, const EvalProgress &progress = {});

/// Teacher-forced accuracy of `answers` [N, A] given `inputs` [N, T];
/// the paths name the files in errors.
llvm::Expected<AccuracyResult>
evaluateAccuracy(JitModel &model, const EvalModel &eval, const IdMatrix &inputs,
                 const IdMatrix &answers, llvm::StringRef inputsPath,
                 llvm::StringRef answersPath,
                 const EvalProgress &progress = {});

/// Everything one `tvc-run --eval` measured, and the options it used.
struct EvalReport {
  std::string model, entry;
  int64_t vocab = 0, maxLength = 0;
  int threads = 0;
  double compileMs = 0;
  std::string tokensPath, tokensFormat;
  std::optional<PerplexityResult> perplexity;
  std::string inputsPath, answersPath;
  std::optional<AccuracyResult> accuracy;
};

/// The report as a small human-readable table.
void printEvalTable(const EvalReport &report, llvm::raw_ostream &os);

/// The report as one JSON object.
llvm::json::Value evalReportToJson(const EvalReport &report);

} // namespace mlir::tvc

#endif // TVC_LIB_DRIVER_EVAL_H
