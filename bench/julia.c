/* Reference Julia renderer for the bench: the same loop as lib/render/kernel.mjs,
 * rows handed out dynamically to one pthread per core. Build with
 * -O2 -ffp-contract=off so no multiply-add is fused (the sums must match JS).
 * Usage: julia W H DEPTH RE IM ZOOM CX CY THREADS REPEATS
 * Prints one line per repeat: "<sum> <milliseconds>". */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  int width, height, depth;
  double cre, cim, zoom, cx, cy;
  uint32_t *counts;
  int next_row; /* claimed with an atomic add */
} job_t;

static uint64_t row_sum(job_t *job, int row) {
  int side = job->width > job->height ? job->width : job->height;
  double dx = (side - job->width) / 2.0, dy = (side - job->height) / 2.0;
  double y0 = (2 * (job->height - row + dy) / (side - 1) - 1) / job->zoom + job->cy;
  uint64_t sum = 0;
  for (int col = 0; col < job->width; col++) {
    double x0 = (2 * (col + dx) / (side - 1) - 1) / job->zoom + job->cx;
    double re = x0, im = y0;
    int count = 0;
    while (count < job->depth && re * re + im * im < 4) {
      double re2 = re * re - im * im + job->cre;
      im = 2 * re * im + job->cim;
      re = re2;
      count++;
    }
    job->counts[(size_t)row * job->width + col] = (uint32_t)count;
    sum += (uint64_t)count;
  }
  return sum;
}

static void *run(void *arg) {
  job_t *job = arg;
  uint64_t sum = 0;
  for (;;) {
    int row = __atomic_fetch_add(&job->next_row, 1, __ATOMIC_RELAXED);
    if (row >= job->height) break;
    sum += row_sum(job, row);
  }
  return (void *)(uintptr_t)sum;
}

int main(int argc, char **argv) {
  if (argc != 11) {
    fprintf(stderr, "usage: %s W H DEPTH RE IM ZOOM CX CY THREADS REPEATS\n", argv[0]);
    return 2;
  }
  job_t job = {atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), atof(argv[4]), atof(argv[5]),
               atof(argv[6]), atof(argv[7]), atof(argv[8]), NULL, 0};
  int threads = atoi(argv[9]), repeats = atoi(argv[10]);
  job.counts = malloc((size_t)job.width * job.height * sizeof(uint32_t));
  pthread_t *ids = malloc(sizeof(pthread_t) * threads);
  for (int r = 0; r < repeats; r++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    job.next_row = 0;
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, run, &job);
    uint64_t sum = 0;
    for (int i = 0; i < threads; i++) {
      void *part;
      pthread_join(ids[i], &part);
      sum += (uint64_t)(uintptr_t)part;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("%llu %.3f\n", (unsigned long long)sum, ms);
    fflush(stdout);
  }
  return 0;
}
