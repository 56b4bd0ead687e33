/* A C program that generates with a library from `tvc-compile --emit=lib`
 * through runtime/api/tvc_model.h alone, with or without the library's
 * offload plan:
 *
 *   call_model_offload WEIGHTS offload|map|twice LOGITS_OUT
 *
 * offload: opens the plan's executor on WEIGHTS (tvc_model_offload_open),
 *   passes its blob as the weights and every cache the manifest's
 *   offload-kv lines stream as a descriptor with NULL data;
 * map: reads WEIGHTS itself and allocates every cache, as a host of a
 *   library without a plan does (the offload calls are weak references,
 *   NULL for such a library);
 * twice: opens the executor twice and prints what the second open and a
 *   stats call after the close say.
 * It runs prefill on the prompt 47,19,38 and 4 greedy decode steps, prints
 * the 5 picked tokens (and the executor's counters), and writes the 5
 * logits rows it picked from to LOGITS_OUT as float32. */

#include "runtime/api/tvc_model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma weak tvc_model_offload_open
#pragma weak tvc_model_offload_close
#pragma weak tvc_model_offload_stats
#pragma weak tvc_model_offload_error

enum { kMaxInputs = 64, kMaxRank = 4, kSteps = 5 };

/* A memref descriptor of rank <= kMaxRank: sizes, then strides. */
typedef struct {
  void *allocated, *aligned;
  int64_t offset, shape[2 * kMaxRank];
} Memref;

typedef struct {
  int numInputs, isCache[kMaxInputs], rank[kMaxInputs];
  int64_t dims[kMaxInputs][kMaxRank];
  unsigned long long arenaBytes;
  int dropped;
} Entry;

/* The inputs, arena and in-place flag of the manifest's entry `role`. */
static int readEntry(const char *role, Entry *entry) {
  char header[64];
  snprintf(header, sizeof(header), "\nentry %s ", role);
  const char *line = strstr(tvc_model_manifest, header);
  char function[256];
  int takesWeights = 0;
  memset(entry, 0, sizeof(*entry));
  if (!line ||
      sscanf(line + 1, "entry %*s %255s %d %d %llu", function, &takesWeights,
             &entry->dropped, &entry->arenaBytes) != 4 ||
      !takesWeights)
    return 0;
  for (line = strchr(line + 1, '\n'); line && !strncmp(line, "\ninput ", 7);
       line = strchr(line + 1, '\n')) {
    int index = entry->numInputs++, type = 0, consumed = 0;
    char dims[256];
    if (index >= kMaxInputs || sscanf(line + 1, "input %*s %d %d %255s", &type,
                                      &entry->isCache[index], dims) != 3)
      return 0;
    if (!strcmp(dims, "-"))
      continue; /* rank 0 (past_len) */
    for (const char *dim = dims; *dim;
         dim += consumed + (dim[consumed] == ',')) {
      long long value = 0;
      if (entry->rank[index] == kMaxRank ||
          sscanf(dim, "%lld%n", &value, &consumed) != 1)
        return 0;
      entry->dims[index][entry->rank[index]++] = value;
    }
  }
  return entry->numInputs > 0;
}

/* Whether the plan streams KV cache `index` (its offload-kv line). */
static int streamedCache(int index) {
  char header[64];
  snprintf(header, sizeof(header), "\noffload-kv %d ", index);
  const char *line = strstr(tvc_model_manifest, header);
  char placement[32] = "";
  return line &&
         sscanf(line + 1, "offload-kv %*d %*d %*d %*d %31s", placement) == 1 &&
         !strcmp(placement, "streamed");
}

static void describe(Memref *memref, void *data, int rank,
                     const int64_t *sizes) {
  memset(memref, 0, sizeof(*memref));
  memref->allocated = memref->aligned = data;
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    memref->shape[d] = sizes[d];
    memref->shape[rank + d] = stride;
    stride *= sizes[d];
  }
}

/* The blob of a weights file: a 4096-byte header ("TVCWGT02", u64 size),
   then the blob. */
static void *readWeights(const char *path, unsigned long long bytes) {
  FILE *file = fopen(path, "rb");
  char header[16];
  void *blob = aligned_alloc(64, (bytes + 63) / 64 * 64);
  int ok = file && blob && fread(header, 1, 16, file) == 16 &&
           !memcmp(header, "TVCWGT02", 8) && !fseek(file, 4096, SEEK_SET) &&
           fread(blob, 1, bytes, file) == bytes;
  if (file)
    fclose(file);
  if (!ok) {
    free(blob);
    return NULL;
  }
  return blob;
}

static int twice(const char *weightsPath) {
  void *blob = NULL, *second = NULL;
  if (tvc_model_offload_open(weightsPath, NULL, 0, &blob) != TVC_OK) {
    fprintf(stderr, "open: %s\n", tvc_model_offload_error());
    return 1;
  }
  tvc_status_t status = tvc_model_offload_open(weightsPath, NULL, 0, &second);
  printf("second open: status %d, blob %s: %s\n", (int)status,
         second ? "set" : "null", tvc_model_offload_error());
  tvc_model_offload_close();
  tvc_offload_stats_t stats;
  status = tvc_model_offload_stats(&stats);
  printf("stats after close: status %d: %s\n", (int)status,
         tvc_model_offload_error());
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s WEIGHTS offload|map|twice LOGITS_OUT\n",
            argv[0]);
    return 2;
  }
  const char *weightsPath = argv[1], *mode = argv[2];
  int offload = !strcmp(mode, "offload");
  if ((offload || !strcmp(mode, "twice")) && !tvc_model_offload_open) {
    fprintf(stderr, "this library has no offload plan\n");
    return 1;
  }
  if (!strcmp(mode, "twice"))
    return twice(weightsPath);
  unsigned long long weightsBytes = 0;
  const char *weightsLine = strstr(tvc_model_manifest, "\nweights ");
  Entry prefill, decode;
  if (!weightsLine ||
      sscanf(weightsLine, "\nweights %llu", &weightsBytes) != 1 ||
      !readEntry("prefill", &prefill) || !readEntry("decode", &decode) ||
      !prefill.dropped || !decode.dropped) {
    fprintf(stderr, "unexpected manifest\n");
    return 1;
  }

  void *blob = NULL;
  if (offload) {
    tvc_status_t status = tvc_model_offload_open(weightsPath, NULL, 0, &blob);
    if (status != TVC_OK) {
      fprintf(stderr, "tvc_model_offload_open: status %d: %s\n", (int)status,
              tvc_model_offload_error());
      return 1;
    }
  } else if (!(blob = readWeights(weightsPath, weightsBytes))) {
    fprintf(stderr, "cannot read the weights file '%s'\n", weightsPath);
    return 1;
  }

  /* Inputs: ids, positions, past_len, then the caches (zero-filled, or
     NULL data where the plan streams them). */
  int64_t ids[3] = {47, 19, 38}, positions[3] = {0, 1, 2}, past = 0;
  int64_t stepShape[2] = {1, 3};
  Memref inputs[kMaxInputs];
  void *buffers[kMaxInputs] = {0};
  int caches = 0, streamed = 0;
  describe(&inputs[0], ids, 2, stepShape);
  describe(&inputs[1], positions, 2, stepShape);
  describe(&inputs[2], &past, 0, NULL);
  for (int i = 3; i < prefill.numInputs; ++i) {
    size_t count = 1;
    for (int d = 0; d < prefill.rank[i]; ++d)
      count *= (size_t)prefill.dims[i][d];
    int isStreamed = offload && streamedCache(caches);
    ++caches;
    streamed += isStreamed;
    buffers[i] = isStreamed ? NULL : calloc(count, sizeof(float));
    describe(&inputs[i], buffers[i], prefill.rank[i], prefill.dims[i]);
  }
  Memref weights;
  int64_t blobSize = (int64_t)weightsBytes;
  describe(&weights, blob, 1, &blobSize);
  Memref arenas[2];
  void *arenaData[2];
  unsigned long long arenaBytes[2] = {prefill.arenaBytes, decode.arenaBytes};
  for (int i = 0; i < 2; ++i) {
    int64_t size = (int64_t)arenaBytes[i];
    arenaData[i] = aligned_alloc(64, (arenaBytes[i] + 63) / 64 * 64);
    describe(&arenas[i], arenaData[i], 1, &size);
  }

  float rows[kSteps][256];
  int64_t picked[kSteps];
  int vocab = 0;
  for (int step = 0; step < kSteps; ++step) {
    int length = step == 0 ? 3 : 1, entryIndex = step == 0 ? 0 : 1;
    stepShape[1] = length;
    for (int i = 0; i < length; ++i)
      positions[i] = past + i;
    /* The logits only: the updated caches are written in place. */
    Memref logits;
    memset(&logits, 0, sizeof(logits));
    void *args[kMaxInputs + 3];
    int count = 0;
    args[count++] = &logits;
    for (int i = 0; i < prefill.numInputs; ++i)
      args[count++] = &inputs[i];
    args[count++] = &weights;
    if (arenaBytes[entryIndex])
      args[count++] = &arenas[entryIndex];
    (step == 0 ? tvc_model_prefill : tvc_model_decode)(args);
    const char *kernelError = NULL;
    if (tvc_model_kernel_error(&kernelError) != TVC_OK) {
      fprintf(stderr, "%s\n", kernelError);
      return 1;
    }
    vocab = (int)logits.shape[2];
    if (vocab > 256) {
      fprintf(stderr, "unexpected vocabulary of %d\n", vocab);
      return 1;
    }
    const float *last = (const float *)logits.aligned + logits.offset +
                        (int64_t)(length - 1) * vocab;
    memcpy(rows[step], last, (size_t)vocab * sizeof(float));
    if (logits.allocated != arenaData[entryIndex])
      free(logits.allocated);
    int64_t best = 0;
    for (int i = 1; i < vocab; ++i)
      if (rows[step][i] > rows[step][best])
        best = i;
    picked[step] = best;
    past += length;
    ids[0] = best;
  }

  printf("tokens");
  for (int step = 0; step < kSteps; ++step)
    printf("%s%lld", step ? "," : " ", (long long)picked[step]);
  printf("; %d of %d caches streamed\n", streamed, caches);
  if (offload) {
    tvc_offload_stats_t stats;
    if (tvc_model_offload_stats(&stats) != TVC_OK) {
      fprintf(stderr, "tvc_model_offload_stats: %s\n",
              tvc_model_offload_error());
      return 1;
    }
    printf("weights read %llu, kv read %llu, kv written %llu, spill %llu, "
           "io errors %llu, error \"%s\"\n",
           (unsigned long long)stats.bytes_read,
           (unsigned long long)stats.kv_bytes_read,
           (unsigned long long)stats.kv_bytes_written,
           (unsigned long long)stats.kv_spill_bytes,
           (unsigned long long)stats.io_errors, tvc_model_offload_error());
    tvc_model_offload_close();
  } else {
    free(blob);
  }
  FILE *out = fopen(argv[3], "wb");
  int written = out != NULL;
  for (int step = 0; step < kSteps && written; ++step)
    written =
        fwrite(rows[step], sizeof(float), (size_t)vocab, out) == (size_t)vocab;
  if (out)
    written &= fclose(out) == 0;
  if (!written) {
    fprintf(stderr, "cannot write '%s'\n", argv[3]);
    return 1;
  }
  for (int i = 0; i < prefill.numInputs; ++i)
    free(buffers[i]);
  free(arenaData[0]);
  free(arenaData[1]);
  return 0;
}
