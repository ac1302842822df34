/* Reference Julia renderer for the bench: the same loop as lib/render/kernel.mjs,
 * rows handed out dynamically to one pthread per core. Build with
 * -O2 -ffp-contract=off so no multiply-add is fused (the sums must match JS).
 * Usage: julia W H DEPTH RE IM ZOOM CX CY THREADS REPEATS [pairs]
 * "pairs" iterates two pixels side by side, as lib/render/kernel.mjs does, to show
 * how much of the speed comes from that rather than from the language.
 * Prints one line per repeat: "<sum> <milliseconds>". */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  int width, height, depth;
  double cre, cim, zoom, cx, cy;
  uint32_t *counts;
  int pairs;    /* 1: two pixels at a time */
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

/* The same row the way lib/render/kernel.mjs does it: two pixels in flight, one
 * step counter for both. Same operations per pixel, better use of the FPU. */
static uint64_t row_sum_pairs(job_t *job, int row) {
  int side = job->width > job->height ? job->width : job->height;
  double dx = (side - job->width) / 2.0, dy = (side - job->height) / 2.0;
  double y0 = (2 * (job->height - row + dy) / (side - 1) - 1) / job->zoom + job->cy;
  uint32_t *out = job->counts + (size_t)row * job->width;
  int depth = job->depth, width = job->width;
  double cre = job->cre, cim = job->cim;
  uint64_t sum = 0;
  if (width < 2) return row_sum(job, row);
  int step = 0, col_a = 0, col_b = 1, next = 2, start_a = 0, start_b = 0;
  double re_a = (2 * (0 + dx) / (side - 1) - 1) / job->zoom + job->cx, im_a = y0;
  double re_b = (2 * (1 + dx) / (side - 1) - 1) / job->zoom + job->cx, im_b = y0;
  for (;;) {
    int limit = (start_a < start_b ? start_a : start_b) + depth;
    int escaped_a, escaped_b;
    for (;;) {
      double ra2 = re_a * re_a, ia2 = im_a * im_a, rb2 = re_b * re_b, ib2 = im_b * im_b;
      escaped_a = !(ra2 + ia2 < 4);
      escaped_b = !(rb2 + ib2 < 4);
      if (escaped_a || escaped_b || step >= limit) break;
      step++;
      im_a = 2 * re_a * im_a + cim; re_a = ra2 - ia2 + cre;
      im_b = 2 * re_b * im_b + cim; re_b = rb2 - ib2 + cre;
    }
    int count_a = step - start_a, count_b = step - start_b;
    if (escaped_a || count_a >= depth) {
      out[col_a] = count_a; sum += count_a;
      if (next >= width) { col_a = col_b; re_a = re_b; im_a = im_b; start_a = start_b; break; }
      col_a = next++; re_a = (2 * (col_a + dx) / (side - 1) - 1) / job->zoom + job->cx; im_a = y0; start_a = step;
    }
    if (escaped_b || count_b >= depth) {
      out[col_b] = count_b; sum += count_b;
      if (next >= width) break;
      col_b = next++; re_b = (2 * (col_b + dx) / (side - 1) - 1) / job->zoom + job->cx; im_b = y0; start_b = step;
    }
  }
  int count = step - start_a;
  while (count < depth && re_a * re_a + im_a * im_a < 4) {
    double re2 = re_a * re_a - im_a * im_a + cre;
    im_a = 2 * re_a * im_a + cim;
    re_a = re2;
    count++;
  }
  out[col_a] = count;
  return sum + count;
}

static void *run(void *arg) {
  job_t *job = arg;
  uint64_t sum = 0;
  for (;;) {
    int row = __atomic_fetch_add(&job->next_row, 1, __ATOMIC_RELAXED);
    if (row >= job->height) break;
    sum += job->pairs ? row_sum_pairs(job, row) : row_sum(job, row);
  }
  return (void *)(uintptr_t)sum;
}

int main(int argc, char **argv) {
  if (argc != 11 && !(argc == 12 && strcmp(argv[11], "pairs") == 0)) {
    fprintf(stderr, "usage: %s W H DEPTH RE IM ZOOM CX CY THREADS REPEATS [pairs]\n", argv[0]);
    return 2;
  }
  job_t job = {atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), atof(argv[4]), atof(argv[5]),
               atof(argv[6]), atof(argv[7]), atof(argv[8]), NULL, argc == 12, 0};
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
