/*
 * example.c: a native UDF library for Arbalest, in plain C.
 *
 * Functions
 *   haversine_km(lat1, lon1, lat2, lon2 DOUBLE) -> DOUBLE
 *       great-circle distance in kilometres between two points given in
 *       degrees (mean Earth radius 6371.0088 km).
 *   levenshtein(a, b VARCHAR) -> BIGINT
 *       edit distance in Unicode code points (insertions, deletions and
 *       substitutions each cost 1).
 *   fnv1a_64(s VARCHAR) -> BIGINT
 *       the 64-bit FNV-1a hash of the string's UTF-8 bytes, as a signed
 *       integer: a stable hash for bucketing or sampling.
 * All three are immutable and NULL on NULL: a NULL argument gives NULL and
 * the engine takes care of it, so the code below never looks at validity.
 *
 * Build (the header is plugins/native/arbalest_udf.h of the repository):
 *
 *   gcc -shared -fPIC -O2 -I plugins/native -o libexample.so examples/native/example.c -lm
 *
 * Use:
 *
 *   arbalest sql --native ./libexample.so
 *   > SELECT levenshtein('kitten', 'sitting'), fnv1a_64('arbalest'),
 *   >        haversine_km(48.8566, 2.3522, 51.5074, -0.1278);
 *   3 | -3355496573763998553 | 343.56 (Paris to London, rounded)
 *
 * (The flag's final name is the CLI's: see `arbalest sql --help`. In Go,
 * native.Load("./libexample.so") from package plugins/native gives the
 * functions as logical.Function values.)
 *
 * How it works: the engine hands each function a batch of rows as Arrow
 * C Data arrays (its own buffers, borrowed for the call, possibly slices:
 * honour `offset`), and the function returns a new array it allocated,
 * with a release callback that frees it. See arbalest_udf.h for the whole
 * contract, including threads: these functions keep no state, so any
 * number of threads may call them at once.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arbalest_udf.h"

/* ------------------------------------------------------------------------
 * Results: an array of `rows` fixed-width values (no validity bitmap: the
 * engine adds the NULLs) in one malloc'ed block freed by the release
 * callback. The block holds the buffer pointer array too.
 * ---------------------------------------------------------------------- */

struct result {
  const void *buffers[2];
  /* the values follow, 16-byte aligned */
};

static void result_release(struct ArrowArray *a) {
  free(a->private_data);
  a->private_data = NULL;
  a->release = NULL;
}

static void *new_fixed_result(struct ArrowArray *out, int64_t rows, size_t width,
                              char *errbuf, size_t errlen) {
  size_t header = (sizeof(struct result) + 15) & ~(size_t)15;
  struct result *r = malloc(header + (size_t)rows * width);
  if (r == NULL) {
    snprintf(errbuf, errlen, "out of memory for %lld rows", (long long)rows);
    return NULL;
  }
  void *values = (char *)r + header;
  r->buffers[0] = NULL; /* no validity bitmap: no NULLs of our own */
  r->buffers[1] = values;
  memset(out, 0, sizeof *out);
  out->length = rows;
  out->null_count = 0;
  out->n_buffers = 2;
  out->buffers = r->buffers;
  out->private_data = r;
  out->release = result_release;
  return values;
}

/* The values of a float64 or int64 argument, offset applied. */
static const double *f64_values(const struct ArrowArray *a) {
  return (const double *)a->buffers[1] + a->offset;
}

/* Row i of a utf8 argument. */
static const char *utf8_value(const struct ArrowArray *a, int64_t i, int32_t *len) {
  const int32_t *offsets = (const int32_t *)a->buffers[1] + a->offset;
  *len = offsets[i + 1] - offsets[i];
  return (const char *)a->buffers[2] + offsets[i];
}

/* ------------------------------------------------------------------------
 * haversine_km
 * ---------------------------------------------------------------------- */

static int haversine_km(void *state, const struct ArrowArray *const *args,
                        const struct ArrowSchema *const *arg_schemas, int64_t nargs,
                        int64_t rows, struct ArrowArray *out, struct ArrowSchema *out_schema,
                        char *errbuf, size_t errlen) {
  (void)state, (void)arg_schemas, (void)nargs, (void)out_schema;
  const double rad = 3.14159265358979323846 / 180.0, earth_km = 6371.0088;
  const double *lat1 = f64_values(args[0]), *lon1 = f64_values(args[1]);
  const double *lat2 = f64_values(args[2]), *lon2 = f64_values(args[3]);
  double *r = new_fixed_result(out, rows, sizeof(double), errbuf, errlen);
  if (r == NULL) return ENOMEM;
  for (int64_t i = 0; i < rows; i++) {
    double dlat = (lat2[i] - lat1[i]) * rad, dlon = (lon2[i] - lon1[i]) * rad;
    double s = sin(dlat / 2), t = sin(dlon / 2);
    double h = s * s + cos(lat1[i] * rad) * cos(lat2[i] * rad) * t * t;
    if (h > 1) h = 1; /* rounding near antipodes */
    r[i] = 2 * earth_km * asin(sqrt(h));
  }
  return 0;
}

/* ------------------------------------------------------------------------
 * levenshtein
 * ---------------------------------------------------------------------- */

/* decode writes the code points of s into cp (room for len of them) and
 * returns how many; bytes that are not UTF-8 count as one unit each (the
 * engine only passes valid UTF-8 anyway). */
static int32_t decode(const unsigned char *s, int32_t len, uint32_t *cp) {
  int32_t n = 0;
  for (int32_t i = 0; i < len; n++) {
    unsigned char c = s[i];
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (i + extra >= len) extra = 0;
    uint32_t v = extra ? c & (0x3f >> extra) : c;
    for (int k = 1; k <= extra; k++) v = (v << 6) | (s[i + k] & 0x3f);
    cp[n] = v;
    i += 1 + extra;
  }
  return n;
}

static int levenshtein(void *state, const struct ArrowArray *const *args,
                       const struct ArrowSchema *const *arg_schemas, int64_t nargs,
                       int64_t rows, struct ArrowArray *out, struct ArrowSchema *out_schema,
                       char *errbuf, size_t errlen) {
  (void)state, (void)arg_schemas, (void)nargs, (void)out_schema;
  int64_t *r = new_fixed_result(out, rows, sizeof(int64_t), errbuf, errlen);
  if (r == NULL) return ENOMEM;
  /* Scratch space for this call only (calls may run in parallel), grown
   * to the longest pair seen. */
  uint32_t *a = NULL, *b = NULL;
  int64_t *dist = NULL;
  int32_t cap = 0;
  for (int64_t i = 0; i < rows; i++) {
    int32_t la, lb;
    const char *sa = utf8_value(args[0], i, &la), *sb = utf8_value(args[1], i, &lb);
    int32_t need = la > lb ? la : lb;
    if (need + 1 > cap) {
      int32_t ncap = need + 1 > 2 * cap ? need + 1 : 2 * cap;
      uint32_t *na = realloc(a, (size_t)ncap * sizeof *a);
      if (na != NULL) a = na;
      uint32_t *nb = realloc(b, (size_t)ncap * sizeof *b);
      if (nb != NULL) b = nb;
      int64_t *nd = realloc(dist, (size_t)ncap * sizeof *dist);
      if (nd != NULL) dist = nd;
      if (na == NULL || nb == NULL || nd == NULL) {
        free(a), free(b), free(dist);
        out->release(out);
        snprintf(errbuf, errlen, "levenshtein: out of memory for strings of %d bytes", need);
        return ENOMEM;
      }
      cap = ncap;
    }
    int32_t n = decode((const unsigned char *)sa, la, a);
    int32_t m = decode((const unsigned char *)sb, lb, b);
    /* One row of the dynamic programme: dist[j] is the distance between
     * the first k code points of a and the first j of b. */
    for (int32_t j = 0; j <= m; j++) dist[j] = j;
    for (int32_t k = 1; k <= n; k++) {
      int64_t diag = dist[0];
      dist[0] = k;
      for (int32_t j = 1; j <= m; j++) {
        int64_t up = dist[j];
        int64_t best = diag + (a[k - 1] != b[j - 1]);
        if (up + 1 < best) best = up + 1;
        if (dist[j - 1] + 1 < best) best = dist[j - 1] + 1;
        dist[j] = best;
        diag = up;
      }
    }
    r[i] = dist[m];
  }
  free(a), free(b), free(dist);
  return 0;
}

/* ------------------------------------------------------------------------
 * fnv1a_64
 * ---------------------------------------------------------------------- */

static int fnv1a_64(void *state, const struct ArrowArray *const *args,
                    const struct ArrowSchema *const *arg_schemas, int64_t nargs, int64_t rows,
                    struct ArrowArray *out, struct ArrowSchema *out_schema, char *errbuf,
                    size_t errlen) {
  (void)state, (void)arg_schemas, (void)nargs, (void)out_schema;
  int64_t *r = new_fixed_result(out, rows, sizeof(int64_t), errbuf, errlen);
  if (r == NULL) return ENOMEM;
  for (int64_t i = 0; i < rows; i++) {
    int32_t len;
    const unsigned char *s = (const unsigned char *)utf8_value(args[0], i, &len);
    uint64_t h = 0xcbf29ce484222325ull;
    for (int32_t j = 0; j < len; j++) h = (h ^ s[j]) * 0x100000001b3ull;
    r[i] = (int64_t)h;
  }
  return 0;
}

/* ------------------------------------------------------------------------
 * The function table.
 * ---------------------------------------------------------------------- */

static const char *const four_doubles[] = {"g", "g", "g", "g"};
static const char *const two_strings[] = {"u", "u"};
static const char *const one_string[] = {"u"};

static const struct ArbalestUdfFunction functions[] = {
    {.name = "haversine_km",
     .description = "great-circle distance in km between (lat1, lon1) and (lat2, lon2), in degrees",
     .arg_types = four_doubles, .n_args = 4, .result_type = "g",
     .volatility = ARBALEST_UDF_IMMUTABLE, .null_handling = ARBALEST_UDF_NULL_ON_NULL,
     .call = haversine_km},
    {.name = "levenshtein",
     .description = "edit distance between two strings, in code points",
     .arg_types = two_strings, .n_args = 2, .result_type = "l",
     .volatility = ARBALEST_UDF_IMMUTABLE, .null_handling = ARBALEST_UDF_NULL_ON_NULL,
     .call = levenshtein},
    {.name = "fnv1a_64",
     .description = "64-bit FNV-1a hash of the UTF-8 bytes",
     .arg_types = one_string, .n_args = 1, .result_type = "l",
     .volatility = ARBALEST_UDF_IMMUTABLE, .null_handling = ARBALEST_UDF_NULL_ON_NULL,
     .call = fnv1a_64},
};

/* The library keeps no state: nothing to allocate, nothing to release. */
int arbalest_udf_init_v1(struct ArbalestUdfLibrary *lib, char *errbuf, size_t errlen) {
  (void)errbuf, (void)errlen;
  lib->abi_version = ARBALEST_UDF_ABI_VERSION;
  lib->name = "example";
  lib->version = "1.0";
  lib->n_functions = (int64_t)(sizeof functions / sizeof functions[0]);
  lib->functions = functions;
  lib->state = NULL;
  lib->release = NULL;
  return 0;
}
