//===- Eval.cpp - Perplexity and task accuracy of a compiled model --------===//
//
// The files are read and every id is checked against the vocabulary before
// the model runs; each window or example is one call of the entry point,
// whose logits are read in double (log-sum-exp around the row's maximum).
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/Eval.h"

#include "lib/Support/Npy.h"
#include "dialects/tvc/IR/TvcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tvc;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool isIdType(int32_t type) {
  return type == static_cast<int32_t>(OnnxElementType::Int64) ||
         type == static_cast<int32_t>(OnnxElementType::Int32);
}

/// The ids of an int64 or int32 tensor, widened.
std::vector<int64_t> getIds(const HostTensor &tensor) {
  std::vector<int64_t> ids(tensor.getNumElements());
  if (tensor.elementType == static_cast<int32_t>(OnnxElementType::Int64)) {
    if (!ids.empty())
      std::memcpy(ids.data(), tensor.bytes.data(), ids.size() * 8);
    return ids;
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    int32_t value;
    std::memcpy(&value, tensor.bytes.data() + 4 * i, 4);
    ids[i] = value;
  }
  return ids;
}

/// A [1, T] tensor of `values` in the element type of input `index`.
HostTensor makeIdTensor(const EntrySignature &entry, size_t index,
                        llvm::ArrayRef<int64_t> values) {
  HostTensor tensor;
  tensor.name = entry.inputNames[index];
  tensor.elementType = getOnnxElementType(entry.inputs[index].getElementType());
  tensor.shape = {1, static_cast<int64_t>(values.size())};
  size_t size = getElementSize(tensor.elementType);
  tensor.bytes.resize(values.size() * size);
  for (size_t i = 0; i < values.size(); ++i) {
    if (size == 8) {
      std::memcpy(tensor.bytes.data() + 8 * i, &values[i], 8);
    } else {
      int32_t narrow = static_cast<int32_t>(values[i]);
      std::memcpy(tensor.bytes.data() + 4 * i, &narrow, 4);
    }
  }
  return tensor;
}

/// The logits [1, T, V] of one window, read as double.
class Logits {
public:
  /// Runs the entry point on `ids` and checks the result's shape.
  static llvm::Expected<Logits> run(JitModel &model, const EvalModel &eval,
                                    llvm::ArrayRef<int64_t> ids) {
    const EntrySignature &entry = *eval.entry;
    std::vector<HostTensor> inputs;
    inputs.push_back(makeIdTensor(entry, 0, ids));
    if (entry.inputs.size() > 1) {
      std::vector<int64_t> positions(ids.size());
      for (size_t i = 0; i < positions.size(); ++i)
        positions[i] = static_cast<int64_t>(i);
      inputs.push_back(makeIdTensor(entry, 1, positions));
    }
    auto outputs = model.run(entry.name, inputs);
    if (!outputs)
      return outputs.takeError();
    if (outputs->empty())
      return makeError("@" + entry.name + " returned no logits");
    Logits logits;
    logits.tensor = std::move(outputs->front());
    logits.vocab = eval.vocab;
    const HostTensor &t = logits.tensor;
    int64_t length = static_cast<int64_t>(ids.size());
    if (t.shape != std::vector<int64_t>{1, length, eval.vocab})
      return makeError(
          llvm::formatv("@{0} returned logits of shape [{1:$[x]}] "
                        "for {2} tokens; expected [1x{2}x{3}]",
                        entry.name,
                        llvm::make_range(t.shape.begin(), t.shape.end()),
                        length, eval.vocab)
              .str());
    return logits;
  }

  double at(int64_t row, int64_t column) const {
    size_t index = row * vocab + column;
    if (tensor.elementType == static_cast<int32_t>(OnnxElementType::Double)) {
      double value;
      std::memcpy(&value, tensor.bytes.data() + 8 * index, 8);
      return value;
    }
    float value;
    std::memcpy(&value, tensor.bytes.data() + 4 * index, 4);
    return value;
  }

  /// log sum_v exp(logit[row, v]), around the row's maximum.
  double logSumExp(int64_t row) const {
    double maximum = at(row, 0);
    for (int64_t v = 1; v < vocab; ++v)
      maximum = std::max(maximum, at(row, v));
    double sum = 0;
    for (int64_t v = 0; v < vocab; ++v)
      sum += std::exp(at(row, v) - maximum);
    return maximum + std::log(sum);
  }

  /// -log p(target) at `row`.
  double nll(int64_t row, int64_t target) const {
    return logSumExp(row) - at(row, target);
  }

  /// The first id of the largest logit at `row`.
  int64_t argmax(int64_t row) const {
    int64_t best = 0;
    for (int64_t v = 1; v < vocab; ++v)
      if (at(row, v) > at(row, best))
        best = v;
    return best;
  }

private:
  HostTensor tensor;
  int64_t vocab = 0;
};

/// Why some id of `ids` is outside [0, vocab), or success; `describe`
/// names an index.
llvm::Error checkVocabulary(llvm::ArrayRef<int64_t> ids, int64_t vocab,
                            llvm::function_ref<std::string(size_t)> describe) {
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      return makeError(llvm::formatv("token id {0} at {1} is outside the "
                                     "model's vocabulary [0, {2})",
                                     ids[i], describe(i), vocab)
                           .str());
  return llvm::Error::success();
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

llvm::Expected<EvalModel> mlir::tvc::makeEvalModel(const EntrySignature &entry,
                                                   int64_t positionRows) {
  EvalModel eval;
  eval.entry = &entry;
  if (entry.inputs.empty() || entry.inputs.size() > 2)
    return makeError(llvm::formatv("--eval calls @{0} with token ids [1, T] "
                                   "and optionally positions [1, T], but it "
                                   "takes {1} inputs",
                                   entry.name, entry.inputs.size())
                         .str());
  for (auto [index, type] : llvm::enumerate(entry.inputs)) {
    bool batchOk = type.getRank() == 2 &&
                   (type.isDynamicDim(0) || type.getDimSize(0) == 1);
    if (!batchOk || !isIdType(getOnnxElementType(type.getElementType())))
      return makeError(llvm::formatv("--eval: input #{0} ('{1}') of @{2} is "
                                     "{3}; expected {4} of int64 or int32 "
                                     "[1, T]",
                                     index, entry.inputNames[index], entry.name,
                                     type,
                                     index == 0 ? "token ids" : "positions")
                           .str());
    auto consider = [&](int64_t bound, const std::string &source) {
      if (bound > 0 && (eval.maxLength == 0 || bound < eval.maxLength)) {
        eval.maxLength = bound;
        eval.maxLengthSource = source;
      }
    };
    if (!type.isDynamicDim(1))
      consider(type.getDimSize(1), "the static sequence length of input '" +
                                       entry.inputNames[index] + "'");
    const std::vector<int64_t> &maxShape = entry.inputMaxShapes[index];
    if (maxShape.size() == 2)
      consider(maxShape[1],
               "the compiled bound of input '" + entry.inputNames[index] + "'");
    if (index == 0)
      consider(positionRows, "the learned position table");
  }
  RankedTensorType logits =
      entry.results.empty() ? RankedTensorType() : entry.results.front();
  int32_t logitsType = logits ? getOnnxElementType(logits.getElementType()) : 0;
  if (!logits || logits.getRank() != 3 || logits.isDynamicDim(2) ||
      (logitsType != static_cast<int32_t>(OnnxElementType::Float) &&
       logitsType != static_cast<int32_t>(OnnxElementType::Double)))
    return makeError("--eval: the first result of @" + entry.name +
                     " must be float logits [1, T, vocab] with a static "
                     "vocabulary");
  eval.vocab = logits.getDimSize(2);
  return eval;
}

llvm::Expected<CompiledEvalModel>
mlir::tvc::compileForEval(OwningOpRef<ModuleOp> module, llvm::StringRef entry,
                          llvm::StringRef weightsDir,
                          const JitOptions &options) {
  auto function = module->lookupSymbol<func::FuncOp>(entry);
  if (!function || function.isExternal() || function.isPrivate())
    return llvm::createStringError("the module has no public function @" +
                                   entry);
  int64_t positionRows = 0;
  function.walk([&](LearnedPositionsOp op) {
    positionRows = op.getTable().getType().getDimSize(0);
  });
  // Only the evaluated function runs: compile nothing else.
  for (auto other : llvm::make_early_inc_range(module->getOps<func::FuncOp>()))
    if (other != function && !other.isExternal() && !other.isPrivate())
      other.erase();
  CompiledEvalModel compiled;
  compiled.entry = entry.str();
  auto start = std::chrono::steady_clock::now();
  auto model = JitModel::compile(std::move(module), weightsDir, options);
  if (!model)
    return model.takeError();
  compiled.compileMs = std::chrono::duration<double, std::milli>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  compiled.model = std::move(*model);
  llvm::Expected<const EntrySignature *> signature =
      compiled.model->findEntry(entry);
  if (!signature)
    return signature.takeError();
  llvm::Expected<EvalModel> eval = makeEvalModel(**signature, positionRows);
  if (!eval)
    return eval.takeError();
  compiled.eval = *eval;
  return compiled;
}

llvm::Expected<int64_t>
mlir::tvc::resolveEvalContext(const CompiledEvalModel &compiled,
                              int64_t context) {
  if (context != 0)
    return context;
  if (compiled.eval.maxLength == 0)
    return llvm::createStringError(
        "@" + compiled.entry +
        " takes sequences of any length; choose the window with "
        "--eval-context");
  return compiled.eval.maxLength;
}

llvm::Expected<TokenFile> mlir::tvc::readTokenFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path + ": cannot read: " + buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  TokenFile file;
  // A .npy name promises an array: reading it as bytes would hide the error.
  if (!hasNpyMagic(bytes) && path.ends_with_insensitive(".npy"))
    return parseNpy(bytes, path).takeError();
  if (!hasNpyMagic(bytes)) {
    file.format = "bytes";
    file.ids.assign(bytes.bytes_begin(), bytes.bytes_end());
    return file;
  }
  llvm::Expected<HostTensor> tensor = parseNpy(bytes, path);
  if (!tensor)
    return tensor.takeError();
  if (!isIdType(tensor->elementType) || tensor->shape.size() != 1)
    return makeError(llvm::formatv("{0}: token ids must be a 1-D int64 or "
                                   "int32 array, got {1} with {2} dimensions",
                                   path,
                                   getElementTypeName(tensor->elementType),
                                   tensor->shape.size())
                         .str());
  file.format = std::string("npy ") + getElementTypeName(tensor->elementType);
  file.ids = getIds(*tensor);
  return file;
}

llvm::Expected<IdMatrix> mlir::tvc::readIdMatrix(llvm::StringRef path) {
  llvm::Expected<HostTensor> tensor = readNpyFile(path);
  if (!tensor)
    return tensor.takeError();
  if (!isIdType(tensor->elementType) || tensor->shape.size() != 2)
    return makeError(llvm::formatv("{0}: expected a 2-D int64 or int32 array "
                                   "[N, T], got {1} with {2} dimensions",
                                   path,
                                   getElementTypeName(tensor->elementType),
                                   tensor->shape.size())
                         .str());
  IdMatrix matrix;
  matrix.rows = tensor->shape[0];
  matrix.columns = tensor->shape[1];
  matrix.ids = getIds(*tensor);
  return matrix;
}

llvm::Expected<PerplexityResult>
mlir::tvc::evaluatePerplexity(JitModel &model, const EvalModel &eval,
                              llvm::ArrayRef<int64_t> ids, int64_t context,
                              int64_t stride, llvm::StringRef source,
                              const EvalProgress &progress) {
  auto start = std::chrono::steady_clock::now();
  int64_t count = static_cast<int64_t>(ids.size());
  if (context < 2)
    return makeError("--eval-context must be at least 2, got " +
                     llvm::Twine(context));
  if (eval.maxLength > 0 && context > eval.maxLength)
    return makeError(llvm::formatv("--eval-context {0} is longer than the "
                                   "model takes: {1} tokens ({2})",
                                   context, eval.maxLength,
                                   eval.maxLengthSource)
                         .str());
  if (stride < 1 || stride > context)
    return makeError(llvm::formatv("--eval-stride must be in [1, {0}] (the "
                                   "context), got {1}",
                                   context, stride)
                         .str());
  if (count < 2)
    return makeError(source + ": needs at least 2 tokens to score, got " +
                     llvm::Twine(count));
  if (llvm::Error error = checkVocabulary(ids, eval.vocab, [&](size_t i) {
        return "index " + std::to_string(i) + " of " + source.str();
      }))
    return std::move(error);

  // Window starts: every stride tokens until a window reaches the end.
  std::vector<int64_t> begins;
  for (int64_t begin = 0; begin < count; begin += stride) {
    begins.push_back(begin);
    if (begin + context >= count)
      break;
  }
  PerplexityResult result;
  result.fileTokens = count;
  result.context = context;
  result.stride = stride;
  int64_t previousEnd = 0;
  for (auto [done, begin] : llvm::enumerate(begins)) {
    int64_t end = std::min(begin + context, count);
    // Tokens an earlier window scored, and the window's first (nothing
    // before it in the window to predict it from), are not scored again.
    int64_t first = std::max(previousEnd, begin + 1);
    previousEnd = end;
    if (first >= end)
      continue;
    llvm::Expected<Logits> logits =
        Logits::run(model, eval, ids.slice(begin, end - begin));
    if (!logits)
      return logits.takeError();
    for (int64_t j = first; j < end; ++j)
      result.totalNll += logits->nll(j - 1 - begin, ids[j]);
    result.scoredTokens += end - first;
    ++result.windows;
    if (progress)
      progress(done + 1, begins.size(), "windows");
  }
  result.meanNll = result.totalNll / result.scoredTokens;
  result.perplexity = std::exp(result.meanNll);
  result.bitsPerToken = result.meanNll / std::log(2.0);
  result.seconds = secondsSince(start);
  return result;
}

llvm::Expected<AccuracyResult> mlir::tvc::evaluateAccuracy(
    JitModel &model, const EvalModel &eval, const IdMatrix &inputs,
    const IdMatrix &answers, llvm::StringRef inputsPath,
    llvm::StringRef answersPath, const EvalProgress &progress) {
  auto start = std::chrono::steady_clock::now();
  int64_t length = inputs.columns, span = answers.columns;
  if (inputs.rows != answers.rows)
    return makeError(llvm::formatv("{0} holds {1} examples but {2} holds {3} "
                                   "answers",
                                   inputsPath, inputs.rows, answersPath,
                                   answers.rows)
                         .str());
  if (inputs.rows < 1)
    return makeError(inputsPath + ": holds no examples");
  if (span < 1 || span >= length)
    return makeError(llvm::formatv("{0}: answers of {1} tokens need prompts "
                                   "longer than that, but {2} holds {3} tokens "
                                   "per example",
                                   answersPath, span, inputsPath, length)
                         .str());
  if (eval.maxLength > 0 && length > eval.maxLength)
    return makeError(llvm::formatv("{0}: examples of {1} tokens are longer "
                                   "than the model takes: {2} tokens ({3})",
                                   inputsPath, length, eval.maxLength,
                                   eval.maxLengthSource)
                         .str());
  auto at = [](llvm::StringRef path, int64_t columns) {
    return [=](size_t i) {
      return llvm::formatv("[{0}, {1}] of {2}", i / columns, i % columns, path)
          .str();
    };
  };
  if (llvm::Error error =
          checkVocabulary(inputs.ids, eval.vocab, at(inputsPath, length)))
    return std::move(error);
  if (llvm::Error error =
          checkVocabulary(answers.ids, eval.vocab, at(answersPath, span)))
    return std::move(error);

  AccuracyResult result;
  result.examples = inputs.rows;
  result.sequenceLength = length;
  result.answerLength = span;
  double totalNll = 0;
  llvm::ArrayRef<int64_t> all(inputs.ids);
  for (int64_t example = 0; example < inputs.rows; ++example) {
    llvm::Expected<Logits> logits =
        Logits::run(model, eval, all.slice(example * length, length));
    if (!logits)
      return logits.takeError();
    bool allRight = true;
    for (int64_t k = 0; k < span; ++k) {
      // The answer at position t is predicted by the logits at t - 1.
      int64_t row = length - span + k - 1;
      int64_t want = answers.ids[example * span + k];
      bool right = logits->argmax(row) == want;
      result.correctTokens += right;
      allRight &= right;
      totalNll += logits->nll(row, want);
    }
    result.exactMatches += allRight;
    if (progress)
      progress(example + 1, inputs.rows, "examples");
  }
  result.exactMatch = double(result.exactMatches) / result.examples;
  result.tokenAccuracy =
      double(result.correctTokens) / (result.examples * span);
  result.answerNll = totalNll / (result.examples * span);
  result.seconds = secondsSince(start);
  return result;
}

void mlir::tvc::printEvalTable(const EvalReport &report,
                               llvm::raw_ostream &os) {
  os << llvm::formatv("eval @{0} of {1}: vocab {2}, {3} thread(s), compiled "
                      "in {4:F0} ms\n",
                      report.entry, report.model, report.vocab, report.threads,
                      report.compileMs);
  if (const auto &p = report.perplexity) {
    os << llvm::formatv("perplexity on {0} ({1}): {2} tokens, {3} windows of "
                        "{4} every {5}\n",
                        report.tokensPath, report.tokensFormat, p->fileTokens,
                        p->windows, p->context, p->stride);
    os << llvm::formatv("  scored tokens   {0}\n", p->scoredTokens);
    os << llvm::formatv("  nll             {0:F6} nats/token\n", p->meanNll);
    os << llvm::formatv("  bits per token  {0:F6}\n", p->bitsPerToken);
    os << llvm::formatv("  perplexity      {0:F6}\n", p->perplexity);
    os << llvm::formatv("  time            {0:F2} s\n", p->seconds);
  }
  if (const auto &a = report.accuracy) {
    os << llvm::formatv("accuracy on {0} and {1}: {2} examples of {3} tokens, "
                        "answers of {4}\n",
                        report.inputsPath, report.answersPath, a->examples,
                        a->sequenceLength, a->answerLength);
    os << llvm::formatv("  exact match     {0:F4} ({1}/{2})\n", a->exactMatch,
                        a->exactMatches, a->examples);
    os << llvm::formatv("  token accuracy  {0:F4} ({1}/{2})\n",
                        a->tokenAccuracy, a->correctTokens,
                        a->examples * a->answerLength);
    os << llvm::formatv("  answer nll      {0:F6} nats/token\n", a->answerNll);
    os << llvm::formatv("  time            {0:F2} s\n", a->seconds);
  }
}

llvm::json::Value mlir::tvc::evalReportToJson(const EvalReport &report) {
  llvm::json::Object root{
      {"model", report.model},     {"entry", report.entry},
      {"vocab", report.vocab},     {"max_length", report.maxLength},
      {"threads", report.threads}, {"compile_ms", report.compileMs},
  };
  if (const auto &p = report.perplexity)
    root["perplexity"] = llvm::json::Object{
        {"tokens_file", report.tokensPath},
        {"tokens_format", report.tokensFormat},
        {"file_tokens", p->fileTokens},
        {"scored_tokens", p->scoredTokens},
        {"windows", p->windows},
        {"context", p->context},
        {"stride", p->stride},
        {"nll", p->meanNll},
        {"total_nll", p->totalNll},
        {"bits_per_token", p->bitsPerToken},
        {"perplexity", p->perplexity},
        {"seconds", p->seconds},
    };
  if (const auto &a = report.accuracy)
    root["accuracy"] = llvm::json::Object{
        {"inputs_file", report.inputsPath},
        {"answers_file", report.answersPath},
        {"examples", a->examples},
        {"sequence_length", a->sequenceLength},
        {"answer_length", a->answerLength},
        {"exact_matches", a->exactMatches},
        {"exact_match", a->exactMatch},
        {"correct_tokens", a->correctTokens},
        {"token_accuracy", a->tokenAccuracy},
        {"answer_nll", a->answerNll},
        {"seconds", a->seconds},
    };
  return llvm::json::Value(std::move(root));
}
