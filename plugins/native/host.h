/* host.h: the C side of the Go loader (package native). Not part of the
 * public ABI: library authors include arbalest_udf.h only. */
#ifndef ARBALEST_NATIVE_HOST_H
#define ARBALEST_NATIVE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "arbalest_udf.h"

/* A loaded library. refs counts the Go Library handle plus every result
 * array still alive: the library's release and dlclose wait for the last
 * of them, because a result's release callback is code of the library. */
typedef struct arb_host_lib {
  void *dl;
  struct ArbalestUdfLibrary table;
  int64_t refs; /* accessed with __atomic builtins only */
} arb_host_lib;

/* arb_open outcomes. */
enum {
  ARB_OPEN_OK = 0,
  ARB_OPEN_DLOPEN = 1, /* err holds dlerror() */
  ARB_OPEN_DLSYM = 2,  /* err holds dlerror() */
  ARB_OPEN_INIT = 3,   /* *init_rc is init's code, err its message */
  ARB_OPEN_NOMEM = 4
};

/* arb_open dlopens path, finds the init symbol and runs it. On ARB_OPEN_OK,
 * *out holds the library with one reference (the caller's). */
int arb_open(const char *path, const char *symbol, arb_host_lib **out,
             int *init_rc, char *err, size_t errlen);

/* arb_unref drops one reference; the last one runs the library's release,
 * dlcloses it and frees h. */
void arb_unref(arb_host_lib *h);

/* One call's scratch space, zeroed at allocation: the exported arguments,
 * the pointers to them the function receives, the result and the message. */
typedef struct arb_frame {
  struct ArrowArray out;
  struct ArrowSchema out_schema;
  int64_t nargs;
  struct ArrowArray *args;  /* nargs structs, filled by the Go exporter */
  struct ArrowArray **argp; /* argp[i] == &args[i] */
  int32_t status;           /* ARB_CALL_* after arb_call */
  char errbuf[ARBALEST_UDF_ERRBUF_SIZE];
} arb_frame;

/* arb_call status values (the function's own return code is separate). */
enum {
  ARB_CALL_OK = 0,
  ARB_CALL_NO_RESULT = 1, /* returned 0 without filling out */
  ARB_CALL_NOMEM = 2      /* the host could not track the result */
};

/* arb_frame_new allocates a zeroed frame for nargs arguments (NULL when out
 * of memory). */
arb_frame *arb_frame_new(int64_t nargs);

/* arb_frame_free releases every exported argument still alive and frees f. */
void arb_frame_free(arb_frame *f);

/* arb_call runs function fn of h over the frame's arguments. It returns the
 * function's code. On 0 with f->status == ARB_CALL_OK, f->out is the result
 * wrapped so that its release also drops a reference on h (which this call
 * took). On any other outcome nothing of the result is left alive. */
int arb_call(arb_host_lib *h, int64_t fn, arb_frame *f,
             const struct ArrowSchema *const *schemas, int64_t rows);

/* arb_release_array and arb_release_schema call a C Data release callback
 * when it is set. */
void arb_release_array(struct ArrowArray *a);
void arb_release_schema(struct ArrowSchema *s);

/* arb_format_schema makes a heap ArrowSchema of the given format (name "")
 * for the importer to parse; its release frees the strings, the caller
 * frees the struct. NULL when out of memory. */
struct ArrowSchema *arb_format_schema(const char *format);

/* arb_symbol_i64 calls `int64_t symbol(void)` of the library, for tests
 * (returns -1 and sets *found = 0 when the symbol is missing). */
int64_t arb_symbol_i64(arb_host_lib *h, const char *symbol, int *found);

#endif /* ARBALEST_NATIVE_HOST_H */
