//go:build cgo && !arbalest_nonative

// host.c: the C side of the Go loader. It stays small: dlopen and the
// reference count that keeps a library mapped while its results live.
// Everything that can be checked in Go is checked in Go.

#include "host.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_message(char *dst, size_t dstlen, const char *src) {
  if (dstlen == 0) return;
  if (src == NULL) src = "";
  snprintf(dst, dstlen, "%s", src);
}

int arb_open(const char *path, const char *symbol, arb_host_lib **out,
             int *init_rc, char *err, size_t errlen) {
  arb_host_lib *h;
  ArbalestUdfInitV1 init;
  void *sym;
  int rc;

  *out = NULL;
  *init_rc = 0;
  // RTLD_NOW: an unresolved symbol fails the load, not a query later.
  // RTLD_LOCAL: two libraries may define the same helper names.
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (dl == NULL) {
    copy_message(err, errlen, dlerror());
    return ARB_OPEN_DLOPEN;
  }
  dlerror(); // clear, so that a NULL symbol value is told from a missing one
  sym = dlsym(dl, symbol);
  if (sym == NULL) {
    const char *e = dlerror();
    copy_message(err, errlen, e != NULL ? e : "symbol is NULL");
    dlclose(dl);
    return ARB_OPEN_DLSYM;
  }
  h = calloc(1, sizeof *h);
  if (h == NULL) {
    dlclose(dl);
    return ARB_OPEN_NOMEM;
  }
  h->dl = dl;
  h->refs = 1;
  // A function pointer from a data pointer: what dlsym is for (POSIX
  // guarantees the conversion); memcpy keeps -Wpedantic quiet.
  memcpy(&init, &sym, sizeof init);
  memset(err, 0, errlen);
  rc = init(&h->table, err, errlen);
  if (errlen > 0) err[errlen - 1] = 0;
  if (rc != 0) {
    // The contract: a failed init freed its own allocations; the table is
    // not read and release is not called.
    *init_rc = rc;
    dlclose(dl);
    free(h);
    return ARB_OPEN_INIT;
  }
  *out = h;
  return ARB_OPEN_OK;
}

void arb_unref(arb_host_lib *h) {
  if (__atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  if (h->table.release != NULL) h->table.release(&h->table);
  dlclose(h->dl);
  free(h);
}

arb_frame *arb_frame_new(int64_t nargs) {
  size_t size = sizeof(arb_frame) +
                (size_t)nargs * (sizeof(struct ArrowArray) + sizeof(struct ArrowArray *));
  arb_frame *f = calloc(1, size);
  if (f == NULL) return NULL;
  f->nargs = nargs;
  if (nargs > 0) {
    // The structs first (8-byte aligned after the frame), then the pointers.
    f->args = (struct ArrowArray *)(f + 1);
    f->argp = (struct ArrowArray **)(f->args + nargs);
    for (int64_t i = 0; i < nargs; i++) f->argp[i] = &f->args[i];
  }
  return f;
}

void arb_release_array(struct ArrowArray *a) {
  if (a->release != NULL) {
    a->release(a);
    a->release = NULL;
  }
}

void arb_release_schema(struct ArrowSchema *s) {
  if (s->release != NULL) {
    s->release(s);
    s->release = NULL;
  }
}

void arb_frame_free(arb_frame *f) {
  if (f == NULL) return;
  for (int64_t i = 0; i < f->nargs; i++) arb_release_array(&f->args[i]);
  arb_release_array(&f->out);
  arb_release_schema(&f->out_schema);
  free(f);
}

// A result array as handed to Go: the library's array moved inside, plus
// the library it must keep alive.
typedef struct arb_result {
  struct ArrowArray inner;
  arb_host_lib *lib;
} arb_result;

static void arb_result_release(struct ArrowArray *a) {
  arb_result *r = a->private_data;
  arb_host_lib *lib = r->lib;
  arb_release_array(&r->inner);
  free(r);
  a->release = NULL;
  a->private_data = NULL;
  arb_unref(lib);
}

int arb_call(arb_host_lib *h, int64_t fn, arb_frame *f,
             const struct ArrowSchema *const *schemas, int64_t rows) {
  const struct ArbalestUdfFunction *d = &h->table.functions[fn];
  int rc = d->call(h->table.state, (const struct ArrowArray *const *)f->argp,
                   schemas, f->nargs, rows, &f->out, &f->out_schema,
                   f->errbuf, sizeof f->errbuf);
  f->errbuf[sizeof f->errbuf - 1] = 0;
  f->status = ARB_CALL_OK;
  if (rc != 0) {
    arb_release_array(&f->out);
    arb_release_schema(&f->out_schema);
    return rc;
  }
  if (f->out.release == NULL) {
    arb_release_schema(&f->out_schema);
    f->status = ARB_CALL_NO_RESULT;
    return 0;
  }
  arb_result *r = malloc(sizeof *r);
  if (r == NULL) {
    arb_release_array(&f->out);
    arb_release_schema(&f->out_schema);
    f->status = ARB_CALL_NOMEM;
    return 0;
  }
  // Move the library's array inside the wrapper (the C Data Interface
  // allows moving a struct by copying it) and leave f->out describing the
  // same buffers with our release in front.
  r->inner = f->out;
  r->lib = h;
  __atomic_add_fetch(&h->refs, 1, __ATOMIC_ACQ_REL);
  f->out.private_data = r;
  f->out.release = arb_result_release;
  return 0;
}

static void arb_format_schema_release(struct ArrowSchema *s) {
  free((void *)s->format);
  free((void *)s->name);
  s->release = NULL;
}

struct ArrowSchema *arb_format_schema(const char *format) {
  struct ArrowSchema *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->format = strdup(format);
  s->name = strdup("");
  if (s->format == NULL || s->name == NULL) {
    free((void *)s->format);
    free((void *)s->name);
    free(s);
    return NULL;
  }
  s->flags = ARROW_FLAG_NULLABLE;
  s->release = arb_format_schema_release;
  return s;
}

int64_t arb_symbol_i64(arb_host_lib *h, const char *symbol, int *found) {
  int64_t (*fn)(void);
  void *sym = dlsym(h->dl, symbol);
  *found = sym != NULL;
  if (sym == NULL) return -1;
  memcpy(&fn, &sym, sizeof fn);
  return fn();
}
