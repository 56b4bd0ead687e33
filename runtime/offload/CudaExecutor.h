//===- CudaExecutor.h - Between the CPU and CUDA offload executors -*- C++ -*-//
//
// Private to runtime/offload. The C entry points of tvc_offload.h live in
// Executor.cpp; when the open executor is the CUDA one
// (tvc_offload_open_cuda, CudaExecutor.cpp) they hand the call over through
// the functions below. A runtime built without CUDA defines them in
// NoCudaExecutor.cpp (never open). One executor per process: each
// open asks whether the other kind is open. Executor.cpp keeps the one
// error message both report through tvc_offload_last_error.
//
//===----------------------------------------------------------------------===//

#ifndef TVC_RUNTIME_OFFLOAD_CUDAEXECUTOR_H
#define TVC_RUNTIME_OFFLOAD_CUDAEXECUTOR_H

#include "runtime/api/tvc_offload.h"

#include <cstdint>
#include <string>

namespace tvc::offload {

/// Defined by CudaExecutor.cpp (NoCudaExecutor.cpp without CUDA). Each does
/// nothing (the wait returns `home`, the stats false) when no CUDA executor is
/// open.
bool cudaExecutorIsOpen();
void cudaExecutorPrefetch(int64_t item);
int64_t cudaExecutorWait(int64_t item, int64_t home);
void cudaExecutorEvict(int64_t item);
/// The KV-cache calls (kv_wait returns -1 when no CUDA executor is open or
/// the cache is not a streamed one).
void cudaExecutorKvPrefetch(int64_t kvItem, int64_t validRows);
int64_t cudaExecutorKvWait(int64_t kvItem, int64_t validRows);
void cudaExecutorKvEvict(int64_t kvItem, int64_t firstRow, int64_t endRow);
void cudaExecutorClose();
bool cudaExecutorStats(tvc_offload_stats_t &out);

/// Defined by Executor.cpp.
bool cpuExecutorIsOpen();
/// Replaces tvc_offload_last_error's message.
void setLastError(const std::string &message);
/// Sets it unless a failure since the last open set it already.
void setLastErrorOnce(const std::string &message);

} // namespace tvc::offload

#endif // TVC_RUNTIME_OFFLOAD_CUDAEXECUTOR_H
