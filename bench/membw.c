/* Memory read bandwidth for bench/ort_compare.sh: the rate at which
 * `threads` threads stream a buffer far larger than the caches, as a decode
 * step streams the weights. Each pass sums the buffer (each thread its own
 * slice, vectorised loads); the buffer is written once beforehand so that
 * every page is resident. Prints one JSON object: the best and the median
 * GB/s (10^9 bytes per second) over the passes.
 *
 *   cc -O3 -march=native -pthread bench/membw.c -o membw && ./membw [MiB] [threads] [passes]
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slice {
  const float *data;
  size_t count;
  float sum;
};

static void *read_slice(void *arg) {
  struct slice *slice = arg;
  /* Eight independent accumulators keep the loads, not the adds, the limit. */
  float acc[8] = {0};
  size_t i = 0;
  for (; i + 8 <= slice->count; i += 8)
    for (int j = 0; j < 8; ++j)
      acc[j] += slice->data[i + j];
  float sum = 0;
  for (int j = 0; j < 8; ++j)
    sum += acc[j];
  for (; i < slice->count; ++i)
    sum += slice->data[i];
  slice->sum = sum;
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
  int threads = argc > 2 ? atoi(argv[2]) : 2;
  int passes = argc > 3 ? atoi(argv[3]) : 9;
  if (mib == 0 || threads < 1 || threads > 64 || passes < 1 || passes > 1000) {
    fprintf(stderr, "usage: membw [MiB] [threads 1..64] [passes]\n");
    return 2;
  }
  size_t count = mib * 1024 * 1024 / sizeof(float);
  float *data = aligned_alloc(64, count * sizeof(float));
  if (!data) {
    fprintf(stderr, "membw: cannot allocate %zu MiB\n", mib);
    return 1;
  }
  for (size_t i = 0; i < count; ++i)
    data[i] = (float)(i & 1023) * 1e-3f;

  double rates[1000];
  float checksum = 0;
  struct slice slices[64];
  pthread_t ids[64];
  for (int pass = 0; pass < passes; ++pass) {
    double start = now_s();
    for (int t = 0; t < threads; ++t) {
      size_t begin = count * t / threads, end = count * (t + 1) / threads;
      slices[t] = (struct slice){data + begin, end - begin, 0};
      pthread_create(&ids[t], NULL, read_slice, &slices[t]);
    }
    for (int t = 0; t < threads; ++t) {
      pthread_join(ids[t], NULL);
      checksum += slices[t].sum;
    }
    rates[pass] = count * sizeof(float) / (now_s() - start) / 1e9;
  }
  qsort(rates, passes, sizeof(double), compare);
  printf("{\"buffer_bytes\": %zu, \"threads\": %d, \"passes\": %d, "
         "\"best_gb_per_s\": %.3f, \"median_gb_per_s\": %.3f, "
         "\"checksum\": %g}\n",
         count * sizeof(float), threads, passes, rates[passes - 1],
         rates[passes / 2], checksum);
  free(data);
  return 0;
}
