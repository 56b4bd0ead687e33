//===- PremergeCostModel.cpp - Calibrated costs of the premerge model -----===//
//
// The parts of PremergeCostModel.h that are not arithmetic on constants:
// the GEMM rate interpolated on a grid of measured shapes, and calibration
// files (JSON, written by tvc-calibrate) read into CpuCosts and written
// from them. A file is checked whole before anything uses it: the version,
// every field present and positive, the grid's axes increasing and its
// rates as many as its shapes.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/PremergeCostModel.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

using namespace mlir::tvc::premerge;
using llvm::json::Array;
using llvm::json::Object;
using llvm::json::Value;

namespace {

/// Where `size` falls on `axis`: the two neighbouring indices and the weight
/// of the upper one, linear in log2 of the size; clamped to the ends.
struct AxisPosition {
  size_t lower, upper;
  double weight;
};

AxisPosition locate(const std::vector<int64_t> &axis, int64_t size) {
  if (size <= axis.front())
    return {0, 0, 0.0};
  if (size >= axis.back())
    return {axis.size() - 1, axis.size() - 1, 0.0};
  size_t upper = llvm::lower_bound(axis, size) - axis.begin();
  size_t lower = upper - 1;
  double weight =
      (std::log2(double(size)) - std::log2(double(axis[lower]))) /
      (std::log2(double(axis[upper])) - std::log2(double(axis[lower])));
  return {lower, upper, weight};
}

llvm::Error fieldError(llvm::StringRef source, const llvm::Twine &message) {
  return llvm::createStringError("calibration file '" + source +
                                 "': " + message);
}

/// Number `key` of `object`, which must be present, finite and positive.
llvm::Expected<double> positiveNumber(const Object &object, llvm::StringRef key,
                                      llvm::StringRef source) {
  const Value *value = object.get(key);
  if (!value)
    return fieldError(source, "missing '" + key + "'");
  std::optional<double> number = value->getAsNumber();
  if (!number || !std::isfinite(*number) || *number <= 0) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << *value;
    return fieldError(source,
                      "'" + key + "' must be a positive number, got " + text);
  }
  return *number;
}

/// Axis `key` of the grid: a non-empty array of increasing positive
/// integers.
llvm::Error readAxis(const Object &grid, llvm::StringRef key,
                     llvm::StringRef source, std::vector<int64_t> &axis) {
  const Array *values = grid.getArray(key);
  if (!values)
    return fieldError(source, "missing array 'gemm." + key + "'");
  for (const Value &value : *values) {
    std::optional<int64_t> size = value.getAsInteger();
    if (!size || *size < 1 || (!axis.empty() && *size <= axis.back()))
      return fieldError(source, "'gemm." + key +
                                    "' must hold strictly increasing "
                                    "positive integers");
    axis.push_back(*size);
  }
  if (axis.empty())
    return fieldError(source, "'gemm." + key + "' is empty");
  return llvm::Error::success();
}

} // namespace

double GemmGrid::interpolate(int64_t rows, int64_t out, int64_t in) const {
  AxisPosition r = locate(this->rows, rows), o = locate(this->out, out),
               i = locate(this->in, in);
  double rate = 0;
  for (int cr = 0; cr < 2; ++cr)
    for (int co = 0; co < 2; ++co)
      for (int ci = 0; ci < 2; ++ci) {
        double weight = (cr ? r.weight : 1 - r.weight) *
                        (co ? o.weight : 1 - o.weight) *
                        (ci ? i.weight : 1 - i.weight);
        if (weight != 0)
          rate += weight * at(cr ? r.upper : r.lower, co ? o.upper : o.lower,
                              ci ? i.upper : i.lower);
      }
  return rate;
}

llvm::Expected<CpuCosts>
mlir::tvc::premerge::parseCpuCosts(llvm::StringRef json,
                                   llvm::StringRef source) {
  llvm::Expected<Value> parsed = llvm::json::parse(json);
  if (!parsed)
    return fieldError(source,
                      "invalid JSON: " + llvm::toString(parsed.takeError()));
  const Object *root = parsed->getAsObject();
  if (!root)
    return fieldError(source, "expects a JSON object");

  std::optional<int64_t> version = root->getInteger("version");
  if (!version)
    return fieldError(source, "missing integer 'version'");
  if (*version != kCalibrationVersion)
    return fieldError(source,
                      llvm::formatv("unknown version {0} (this tvc reads "
                                    "version {1})",
                                    *version, kCalibrationVersion));
  std::optional<llvm::StringRef> target = root->getString("target");
  if (!target)
    return fieldError(source, "missing string 'target'");
  if (*target != "cpu")
    return fieldError(source, "expects target 'cpu', got '" + *target + "'");
  if (const Value *threads = root->get("threads")) {
    std::optional<int64_t> count = threads->getAsInteger();
    if (!count || *count < 1)
      return fieldError(source, "'threads' must be a positive integer");
  }

  CpuCosts costs;
  for (auto [key, field] :
       {std::pair{"call_overhead_us", &costs.callOverheadUs},
        std::pair{"bytes_per_us", &costs.bytesPerUs},
        std::pair{"block_diagonal_flops_per_us",
                  &costs.blockDiagonalFlopsPerUs}}) {
    llvm::Expected<double> number = positiveNumber(*root, key, source);
    if (!number)
      return number.takeError();
    *field = *number;
  }

  const Object *grid = root->getObject("gemm");
  if (!grid)
    return fieldError(source, "missing object 'gemm'");
  GemmGrid &gemm = costs.gemm;
  if (llvm::Error error = readAxis(*grid, "rows", source, gemm.rows))
    return std::move(error);
  if (llvm::Error error = readAxis(*grid, "out", source, gemm.out))
    return std::move(error);
  if (llvm::Error error = readAxis(*grid, "in", source, gemm.in))
    return std::move(error);
  std::string shape = llvm::formatv("{0} x {1} x {2}", gemm.rows.size(),
                                    gemm.out.size(), gemm.in.size());
  auto badRates = [&] {
    return fieldError(source, "'gemm.flops_per_us' must be a " + shape +
                                  " array (rows, out, in) of positive "
                                  "numbers");
  };
  const Array *byRows = grid->getArray("flops_per_us");
  if (!byRows)
    return fieldError(source, "missing array 'gemm.flops_per_us'");
  if (byRows->size() != gemm.rows.size())
    return badRates();
  for (const Value &rowsValue : *byRows) {
    const Array *byOut = rowsValue.getAsArray();
    if (!byOut || byOut->size() != gemm.out.size())
      return badRates();
    for (const Value &outValue : *byOut) {
      const Array *byIn = outValue.getAsArray();
      if (!byIn || byIn->size() != gemm.in.size())
        return badRates();
      for (const Value &rateValue : *byIn) {
        std::optional<double> rate = rateValue.getAsNumber();
        if (!rate || !std::isfinite(*rate) || *rate <= 0)
          return badRates();
        gemm.flopsPerUs.push_back(*rate);
      }
    }
  }
  // Code that prices a call without its shape gets the rate of the shape
  // the hand-measured constant came from.
  costs.flopsPerUs = gemm.interpolate(128, 768, 768);
  return costs;
}

llvm::Expected<CpuCosts>
mlir::tvc::premerge::loadCpuCosts(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError("cannot read calibration file '" + path +
                                   "': " + buffer.getError().message());
  return parseCpuCosts((*buffer)->getBuffer(), path);
}

Value mlir::tvc::premerge::cpuCostsToJson(const CpuCosts &costs,
                                          int64_t threads) {
  // Without a grid the single rate is a one-point grid.
  GemmGrid gemm = costs.gemm;
  if (gemm.empty())
    gemm = {{128}, {768}, {768}, {costs.flopsPerUs}};
  Array byRows;
  for (size_t r = 0; r < gemm.rows.size(); ++r) {
    Array byOut;
    for (size_t o = 0; o < gemm.out.size(); ++o) {
      Array byIn;
      for (size_t i = 0; i < gemm.in.size(); ++i)
        byIn.push_back(gemm.at(r, o, i));
      byOut.push_back(std::move(byIn));
    }
    byRows.push_back(std::move(byOut));
  }
  return Object{
      {"version", kCalibrationVersion},
      {"target", "cpu"},
      {"threads", threads},
      {"call_overhead_us", costs.callOverheadUs},
      {"bytes_per_us", costs.bytesPerUs},
      {"block_diagonal_flops_per_us", costs.blockDiagonalFlopsPerUs},
      {"gemm", Object{{"rows", Array(gemm.rows)},
                      {"out", Array(gemm.out)},
                      {"in", Array(gemm.in)},
                      {"flops_per_us", std::move(byRows)}}},
  };
}
