/*
 * arbalest_udf.h: the C ABI of Arbalest's native in-process scalar UDFs.
 *
 * A native UDF library is a shared object (C, C++, Rust, Zig...) that the
 * Arbalest executor loads with dlopen and calls in its own process. Batches
 * cross the boundary through the Arrow C Data Interface
 * (https://arrow.apache.org/docs/format/CDataInterface.html) without being
 * copied: the function reads the engine's buffers in place and hands back
 * buffers it allocated, which the engine adopts and releases later.
 *
 * In-process code shares the executor's fate: a crash or a hang in a native
 * function takes the executor with it. Functions that cannot be trusted that
 * far belong in an out-of-process plugin (Go or Python SDK) instead.
 *
 * ---------------------------------------------------------------------------
 * Writing a library
 * ---------------------------------------------------------------------------
 * Export one symbol, ARBALEST_UDF_INIT_SYMBOL_V1, with the signature of
 * ArbalestUdfInitV1. It fills a struct ArbalestUdfLibrary: the ABI version,
 * the library name, an array of function descriptors and an opaque state.
 *
 *     static int add_i64(void *state, const struct ArrowArray *const *args,
 *                        const struct ArrowSchema *const *arg_schemas,
 *                        int64_t nargs, int64_t rows,
 *                        struct ArrowArray *out, struct ArrowSchema *out_schema,
 *                        char *errbuf, size_t errlen);
 *
 *     static const char *const add_args[] = {"l", "l"};
 *     static const struct ArbalestUdfFunction functions[] = {
 *         {.name = "add_i64", .arg_types = add_args, .n_args = 2,
 *          .result_type = "l", .volatility = ARBALEST_UDF_IMMUTABLE,
 *          .null_handling = ARBALEST_UDF_NULL_ON_NULL, .call = add_i64},
 *     };
 *
 *     ARBALEST_UDF_EXPORT int arbalest_udf_init_v1(
 *         struct ArbalestUdfLibrary *lib, char *errbuf, size_t errlen) {
 *         lib->abi_version = ARBALEST_UDF_ABI_VERSION;
 *         lib->name = "example";
 *         lib->n_functions = 1;
 *         lib->functions = functions;
 *         return 0;
 *     }
 *
 * Build with: gcc -shared -fPIC -O2 -o libexample.so example.c
 * (examples/native/example.c is a complete library.)
 *
 * ---------------------------------------------------------------------------
 * Versioning
 * ---------------------------------------------------------------------------
 * The version is in the symbol name and, again, in abi_version. A later,
 * incompatible ABI gets a new symbol (arbalest_udf_init_v2) and new struct
 * names; a library may export several init symbols and the host picks the
 * newest it understands. Within one version, nothing in these structs ever
 * changes. Feature bits the host does not know (flags) make it refuse the
 * library rather than run it wrongly.
 *
 * ---------------------------------------------------------------------------
 * Types
 * ---------------------------------------------------------------------------
 * Argument and result types are Arrow C Data format strings of flat types:
 *   "b" bool, "c"/"s"/"i"/"l" int8/16/32/64, "C"/"S"/"I"/"L" uint8..uint64,
 *   "e"/"f"/"g" float16/32/64, "u"/"U" utf8/large utf8, "z"/"Z" binary,
 *   "tdD" date32, "tdm" date64, "tsu:UTC" timestamp[us, UTC],
 *   "d:15,2" decimal128(15, 2), "d:40,4,256" decimal256(40, 4)...
 * Nested types (formats starting with '+') are not part of version 1.
 * The engine casts call arguments to the declared types, so a function only
 * ever sees exactly these types.
 *
 * ---------------------------------------------------------------------------
 * Memory contract of a call
 * ---------------------------------------------------------------------------
 * - args[i] and arg_schemas[i] are BORROWED for the duration of the call: do
 *   not release, move or modify them, and keep no pointer into them (or into
 *   their buffers) after returning. Arguments may be slices: honour
 *   ArrowArray.offset, and a NULL validity buffer means "no nulls".
 * - On success (return 0) the function fills *out with a valid array of
 *   exactly `rows` rows (any offset) of the declared result type, whose
 *   release callback frees what it owns. The result must not point into the
 *   argument buffers: they belong to the engine and die after the call.
 * - *out_schema is optional. Leave it untouched (release == NULL) and the
 *   host assumes the declared result type; fill it and the host checks its
 *   format against the declaration and releases it.
 * - On failure, return non-zero (an errno value such as EINVAL or ENOMEM is
 *   a good choice) and write a NUL-terminated UTF-8 message into errbuf
 *   (errlen bytes, at least ARBALEST_UDF_ERRBUF_SIZE; truncate if longer).
 *   Leave *out and *out_schema untouched; the host releases them anyway if
 *   their release callback is set.
 * - The host checks every result (type, length, buffer layout, string
 *   offsets and UTF-8) and turns a bad one into a query error naming the
 *   library and the function. It never calls a function with rows == 0.
 *
 * ---------------------------------------------------------------------------
 * Nulls
 * ---------------------------------------------------------------------------
 * ARBALEST_UDF_NULL_ON_NULL: a row where any argument is NULL is NULL. The
 *   function may write any value (or nothing valid) in such rows and need
 *   not produce a validity bitmap for them: the host ANDs the arguments'
 *   validity into the result's. Rows the function itself marks NULL stay
 *   NULL.
 * ARBALEST_UDF_CALLED_ON_NULL: the function sees NULL arguments and decides
 *   the result's validity itself.
 *
 * ---------------------------------------------------------------------------
 * Threads
 * ---------------------------------------------------------------------------
 * - init may run more than once per process (each Load of the same file)
 *   and must give each call its own state; data shared between states must
 *   be safe to use from several threads.
 * - call may run on any OS thread, and on many threads at once with the same
 *   state, for the same or different functions. Keep no per-thread state
 *   between calls. A function whose flags include
 *   ARBALEST_UDF_FLAG_NOT_THREAD_SAFE is never run concurrently with itself
 *   (the host serialises its calls); other functions still run meanwhile.
 * - Release callbacks of results may run on any thread, at any time after
 *   the call returned, concurrently with other calls and other releases.
 * - A call must return: the host cannot interrupt it (query cancellation
 *   takes effect between calls). It must not call back into the host, and
 *   must not let a C++ exception or a Rust panic unwind across this ABI.
 * - The library's release runs exactly once, after the last call returned
 *   and after the last result array was released; then the host dlcloses
 *   the library. Nothing of the library runs after release.
 */
#ifndef ARBALEST_UDF_H
#define ARBALEST_UDF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --------------------------------------------------------------------------
 * Arrow C Data Interface: the structures as the Arrow specification defines
 * them, under the guard every producer and consumer shares so that headers
 * from several projects can be included together.
 * ------------------------------------------------------------------------ */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  /* Array type description */
  const char *format;
  const char *name;
  const char *metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema **children;
  struct ArrowSchema *dictionary;

  /* Release callback */
  void (*release)(struct ArrowSchema *);
  /* Opaque producer-specific data */
  void *private_data;
};

struct ArrowArray {
  /* Array data description */
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void **buffers;
  struct ArrowArray **children;
  struct ArrowArray *dictionary;

  /* Release callback */
  void (*release)(struct ArrowArray *);
  /* Opaque producer-specific data */
  void *private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

/* --------------------------------------------------------------------------
 * Arbalest UDF ABI, version 1.
 * ------------------------------------------------------------------------ */

/* ARBALEST_UDF_EXPORT marks the init symbol for export, also when the
 * library is built with -fvisibility=hidden. */
#if defined(_WIN32)
#define ARBALEST_UDF_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define ARBALEST_UDF_EXPORT __attribute__((visibility("default")))
#else
#define ARBALEST_UDF_EXPORT
#endif

/* The version this header describes; ArbalestUdfLibrary.abi_version. */
#define ARBALEST_UDF_ABI_VERSION 1

/* The symbol a version-1 library exports, of type ArbalestUdfInitV1. */
#define ARBALEST_UDF_INIT_SYMBOL_V1 "arbalest_udf_init_v1"

/* The smallest errbuf the host passes to init and call. */
#define ARBALEST_UDF_ERRBUF_SIZE 1024

/* Volatility: when the engine may reuse a result. Zero is not a valid value,
 * so a descriptor whose field was forgotten is refused at load time. */
enum ArbalestUdfVolatility {
  /* Same arguments, same result, always: constant calls may be folded. */
  ARBALEST_UDF_IMMUTABLE = 1,
  /* Same arguments, same result within one query. */
  ARBALEST_UDF_STABLE = 2,
  /* May change from call to call (random, clock, I/O). */
  ARBALEST_UDF_VOLATILE = 3
};

/* Null handling (see "Nulls" above). Zero is not a valid value. */
enum ArbalestUdfNullHandling {
  ARBALEST_UDF_NULL_ON_NULL = 1,
  ARBALEST_UDF_CALLED_ON_NULL = 2
};

/* Function flags (ArbalestUdfFunction.flags). The host refuses a library
 * that sets a bit it does not know. */
#define ARBALEST_UDF_FLAG_NOT_THREAD_SAFE ((uint64_t)1 << 0)

/* The entry point of one function. state is ArbalestUdfLibrary.state;
 * args[0..nargs-1] have `rows` rows each and the declared types, described
 * by arg_schemas[0..nargs-1] (for nargs == 0, both may be NULL and rows
 * says how many results to produce). Returns 0 on success. */
typedef int (*ArbalestUdfCall)(void *state,
                               const struct ArrowArray *const *args,
                               const struct ArrowSchema *const *arg_schemas,
                               int64_t nargs, int64_t rows,
                               struct ArrowArray *out,
                               struct ArrowSchema *out_schema,
                               char *errbuf, size_t errlen);

/* One scalar function. Descriptors (and the strings they point to) must stay
 * valid and unchanged until the library's release. */
struct ArbalestUdfFunction {
  /* SQL name: [A-Za-z_][A-Za-z0-9_]*, at most 128 bytes, unique within the
   * library ignoring case. */
  const char *name;
  /* Optional one-line description (may be NULL). */
  const char *description;
  /* n_args format strings (may be NULL when n_args is 0). At most 64. */
  const char *const *arg_types;
  int64_t n_args;
  /* Format string of the result. */
  const char *result_type;
  /* An ArbalestUdfVolatility. */
  int32_t volatility;
  /* An ArbalestUdfNullHandling. */
  int32_t null_handling;
  /* ARBALEST_UDF_FLAG_* bits. */
  uint64_t flags;
  /* The entry point; must not be NULL. */
  ArbalestUdfCall call;
};

/* What init fills in. The host zeroes it before calling init. */
struct ArbalestUdfLibrary {
  /* Must be ARBALEST_UDF_ABI_VERSION (1). */
  int64_t abi_version;
  /* Library name: [A-Za-z_][A-Za-z0-9_]*, at most 64 bytes. Functions are
   * declared under the Substrait extension URN "extension:native:<name>". */
  const char *name;
  /* Optional version string of the library, for messages (may be NULL). */
  const char *version;
  /* The functions: n_functions descriptors, 1 to 4096. */
  int64_t n_functions;
  const struct ArbalestUdfFunction *functions;
  /* Opaque state passed to every call and to release (may be NULL). */
  void *state;
  /* Frees state and anything init allocated (may be NULL). Runs once; see
   * "Threads" for when. */
  void (*release)(struct ArbalestUdfLibrary *lib);
};

/* The init function. Returns 0 on success. On failure it returns non-zero,
 * writes a NUL-terminated message into errbuf, and has freed everything it
 * allocated: the host neither reads the table nor calls release. */
typedef int (*ArbalestUdfInitV1)(struct ArbalestUdfLibrary *lib, char *errbuf,
                                 size_t errlen);

/* The declaration of the init function a library defines, so that the
 * compiler checks its signature. */
ARBALEST_UDF_EXPORT int arbalest_udf_init_v1(struct ArbalestUdfLibrary *lib,
                                             char *errbuf, size_t errlen);

/* --------------------------------------------------------------------------
 * Small helpers for function authors (header-only, optional).
 * ------------------------------------------------------------------------ */

/* arbalest_udf_valid reports whether row i (0-based, before the array's
 * offset is applied) of a is non-NULL. */
static inline int arbalest_udf_valid(const struct ArrowArray *a, int64_t i) {
  const uint8_t *bits;
  int64_t j;
  if (a->n_buffers == 0) return 0; /* the null type: every row is NULL */
  bits = (const uint8_t *)a->buffers[0];
  if (bits == NULL || a->null_count == 0) return 1;
  j = a->offset + i;
  return (bits[j >> 3] >> (j & 7)) & 1;
}

#ifdef __cplusplus
}
#endif

#endif /* ARBALEST_UDF_H */
