// testudf.c: the native UDF library of the package's tests. The tests build
// it with gcc into a temporary directory, once per variant:
//
//   (no define)          the good library "testudf"
//   -DTESTUDF_NO_INIT    no init symbol
//   -DTESTUDF_ABI=2      a table of another ABI version
//   -DTESTUDF_INIT_FAIL  init fails with a message
//   -DTESTUDF_BAD=n      a table the host must refuse (see bad_table)
//
// It counts the result arrays it allocates and releases, library inits and
// releases, and overlapping calls of its NOT_THREAD_SAFE function; the
// tests read the counters through the testudf_* functions. When the
// environment variable TESTUDF_LOG names a file, init and release append a
// line to it (to observe a library that the host refuses).

#define _POSIX_C_SOURCE 200809L // nanosleep

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arbalest_udf.h"

#define EXPORT __attribute__((visibility("default")))

static atomic_llong results_allocated;
static atomic_llong results_released;
static atomic_llong lib_inits;
static atomic_llong lib_releases;
static atomic_llong serial_in_flight;
static atomic_llong serial_violations;

EXPORT int64_t testudf_results_allocated(void) { return results_allocated; }
EXPORT int64_t testudf_results_released(void) { return results_released; }
EXPORT int64_t testudf_lib_inits(void) { return lib_inits; }
EXPORT int64_t testudf_lib_releases(void) { return lib_releases; }
EXPORT int64_t testudf_serial_violations(void) { return serial_violations; }

static void log_line(const char *what) {
  const char *path = getenv("TESTUDF_LOG");
  if (path == NULL || *path == 0) return;
  FILE *f = fopen(path, "a");
  if (f == NULL) return;
  fprintf(f, "%s\n", what);
  fclose(f);
}

// ---------------------------------------------------------------------------
// Result arrays: up to three malloc'ed buffers freed by the release callback.

typedef struct {
  void *bufs[3];
  const void *ptrs[3];
} result_data;

static void result_release(struct ArrowArray *a) {
  result_data *d = a->private_data;
  for (int i = 0; i < 3; i++) free(d->bufs[i]);
  free(d);
  a->release = NULL;
  a->private_data = NULL;
  atomic_fetch_add(&results_released, 1);
}

// new_result fills out with an array of length rows at offset off whose
// buffers have the given sizes (0: a NULL buffer). Buffers are zeroed.
static int new_result(struct ArrowArray *out, int64_t rows, int64_t off,
                      int nbufs, const size_t *sizes, char *errbuf,
                      size_t errlen) {
  result_data *d = calloc(1, sizeof *d);
  if (d == NULL) goto oom;
  for (int i = 0; i < nbufs; i++) {
    if (sizes[i] == 0) continue;
    d->bufs[i] = calloc(1, sizes[i]);
    if (d->bufs[i] == NULL) goto oom;
    d->ptrs[i] = d->bufs[i];
  }
  out->length = rows;
  out->null_count = 0;
  out->offset = off;
  out->n_buffers = nbufs;
  out->n_children = 0;
  out->buffers = d->ptrs;
  out->children = NULL;
  out->dictionary = NULL;
  out->private_data = d;
  out->release = result_release;
  atomic_fetch_add(&results_allocated, 1);
  return 0;
oom:
  if (d != NULL)
    for (int i = 0; i < 3; i++) free(d->bufs[i]);
  free(d);
  snprintf(errbuf, errlen, "out of memory");
  return ENOMEM;
}

static size_t bitmap_bytes(int64_t bits) { return (size_t)((bits + 7) / 8); }

static void set_bit(uint8_t *bits, int64_t i, int v) {
  if (v)
    bits[i >> 3] |= (uint8_t)(1u << (i & 7));
  else
    bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

static int check_rows(const struct ArrowArray *const *args, int64_t nargs,
                      int64_t rows, char *errbuf, size_t errlen) {
  for (int64_t i = 0; i < nargs; i++) {
    if (args[i]->length != rows) {
      snprintf(errbuf, errlen, "argument %lld has %lld rows, the call says %lld",
               (long long)i, (long long)args[i]->length, (long long)rows);
      return EINVAL;
    }
  }
  return 0;
}

static const int64_t *i64_values(const struct ArrowArray *a) {
  return (const int64_t *)a->buffers[1] + a->offset;
}

#define UDF_ARGS                                                            \
  void *state, const struct ArrowArray *const *args,                        \
      const struct ArrowSchema *const *arg_schemas, int64_t nargs,          \
      int64_t rows, struct ArrowArray *out, struct ArrowSchema *out_schema, \
      char *errbuf, size_t errlen

#define UNUSED_UDF_ARGS \
  (void)state;          \
  (void)arg_schemas;    \
  (void)out_schema

// new_i64 makes an int64 result with no validity bitmap.
static int new_i64(struct ArrowArray *out, int64_t rows, int64_t **values,
                   char *errbuf, size_t errlen) {
  size_t sizes[2] = {0, (size_t)rows * 8};
  int rc = new_result(out, rows, 0, 2, sizes, errbuf, errlen);
  if (rc == 0) *values = (int64_t *)out->buffers[1];
  return rc;
}

// ---------------------------------------------------------------------------
// Good functions.

// add_i64(a, b): NULL on NULL, so it leaves the nulls to the host.
static int add_i64(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  int64_t *r;
  int rc = check_rows(args, nargs, rows, errbuf, errlen);
  if (rc == 0) rc = new_i64(out, rows, &r, errbuf, errlen);
  if (rc != 0) return rc;
  const int64_t *a = i64_values(args[0]), *b = i64_values(args[1]);
  for (int64_t i = 0; i < rows; i++) r[i] = (int64_t)((uint64_t)a[i] + (uint64_t)b[i]);
  return 0;
}

// str_len(s): called on NULL; NULL in, NULL out, decided here.
static int str_len(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  const struct ArrowArray *s = args[0];
  int rc = check_rows(args, nargs, rows, errbuf, errlen);
  if (rc != 0) return rc;
  size_t sizes[2] = {bitmap_bytes(rows), (size_t)rows * 8};
  if ((rc = new_result(out, rows, 0, 2, sizes, errbuf, errlen)) != 0) return rc;
  uint8_t *valid = (uint8_t *)out->buffers[0];
  int64_t *r = (int64_t *)out->buffers[1];
  const int32_t *offs = (const int32_t *)s->buffers[1] + s->offset;
  int64_t nulls = 0;
  for (int64_t i = 0; i < rows; i++) {
    int v = arbalest_udf_valid(s, i);
    set_bit(valid, i, v);
    nulls += !v;
    r[i] = v ? offs[i + 1] - offs[i] : 0;
  }
  out->null_count = nulls;
  return 0;
}

// upper(s): ASCII upper case; a utf8 result.
static int upper(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  const struct ArrowArray *s = args[0];
  int rc = check_rows(args, nargs, rows, errbuf, errlen);
  if (rc != 0) return rc;
  const int32_t *offs = (const int32_t *)s->buffers[1] + s->offset;
  const char *data = (const char *)s->buffers[2];
  int32_t nbytes = offs[rows] - offs[0];
  size_t sizes[3] = {0, (size_t)(rows + 1) * 4, (size_t)nbytes + 1};
  if ((rc = new_result(out, rows, 0, 3, sizes, errbuf, errlen)) != 0) return rc;
  int32_t *ro = (int32_t *)out->buffers[1];
  char *rd = (char *)out->buffers[2];
  for (int64_t i = 0; i <= rows; i++) ro[i] = offs[i] - offs[0];
  for (int32_t j = 0; j < nbytes; j++) {
    char c = data[offs[0] + j];
    rd[j] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
  }
  return 0;
}

// dec_double(d): a decimal128(15, 2) times two.
static int dec_double(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  const struct ArrowArray *d = args[0];
  int rc = check_rows(args, nargs, rows, errbuf, errlen);
  if (rc != 0) return rc;
  size_t sizes[2] = {0, (size_t)rows * 16};
  if ((rc = new_result(out, rows, 0, 2, sizes, errbuf, errlen)) != 0) return rc;
  const unsigned char *in = (const unsigned char *)d->buffers[1] + d->offset * 16;
  unsigned char *o = (unsigned char *)out->buffers[1];
  for (int64_t i = 0; i < rows; i++) {
    __int128 v;
    memcpy(&v, in + i * 16, 16);
    v *= 2;
    memcpy(o + i * 16, &v, 16);
  }
  return 0;
}

// schema_ok(l, u): true when the arg_schemas describe int64 and utf8.
static int schema_ok(UDF_ARGS) {
  (void)state;
  (void)out_schema;
  int rc = check_rows(args, nargs, rows, errbuf, errlen);
  if (rc != 0) return rc;
  if (nargs != 2 || arg_schemas == NULL || strcmp(arg_schemas[0]->format, "l") != 0 ||
      strcmp(arg_schemas[1]->format, "u") != 0) {
    snprintf(errbuf, errlen, "unexpected argument schemas");
    return EINVAL;
  }
  size_t sizes[2] = {0, bitmap_bytes(rows)};
  if ((rc = new_result(out, rows, 0, 2, sizes, errbuf, errlen)) != 0) return rc;
  memset((void *)out->buffers[1], 0xff, bitmap_bytes(rows));
  return 0;
}

// buf_addr(x): the address of x's values buffer, in every row: the tests
// compare it with the Go buffer's to check that nothing was copied.
static int buf_addr(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  int64_t *r;
  int rc = check_rows(args, nargs, rows, errbuf, errlen);
  if (rc == 0) rc = new_i64(out, rows, &r, errbuf, errlen);
  if (rc != 0) return rc;
  for (int64_t i = 0; i < rows; i++) r[i] = (int64_t)(intptr_t)args[0]->buffers[1];
  return 0;
}

// seven(): no arguments; rows sevens.
static int seven(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  int64_t *r;
  if (nargs != 0 || args != NULL) {
    snprintf(errbuf, errlen, "seven takes no arguments");
    return EINVAL;
  }
  int rc = new_i64(out, rows, &r, errbuf, errlen);
  if (rc != 0) return rc;
  for (int64_t i = 0; i < rows; i++) r[i] = 7;
  return 0;
}

// neg_nonzero(x): -x, NULL where x is 0; the result starts at offset 5 and
// has its own validity bitmap (the host ANDs the argument's into it).
static int neg_nonzero(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  const int64_t off = 5;
  int rc = check_rows(args, nargs, rows, errbuf, errlen);
  if (rc != 0) return rc;
  size_t sizes[2] = {bitmap_bytes(off + rows), (size_t)(off + rows) * 8};
  if ((rc = new_result(out, rows, off, 2, sizes, errbuf, errlen)) != 0) return rc;
  uint8_t *valid = (uint8_t *)out->buffers[0];
  int64_t *r = (int64_t *)out->buffers[1];
  const int64_t *x = i64_values(args[0]);
  int64_t nulls = 0;
  for (int64_t i = 0; i < rows; i++) {
    r[off + i] = -x[i];
    set_bit(valid, off + i, x[i] != 0);
    nulls += x[i] == 0;
  }
  out->null_count = nulls;
  return 0;
}

// serial_check(x): x, slowly; NOT_THREAD_SAFE, so two calls must never
// overlap.
static int serial_check(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  int64_t *r;
  if (atomic_fetch_add(&serial_in_flight, 1) != 0) atomic_fetch_add(&serial_violations, 1);
  struct timespec ts = {0, 200000};
  nanosleep(&ts, NULL);
  int rc = check_rows(args, nargs, rows, errbuf, errlen);
  if (rc == 0) rc = new_i64(out, rows, &r, errbuf, errlen);
  if (rc == 0) memcpy(r, i64_values(args[0]), (size_t)rows * 8);
  atomic_fetch_sub(&serial_in_flight, 1);
  return rc;
}

// ---------------------------------------------------------------------------
// Misbehaving functions.

static int fail(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  (void)out;
  (void)nargs;
  (void)rows;
  snprintf(errbuf, errlen, "fail: refusing %lld", (long long)i64_values(args[0])[0]);
  return EINVAL;
}

static int fail_silent(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  (void)args;
  (void)nargs;
  (void)rows;
  (void)out;
  (void)errbuf;
  (void)errlen;
  return 42;
}

// fail_leaky fails but fills out anyway: the host must still release it.
static int fail_leaky(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  int64_t *r;
  (void)args;
  (void)nargs;
  int rc = new_i64(out, rows, &r, errbuf, errlen);
  if (rc != 0) return rc;
  snprintf(errbuf, errlen, "failed after allocating");
  return EIO;
}

static void wrong_schema_release(struct ArrowSchema *s) { s->release = NULL; }

// wrong_type declares int64 but says (and returns) float64.
static int wrong_type(UDF_ARGS) {
  (void)state;
  (void)arg_schemas;
  (void)args;
  (void)nargs;
  int64_t *r;
  int rc = new_i64(out, rows, &r, errbuf, errlen);
  if (rc != 0) return rc;
  memset(out_schema, 0, sizeof *out_schema);
  out_schema->format = "g";
  out_schema->name = "";
  out_schema->flags = ARROW_FLAG_NULLABLE;
  out_schema->release = wrong_schema_release;
  return 0;
}

static int wrong_len(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  int64_t *r;
  (void)args;
  (void)nargs;
  return new_i64(out, rows + 1, &r, errbuf, errlen);
}

// bad_layout: declared utf8, returns two buffers.
static int bad_layout(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  int64_t *r;
  (void)args;
  (void)nargs;
  return new_i64(out, rows, &r, errbuf, errlen);
}

static int utf8_result(struct ArrowArray *out, int64_t rows, const int32_t *offs,
                       const char *data, size_t ndata, char *errbuf, size_t errlen) {
  size_t sizes[3] = {0, (size_t)(rows + 1) * 4, ndata};
  int rc = new_result(out, rows, 0, 3, sizes, errbuf, errlen);
  if (rc != 0) return rc;
  memcpy((void *)out->buffers[1], offs, (size_t)(rows + 1) * 4);
  memcpy((void *)out->buffers[2], data, ndata);
  return 0;
}

// bad_offsets: offsets that go backwards (needs rows == 2).
static int bad_offsets(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  (void)args;
  (void)nargs;
  int32_t offs[3] = {0, 3, 1};
  if (rows != 2) {
    snprintf(errbuf, errlen, "bad_offsets wants 2 rows");
    return EINVAL;
  }
  return utf8_result(out, rows, offs, "abc", 3, errbuf, errlen);
}

// bad_utf8: one row that is not UTF-8 (needs rows == 1).
static int bad_utf8(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  (void)args;
  (void)nargs;
  int32_t offs[2] = {0, 2};
  if (rows != 1) {
    snprintf(errbuf, errlen, "bad_utf8 wants 1 row");
    return EINVAL;
  }
  return utf8_result(out, rows, offs, "\xff\xfe", 2, errbuf, errlen);
}

static int no_result(UDF_ARGS) {
  UNUSED_UDF_ARGS;
  (void)args;
  (void)nargs;
  (void)rows;
  (void)out;
  (void)errbuf;
  (void)errlen;
  return 0;
}

// ---------------------------------------------------------------------------
// The table.

static const char *const L[] = {"l"};
static const char *const LL[] = {"l", "l"};
static const char *const U[] = {"u"};
static const char *const LU[] = {"l", "u"};
static const char *const DEC[] = {"d:15,2"};

#define FN(n, a, na, r, vol, nulls, fl) \
  {.name = #n, .description = "test function " #n, .arg_types = a, .n_args = na, \
   .result_type = r, .volatility = vol, .null_handling = nulls, .flags = fl, .call = n}

#define IMM ARBALEST_UDF_IMMUTABLE
#define NON ARBALEST_UDF_NULL_ON_NULL
#define CON ARBALEST_UDF_CALLED_ON_NULL

// unused in the variants without a working init
__attribute__((unused)) static struct ArbalestUdfFunction functions[] = {
    FN(add_i64, LL, 2, "l", IMM, NON, 0),
    FN(str_len, U, 1, "l", IMM, CON, 0),
    FN(upper, U, 1, "u", IMM, NON, 0),
    FN(dec_double, DEC, 1, "d:15,2", IMM, NON, 0),
    FN(schema_ok, LU, 2, "b", ARBALEST_UDF_STABLE, CON, 0),
    FN(buf_addr, L, 1, "l", IMM, CON, 0),
    FN(seven, NULL, 0, "l", ARBALEST_UDF_VOLATILE, CON, 0),
    FN(neg_nonzero, L, 1, "l", IMM, NON, 0),
    FN(serial_check, L, 1, "l", IMM, CON, ARBALEST_UDF_FLAG_NOT_THREAD_SAFE),
    FN(fail, L, 1, "l", IMM, CON, 0),
    FN(fail_silent, L, 1, "l", IMM, CON, 0),
    FN(fail_leaky, L, 1, "l", IMM, CON, 0),
    FN(wrong_type, L, 1, "l", IMM, CON, 0),
    FN(wrong_len, L, 1, "l", IMM, CON, 0),
    FN(bad_layout, L, 1, "u", IMM, CON, 0),
    FN(bad_offsets, L, 1, "u", IMM, CON, 0),
    FN(bad_utf8, L, 1, "u", IMM, CON, 0),
    FN(no_result, L, 1, "l", IMM, CON, 0),
};

#define NFUNCS ((int64_t)(sizeof functions / sizeof functions[0]))

#ifndef TESTUDF_ABI
#define TESTUDF_ABI ARBALEST_UDF_ABI_VERSION
#endif

typedef struct {
  int64_t magic;
  struct ArbalestUdfFunction *functions; // a copy, for the bad variants
} lib_state;

__attribute__((unused)) static void lib_release(struct ArbalestUdfLibrary *lib) {
  lib_state *s = lib->state;
  if (s == NULL || s->magic != 0x7e57) abort(); // released twice or garbage
  s->magic = 0;
  free(s->functions);
  free(s);
  lib->state = NULL;
  atomic_fetch_add(&lib_releases, 1);
  log_line("release");
}

#ifdef TESTUDF_BAD
static const char *const BAD_FMT[] = {"q"};
static const char *const NESTED[] = {"+l"};

// bad_table breaks the copy of the table in one way per TESTUDF_BAD value.
static const char *bad_table(struct ArbalestUdfLibrary *lib, struct ArbalestUdfFunction *f) {
  switch (TESTUDF_BAD) {
    case 1: f[1].name = "ADD_I64"; return NULL;          // duplicate, ignoring case
    case 2: f[2].arg_types = BAD_FMT; return NULL;       // unknown format
    case 3: f[3].call = NULL; return NULL;               // no entry point
    case 4: f[4].volatility = 0; return NULL;            // field left unset
    case 5: f[5].flags = (uint64_t)1 << 40; return NULL; // unknown flag
    case 6: f[6].n_args = 1; f[6].arg_types = NESTED; return NULL;
    case 7: f[7].name = "7up"; return NULL;               // not an identifier
    case 8: lib->name = "test udf"; return NULL;
    case 9: lib->n_functions = 0; return NULL;
    case 10: f[8].n_args = 1000; return NULL;
  }
  return "unknown TESTUDF_BAD";
}
#endif

#ifndef TESTUDF_NO_INIT
int arbalest_udf_init_v1(struct ArbalestUdfLibrary *lib, char *errbuf, size_t errlen) {
#ifdef TESTUDF_INIT_FAIL
  (void)lib;
  snprintf(errbuf, errlen, "testudf: cannot start: no license");
  return EPERM;
#else
  lib_state *s = calloc(1, sizeof *s);
  if (s == NULL) {
    snprintf(errbuf, errlen, "out of memory");
    return ENOMEM;
  }
  s->magic = 0x7e57;
  s->functions = malloc(sizeof functions);
  if (s->functions == NULL) {
    free(s);
    snprintf(errbuf, errlen, "out of memory");
    return ENOMEM;
  }
  memcpy(s->functions, functions, sizeof functions);
  lib->abi_version = TESTUDF_ABI;
  lib->name = "testudf";
  lib->version = "1.0.0";
  lib->n_functions = NFUNCS;
  lib->functions = s->functions;
  lib->state = s;
  lib->release = lib_release;
#ifdef TESTUDF_BAD
  const char *e = bad_table(lib, s->functions);
  if (e != NULL) {
    free(s->functions);
    free(s);
    snprintf(errbuf, errlen, "%s", e);
    return EINVAL;
  }
#else
  (void)errbuf;
  (void)errlen;
#endif
  atomic_fetch_add(&lib_inits, 1);
  log_line("init");
  return 0;
#endif
}
#endif
