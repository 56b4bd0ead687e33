/*===- tvc_offload.h - Weights and KV-cache offload executor ---------------===*
 *
 * Runs the offload plan of a model compiled with a RAM budget for its
 * weights and KV caches (docs/Offload.md). The caller opens the executor
 * on the model's weights file (format in docs/CpuTarget.md) with the
 * plan's items and KV caches and passes the blob it returns to the entry
 * points; the compiled code then calls tvc_offload_prefetch / _wait /
 * _evict around the layers that read an item, and reads a streamed item at
 * the offset from the blob that _wait returns (a slot of the executor's
 * pool, or the item's own range); tvc_offload_kv_prefetch / _wait / _evict
 * likewise around the attention that reads and writes a streamed KV cache.
 * Without an open executor prefetch and evict do nothing, wait returns the
 * item's own offset and kv_wait -1 (the caller's cache buffer), so a
 * caller that maps the whole weights file the ordinary way runs the same
 * code. One executor per process; the calls allocate nothing.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TVC_RUNTIME_API_TVC_OFFLOAD_H
#define TVC_RUNTIME_API_TVC_OFFLOAD_H

#include "runtime/api/tvc_runtime.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where an item's bytes live. Append only: values are ABI (and the manifest
   spells them resident, streamed, paged). */
typedef enum tvc_offload_placement_t {
  /* Read into anonymous memory at open; never evicted. */
  TVC_OFFLOAD_RESIDENT = 0,
  /* File-backed; read by the I/O thread into a pool slot (where wait says),
     the slot freed by evict. */
  TVC_OFFLOAD_STREAMED = 1,
  /* File-backed, demand paged (tables of which a few rows are read, e.g. an
     embedding gather); evict drops the touched pages. */
  TVC_OFFLOAD_PAGED = 2,
  /* KV caches only, CUDA only: the caller's host buffer (pinned and mapped,
     tvc_cuda_host_alloc), where attention runs on the host
     (tvc_cuda_kernel_host_attention_f32); not in the budget, never touched
     by the executor (tvc_offload_kv_wait returns -1 for it). */
  TVC_OFFLOAD_HOST_ATTENTION = 3,
} tvc_offload_placement_t;

/* One weight range of the blob. `offset` is a multiple of 4096; the item's
   pages run to offset + bytes rounded up to 4096 (no other item starts
   there). */
typedef struct tvc_offload_item_t {
  uint64_t offset;
  uint64_t bytes;
  int32_t placement; /* a tvc_offload_placement_t */
  /* Nonzero: a STREAMED item's slot is pool bytes [slot_offset, slot_offset
     + bytes rounded up to 4096), chosen by the compiler (see
     tvc_offload_options_t.pool_bytes); ignored for other placements. */
  int32_t has_slot;
  uint64_t slot_offset;
} tvc_offload_item_t;

/* One KV cache (a key or a value cache argument of the entry points,
   [batch, rows, row_bytes / element size]), in the order of the caches
   among the entry points' inputs. Position p of batch b is row p, at byte
   (b * rows + p) * row_bytes. */
typedef struct tvc_offload_kv_item_t {
  int64_t batch;
  int64_t rows;
  uint64_t row_bytes;
  /* TVC_OFFLOAD_RESIDENT: the caller's buffer, passed to the entry points
     (counted in the budget, never touched by the executor);
     TVC_OFFLOAD_STREAMED: kept in the executor's spill file, read into a
     pool slot around the attention that uses it (tvc_offload_kv_wait) and
     its new rows written back (tvc_offload_kv_evict). */
  int32_t placement;
  /* Nonzero: a STREAMED cache's slot is pool bytes [slot_offset,
     slot_offset + its bytes rounded up to 4096), as for items. */
  int32_t has_slot;
  uint64_t slot_offset;
} tvc_offload_kv_item_t;

/* Zero-initialisable; zero means the default. */
typedef struct tvc_offload_options_t {
  /* The plan's memory for weights and KV caches. 0: no budget (no check of
     the machine's available memory, no violations counted, a page pool for
     all streamed items and caches). */
  uint64_t budget_bytes;
  /* Nonzero: after reading an item, drop its file range from the page cache
     (posix_fadvise DONTNEED), so the read bytes are not held twice. */
  int drop_page_cache;
  /* The model's KV caches (may be NULL with num_kv_items 0). Their bytes
     (page rounded) count in the budget: RESIDENT ones always, STREAMED
     ones while they hold a slot. */
  const tvc_offload_kv_item_t *kv_items;
  int64_t num_kv_items;
  /* Where the spill file of the STREAMED caches is created (unlinked,
     O_TMPFILE, else mkstemp + unlink; zero-filled, its blocks allocated
     up front where the file system can). NULL or "": $TMPDIR, else /tmp.
     A directory on tmpfs keeps the caches in memory all the same. */
  const char *kv_dir;
  /* The page pool's bytes when the compiler assigned every STREAMED item
     and cache a slot (has_slot): the executor then uses exactly those
     slots, never allocating one at run time, so the pool cannot fragment
     (slots may overlap: the plan never holds such items at once). A
     multiple of 4096; every slot page-aligned and inside it; with a budget,
     at most what the budget leaves after the resident items and caches.
     0: slots are the executor's (one per item when the pool holds them
     all, else first fit at run time). */
  uint64_t pool_bytes;
} tvc_offload_options_t;

/* Counters since open. Zero-initialisable. */
typedef struct tvc_offload_stats_t {
  uint64_t bytes_read;     /* weights read explicitly (resident + streamed) */
  uint64_t reads;          /* weight items read */
  uint64_t stalls;         /* waits that blocked or read themselves (weights
                              and KV caches) */
  double stall_seconds;    /* time spent in those waits */
  uint64_t resident_bytes; /* now: resident items and KV caches + streamed
                              ones holding a slot or fallen back */
  uint64_t peak_resident_bytes; /* the most resident_bytes reached */
  uint64_t budget_violations;   /* prefetches that went over the budget */
  uint64_t io_errors;           /* failed reads and KV write-backs
                                   (tvc_offload_last_error) */
  uint64_t pool_bytes;          /* the streamed items' and KV caches' page pool,
                                   reserved at open */
  uint64_t pool_fallbacks;      /* waits on a streamed item or KV cache the pool
                                   had no room for (read from its file-backed
                                   range or home instead: slower) */
  uint64_t bytes_read_at_open;  /* the resident items' part of bytes_read */
  uint64_t kv_bytes_read;       /* streamed KV caches: valid rows read */
  uint64_t kv_bytes_written;    /* streamed KV caches: new rows written back */
  uint64_t kv_spill_bytes;      /* the spill file's size */
} tvc_offload_stats_t;

/* Opens the executor on the weights file `weights_path` holding a blob of
   `blob_bytes`, with `num_items` items (non-overlapping, page-aligned,
   inside the blob). Maps the file privately and writably, reads the
   RESIDENT items into anonymous memory, reserves the page pool of the
   STREAMED items and KV caches right after the blob (from its size rounded
   up to 2 MiB; what the budget leaves after the resident items and KV
   caches, at least the largest streamed item or cache, at most all of
   them; faulted in here, reused by every read), creates the STREAMED
   caches' spill file and maps it shared after the pool (each cache's
   home), and starts the I/O thread;
   `*out_blob` receives the blob to pass to the entry points (valid until
   tvc_offload_close). `options` may be NULL (defaults). Fails with
   TVC_INVALID_ARGUMENT on a bad file, item or KV cache list (a cache needs
   batch, rows and row_bytes of at least 1 and placement RESIDENT or
   STREAMED), a budget below the resident items and caches plus the
   largest streamed one, or with pool_bytes a streamed item or cache
   without a slot, a slot outside the pool or not page-aligned, or a pool
   over what the budget leaves, TVC_OUT_OF_MEMORY when the budget exceeds the
   machine's available memory, TVC_NOT_FOUND when the file cannot be opened
   or the spill file not created, TVC_UNAVAILABLE when the page size is not
   4096, an executor is already open or the spill file cannot be sized;
   tvc_offload_last_error says why. */
tvc_status_t tvc_offload_open(const char *weights_path, uint64_t blob_bytes,
                              const tvc_offload_item_t *items,
                              int64_t num_items,
                              const tvc_offload_options_t *options,
                              void **out_blob);

/* Opens the CUDA executor (docs/Offload.md, "CUDA executor") instead of the
   CPU one, on the current CUDA device: `*out_blob` receives a DEVICE
   pointer, the blob the compiled CUDA code reads weights at (blob + offset),
   valid until tvc_offload_close. The file, items and options are those of
   tvc_offload_open, except that: PAGED items are copied to the device at
   open like RESIDENT ones; every STREAMED item needs a slot (has_slot, so
   pool_bytes > 0 when any item is streamed); RESIDENT KV caches are the
   caller's device buffers (counted in the budget; kv_wait returns -1 for
   them), and every STREAMED cache needs a slot too (its pages count in
   pool_bytes): its home is one pinned host buffer of the executor holding
   every streamed cache (zero-filled at open, counted in kv_spill_bytes)
   instead of a spill file, so kv_dir is ignored (and drop_page_cache does
   not apply to it). The blob's device address range is reserved whole, and
   physical memory backs only the granules (the device's allocation
   granularity) holding resident and paged items, and the pool, which starts
   at the blob's size rounded up to the granularity. With a budget, what the
   plan counts must fit in it: the resident and paged items' pages,
   pool_bytes and the resident KV caches' pages; the rounding of the backed
   ranges to granules (up to a granule, 2 MiB on current GPUs, per boundary
   between backed and unbacked blob ranges, and the pool's end) is outside
   it, like the code and the runtime. The streamed items are read at open
   into pinned host memory and copied into their slots on a copy stream of
   the executor: prefetch issues the copy (after the evictions of the items
   whose slots overlap its slot), wait makes the calling thread's current
   stream (tvc_cuda_get_stream) wait for it and returns the slot's offset,
   evict records the item's eviction on that stream. A streamed cache
   likewise: kv_prefetch (or kv_wait, when no prefetch came first or it
   copied fewer rows) copies rows [0, valid_rows) of every batch from its
   home into its slot on the copy stream (after the evictions of the items
   and caches whose slots overlap its slot), kv_wait makes the current stream
   wait for that and returns the slot's offset (the same slot, nothing
   copied, for a second wait before the evict), and kv_evict records the
   eviction on the current stream, then copies rows [first_row, end_row) of
   every batch from the slot back to its home on the copy stream once the
   eviction is reached (nothing for a slot no wait returned); valid_rows,
   first_row and end_row are clamped to [0, rows]. None of these calls waits
   on the host or allocates. A failed copy is counted in io_errors and
   reported by tvc_offload_last_error; the wait still returns the slot, whose
   bytes are then wrong.
   Fails with TVC_INVALID_ARGUMENT on a bad file, item, slot or KV cache
   list (checked before any CUDA call) or a budget below the plan's bytes
   (the message gives both), TVC_NOT_FOUND when the file cannot be opened,
   TVC_OUT_OF_MEMORY when device or pinned host memory runs out,
   TVC_UNAVAILABLE without a CUDA driver or device, on a device without
   virtual memory management, when an executor (CPU or CUDA) is already
   open, and in a runtime built without CUDA; tvc_offload_last_error says
   why. */
tvc_status_t
tvc_offload_open_cuda(const char *weights_path, uint64_t blob_bytes,
                      const tvc_offload_item_t *items, int64_t num_items,
                      const tvc_offload_options_t *options, void **out_blob);

/* Stops the I/O thread and unmaps the blob (the CUDA executor: waits for
   the device, then frees its memory, streams and events). Does nothing
   when none is open; a later tvc_offload_open starts afresh. */
void tvc_offload_close(void);

/* The counters of the open executor; TVC_NOT_FOUND (and zeros) when none is
   open, TVC_INVALID_ARGUMENT when out_stats is NULL. */
tvc_status_t tvc_offload_get_stats(tvc_offload_stats_t *out_stats);

/* Why the last tvc_offload_open failed, or the first failed read of the open
   executor; "" when nothing failed. Valid until the next open. */
const char *tvc_offload_last_error(void);

/* Called by compiled code, the blob's memref<?xi8> descriptor expanded
   (allocated, aligned, offset, size, stride: `aligned` is the blob open
   returned) and then the item index.
   prefetch: take a pool slot for a STREAMED item and queue its read into it
   on the I/O thread (a no-op when it is queued, being read or read, and
   when no slot is free: the wait sees to it then).
   wait: returns the offset from the blob (`aligned`) at which item's bytes
   can be read from now until its evict: for a STREAMED item its slot, once
   read (reading it here when it is still queued or was never prefetched),
   always at or past blob_bytes and 4096-aligned. Returns `home`, the
   item's own blob offset, whose bytes are file-backed and correct: without
   an open executor, for other placements and unknown items, after a failed
   read, and when the pool has no slot free for the item (a pool fallback).
   evict: free a STREAMED item's slot (cancelling a queued read), or drop a
   PAGED item's touched pages (a STREAMED item's too after a fallback).
   Other placements, unknown items and calls without an open executor do
   nothing. */
void tvc_offload_prefetch(void *allocated, void *aligned, int64_t offset,
                          int64_t size, int64_t stride, int64_t item);
int64_t tvc_offload_wait(void *allocated, void *aligned, int64_t offset,
                         int64_t size, int64_t stride, int64_t item,
                         int64_t home);
void tvc_offload_evict(void *allocated, void *aligned, int64_t offset,
                       int64_t size, int64_t stride, int64_t item);

/* Called by compiled code around the steps that read and write a KV cache
   (the blob's descriptor expanded as above, then the cache's index in
   options.kv_items).
   kv_prefetch: take a pool slot for a STREAMED cache and queue the read of
   rows [0, valid_rows) of every batch from the spill file into it (a no-op
   when queued, being read or read, and when no slot is free).
   kv_wait: returns the offset from the blob at which the cache's
   [batch, rows, row_bytes] bytes can be read and written until its
   kv_evict, rows [0, valid_rows) of every batch holding what was last
   written there (the other rows of a slot are unspecified): a pool slot
   (read here when still queued or never prefetched, the missing rows read
   here when the prefetch asked for fewer), or, when the pool has no room
   or a read failed, the cache's home, the spill file mapped shared
   (counted in pool_fallbacks when for want of room). A second wait before
   the evict returns the same slot and reads nothing. Returns -1 for
   RESIDENT and unknown caches and without an open executor: the compiled
   code then uses the caller's buffer.
   kv_evict: writes rows [first_row, end_row) of every batch from the slot
   back to the spill file, on the calling thread (nothing to write after a
   fallback to the home, nor for a slot no wait returned), and frees the
   slot (cancelling a queued read). valid_rows, first_row and end_row are
   clamped to [0, rows].
   A failed read or write is counted in io_errors and reported by
   tvc_offload_last_error; after a failed write the spill file misses rows,
   and results computed from the cache later are wrong. */
void tvc_offload_kv_prefetch(void *allocated, void *aligned, int64_t offset,
                             int64_t size, int64_t stride, int64_t kv_item,
                             int64_t valid_rows);
int64_t tvc_offload_kv_wait(void *allocated, void *aligned, int64_t offset,
                            int64_t size, int64_t stride, int64_t kv_item,
                            int64_t valid_rows);
void tvc_offload_kv_evict(void *allocated, void *aligned, int64_t offset,
                          int64_t size, int64_t stride, int64_t kv_item,
                          int64_t first_row, int64_t end_row);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TVC_RUNTIME_API_TVC_OFFLOAD_H */
