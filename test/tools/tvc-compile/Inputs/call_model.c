/* A C program that calls a library from `tvc-compile --emit=lib
 * --embed-weights` through runtime/api/tvc_model.h alone: it reads the
 * manifest, builds memref descriptors for (input_ids, positions) of shape
 * [1, 3] and the weights, calls tvc_model_forward on one kernel thread,
 * checks tvc_model_kernel_error
 * and prints the logits' shape, whether they are finite, and the argmax of
 * the last position. */

#include "runtime/api/tvc_model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} Memref2;
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} Memref1;
typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[3], strides[3];
} Logits;

int main(void) {
  unsigned long long weightsBytes = 0;
  const char *line = strstr(tvc_model_manifest, "\nweights ");
  int takesWeights = 0;
  const char *entry = strstr(tvc_model_manifest, "\nentry forward ");
  char function[256];
  int dropped = 0;
  if (!line || sscanf(line, "\nweights %llu", &weightsBytes) != 1 || !entry ||
      sscanf(entry, "\nentry forward %255s %d %d", function, &takesWeights,
             &dropped) != 3) {
    fprintf(stderr, "unexpected manifest\n");
    return 1;
  }
  if (tvc_model_set_num_threads(1) != TVC_OK) {
    fprintf(stderr, "cannot set the kernel threads\n");
    return 1;
  }
  int64_t ids[3] = {47, 19, 38}, positions[3] = {0, 1, 2};
  Memref2 idsRef = {ids, ids, 0, {1, 3}, {3, 1}};
  Memref2 positionsRef = {positions, positions, 0, {1, 3}, {3, 1}};
  Memref1 weightsRef = {(void *)tvc_model_weights, (void *)tvc_model_weights,
                        0, {(int64_t)weightsBytes}, {1}};
  Logits logits;
  memset(&logits, 0, sizeof(logits));
  void *args[4] = {&logits, &idsRef, &positionsRef, &weightsRef};
  tvc_model_forward(args);
  const char *kernelError = NULL;
  if (tvc_model_kernel_error(&kernelError) != TVC_OK) {
    fprintf(stderr, "%s\n", kernelError);
    free(logits.allocated);
    return 1;
  }

  const float *data = logits.aligned + logits.offset;
  int64_t count = logits.sizes[0] * logits.sizes[1] * logits.sizes[2];
  int finite = 1;
  for (int64_t i = 0; i < count; ++i)
    finite &= isfinite(data[i]);
  const float *last = data + (logits.sizes[1] - 1) * logits.sizes[2];
  int64_t best = 0;
  for (int64_t i = 1; i < logits.sizes[2]; ++i)
    if (last[i] > last[best])
      best = i;
  printf("weights %d, logits %lldx%lldx%lld, finite %d, argmax %lld\n",
         takesWeights, (long long)logits.sizes[0], (long long)logits.sizes[1],
         (long long)logits.sizes[2], finite, (long long)best);
  free(logits.allocated);
  return 0;
}
