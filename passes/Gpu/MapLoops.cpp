//===- MapLoops.cpp - tvc-gpu-map-loops -----------------------------------===//
//
// Tiles the outermost scf.parallel loops of the generated code into a grid
// of fixed-size thread blocks and maps them, innermost dimension to x.
//
//===----------------------------------------------------------------------===//

#include "passes/Gpu/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::tvc {
#define GEN_PASS_DEF_TVCGPUMAPLOOPS
#include "passes/Gpu/Passes.h.inc"
} // namespace mlir::tvc

using namespace mlir;

namespace {

/// CUDA's limit on a block's z extent.
constexpr int64_t kMaxThreadsZ = 64;

/// The constant trip count of dimension `dim` of `loop`, if known.
std::optional<int64_t> staticTripCount(scf::ParallelOp loop, unsigned dim) {
  APInt lower, upper, step;
  if (!matchPattern(loop.getLowerBound()[dim], m_ConstantInt(&lower)) ||
      !matchPattern(loop.getUpperBound()[dim], m_ConstantInt(&upper)) ||
      !matchPattern(loop.getStep()[dim], m_ConstantInt(&step)) ||
      step.getSExtValue() <= 0)
    return std::nullopt;
  int64_t extent = upper.getSExtValue() - lower.getSExtValue();
  return extent <= 0 ? 0 : llvm::divideCeil(extent, step.getSExtValue());
}

/// Tile sizes giving the inner loop up to `threads` iterations, innermost
/// dimension first, over at most three dimensions.
SmallVector<int64_t> chooseTiles(scf::ParallelOp loop, int64_t threads) {
  unsigned rank = loop.getNumLoops();
  SmallVector<int64_t> tiles(rank, 1);
  int64_t left = threads;
  for (unsigned taken = 0; taken < 3 && taken < rank && left > 1; ++taken) {
    unsigned dim = rank - 1 - taken;
    int64_t limit = taken == 2 ? std::min(left, kMaxThreadsZ) : left;
    std::optional<int64_t> extent = staticTripCount(loop, dim);
    int64_t tile = limit;
    if (extent && *extent < limit)
      tile = std::max<int64_t>(1, llvm::PowerOf2Ceil(*extent));
    tiles[dim] = tile;
    left /= tile;
  }
  return tiles;
}

/// Maps `loop`'s dimensions, innermost first, to the three processors
/// starting at `first` (BlockX or ThreadX); the rest run sequentially.
LogicalResult mapLoop(scf::ParallelOp loop, gpu::Processor first) {
  MLIRContext *context = loop.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(1, context);
  unsigned rank = loop.getNumLoops();
  SmallVector<gpu::ParallelLoopDimMappingAttr> mapping;
  for (unsigned dim = 0; dim < rank; ++dim) {
    unsigned fromInner = rank - 1 - dim;
    gpu::Processor processor =
        fromInner < 3 ? static_cast<gpu::Processor>(
                            static_cast<int64_t>(first) + fromInner)
                      : gpu::Processor::Sequential;
    mapping.push_back(gpu::ParallelLoopDimMappingAttr::get(
        context, processor, identity, identity));
  }
  return gpu::setMappingAttr(loop, mapping);
}

struct MapLoopsPass : public tvc::impl::TvcGpuMapLoopsBase<MapLoopsPass> {
  using TvcGpuMapLoopsBase::TvcGpuMapLoopsBase;

  void runOnOperation() override {
    if (threads < 1 || threads > 1024) {
      getOperation().emitError()
          << "tvc-gpu-map-loops: threads must be in [1, 1024], got "
          << static_cast<int64_t>(threads);
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> outermost;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>())
        outermost.push_back(loop);
    });
    for (scf::ParallelOp loop : outermost) {
      SmallVector<int64_t> tiles = chooseTiles(loop, threads);
      auto [outer, inner] =
          scf::tileParallelLoop(loop, tiles, /*noMinMaxBounds=*/true);
      if (failed(mapLoop(outer, gpu::Processor::BlockX)) ||
          failed(mapLoop(inner, gpu::Processor::ThreadX)))
        return signalPassFailure();
      // Loops nested in a tile (none today: linalg's reductions become
      // scf.for) run sequentially in each thread.
      inner.getBody()->walk([&](scf::ParallelOp nested) {
        SmallVector<gpu::ParallelLoopDimMappingAttr> sequential(
            nested.getNumLoops(),
            gpu::ParallelLoopDimMappingAttr::get(
                nested.getContext(), gpu::Processor::Sequential,
                AffineMap::getMultiDimIdentityMap(1, nested.getContext()),
                AffineMap::getMultiDimIdentityMap(1, nested.getContext())));
        (void)gpu::setMappingAttr(nested, sequential);
      });
    }
  }
};

} // namespace
