/*
 * N-API shim between Node and libgosfu (the Go engine).
 *
 * Events from engine goroutines are appended to a mutex-guarded queue; the
 * thread-safe function only wakes the JS thread, which drains the whole
 * queue in one go. That batching is what keeps event floods cheap.
 *
 * The queue is bounded (EVENT_QUEUE_MAX_EVENTS / _MAX_BYTES, overridable
 * with the GOSFU_EVENT_QUEUE_MAX_EVENTS / _MAX_BYTES environment variables
 * read at createEngine): an event Go flags droppable (rtp, trace, logs...)
 * is refused once the queue is full, and Go counts it. Other events
 * (lifecycle, responses) are always queued: they count towards the bound
 * but never wait for room, so a blocked JS thread can neither lose them nor
 * stall the engine goroutine emitting them.
 *
 * JS API (internal, used by lib/Channel.js):
 *   createEngine(settingsJson, onEvent(target, event, payload)) -> external
 *   closeEngine(external)
 *   request(externalOrNull, method, handlerId, payload) -> string|undefined
 *       throws an Error whose .code is the error class name on failure
 *   requestAsync(external, id, method, handlerId, payload)
 * payload: string (JSON), Buffer/Uint8Array, or undefined.
 */
#define NAPI_VERSION 8
#define _DEFAULT_SOURCE /* SA_ONSTACK, NSIG */
#include <node_api.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libgosfu.h"

typedef struct event {
  struct event *next;
  char *target;
  size_t target_len;
  char *name;
  size_t name_len;
  uint8_t *data;
  size_t data_len;
  int binary;
} event;

/* Default bound of the event queue. 64k events is 16 drain budgets: far
 * beyond what a JS thread that keeps up ever holds (a few hundred ms of
 * its work), yet a flood of small events (~100 bytes of payload, 64 of
 * header) stays under ~15 MiB. 64 MiB caps floods of big payloads
 * (full-size rtp, DataConsumer messages up to 256 KiB) before the event
 * count does. */
#define EVENT_QUEUE_MAX_EVENTS 65536
#define EVENT_QUEUE_MAX_BYTES (64u << 20)

typedef struct engine_ctx {
  pthread_mutex_t mu;
  event *head;
  event *tail;
  int scheduled; /* a wake-up is pending on the tsfn */
  int closed;    /* fence: no event is queued once set */
  /* What the queue holds. Written under mu, also read without it (atomic
   * loads) so that a flood is dropped before copying anything. */
  size_t q_events;
  size_t q_bytes;
  size_t max_events;
  size_t max_bytes;
  uint64_t handle;
  napi_threadsafe_function tsfn;
  napi_env env;
  int hook_added;
  int refs; /* the JS external and the tsfn; freed when both are gone */
  napi_ref cb_ref; /* the JS event callback, for synchronous draining */
} engine_ctx;

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      throw_last(env, #call);                                                  \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

static void throw_last(napi_env env, const char *what) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending)
    napi_throw_error(env, NULL,
                     info && info->error_message ? info->error_message : what);
}

static void free_event(event *e) {
  free(e->target);
  free(e->name);
  free(e->data);
  free(e);
}

static void free_queue(event *e) {
  while (e) {
    event *n = e->next;
    free_event(e);
    e = n;
  }
}

/* The memory an event holds in the queue (its copies and header). */
static size_t event_cost(size_t target_len, size_t name_len, size_t data_len) {
  return sizeof(event) + target_len + name_len + data_len + 3;
}

/* Whether a droppable event of cost bytes finds no room. An empty queue
 * takes any event: one bigger than max_bytes (a DirectTransport may allow
 * huge messages) is not dropped for its size alone. */
static int queue_full(engine_ctx *ctx, size_t cost) {
  size_t events = __atomic_load_n(&ctx->q_events, __ATOMIC_RELAXED);
  return events >= ctx->max_events ||
         (events > 0 && __atomic_load_n(&ctx->q_bytes, __ATOMIC_RELAXED) + cost > ctx->max_bytes);
}

/* Called with mu held: an event of cost bytes enters (sign 1) or leaves
 * (sign -1) the queue. */
static void queue_account(engine_ctx *ctx, int sign, size_t cost) {
  size_t events = sign > 0 ? ctx->q_events + 1 : ctx->q_events - 1;
  size_t bytes = sign > 0 ? ctx->q_bytes + cost : ctx->q_bytes - cost;
  __atomic_store_n(&ctx->q_events, events, __ATOMIC_RELAXED);
  __atomic_store_n(&ctx->q_bytes, bytes, __ATOMIC_RELAXED);
}

static char *dup_bytes(const void *p, size_t n) {
  char *out = malloc(n + 1);
  if (!out)
    return NULL;
  if (n)
    memcpy(out, p, n);
  out[n] = 0;
  return out;
}

/* Called by Go, from any thread. Returns GOSFU_EVENT_DROPPED when it
 * refuses a droppable event for want of room (or memory). */
static int on_go_event(void *vctx, const char *target, size_t target_len,
                       const char *name, size_t name_len, const uint8_t *data,
                       size_t data_len, int flags) {
  engine_ctx *ctx = vctx;
  int droppable = flags & GOSFU_EVENT_DROPPABLE;
  size_t cost = event_cost(target_len, name_len, data_len);
  /* Unlocked first look: a flood into a full queue costs no copy, no lock. */
  if (droppable && queue_full(ctx, cost))
    return GOSFU_EVENT_DROPPED;
  event *e = calloc(1, sizeof(event));
  if (!e)
    return GOSFU_EVENT_DROPPED;
  e->target = dup_bytes(target, target_len);
  e->target_len = target_len;
  e->name = dup_bytes(name, name_len);
  e->name_len = name_len;
  e->data = (uint8_t *)dup_bytes(data, data_len);
  e->data_len = data_len;
  e->binary = flags & GOSFU_EVENT_BINARY;
  if (!e->target || !e->name || !e->data) {
    free_event(e);
    return GOSFU_EVENT_DROPPED;
  }
  int wake = 0;
  pthread_mutex_lock(&ctx->mu);
  if (ctx->closed) {
    pthread_mutex_unlock(&ctx->mu);
    free_event(e);
    return GOSFU_OK;
  }
  /* Again under the lock: other goroutines may have filled it since. */
  if (droppable && queue_full(ctx, cost)) {
    pthread_mutex_unlock(&ctx->mu);
    free_event(e);
    return GOSFU_EVENT_DROPPED;
  }
  queue_account(ctx, 1, cost);
  if (ctx->tail)
    ctx->tail->next = e;
  else
    ctx->head = e;
  ctx->tail = e;
  if (!ctx->scheduled) {
    ctx->scheduled = 1;
    wake = 1;
  }
  /* Calling the tsfn under the lock keeps it alive: close releases it only
   * after taking the lock and setting closed. Non-blocking never waits. */
  if (wake)
    napi_call_threadsafe_function(ctx->tsfn, NULL, napi_tsfn_nonblocking);
  pthread_mutex_unlock(&ctx->mu);
  return GOSFU_OK;
}

static napi_value make_payload(napi_env env, event *e) {
  napi_value v = NULL;
  if (e->binary) {
    void *copy = NULL;
    napi_create_buffer_copy(env, e->data_len, e->data, &copy, &v);
  } else if (e->data_len == 0) {
    napi_get_undefined(env, &v);
  } else {
    napi_create_string_utf8(env, (const char *)e->data, e->data_len, &v);
  }
  return v;
}

/* Events delivered per drain before yielding to the event loop. */
#define DRAIN_BUDGET 4096

/* Runs on the JS thread: calls JS once per queued event, taking them one at
 * a time from the shared queue. A JS listener may make a synchronous request
 * whose drain_sync runs a nested drain: it continues from the same queue, so
 * every event is still delivered in engine order (taking the whole queue at
 * once let the nested drain deliver newer events before older ones). After
 * DRAIN_BUDGET events the rest waits for the next wake-up, so an event flood
 * cannot starve the event loop. */
static void drain(napi_env env, napi_value js_cb, engine_ctx *ctx) {
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  for (int budget = DRAIN_BUDGET;; budget--) {
    pthread_mutex_lock(&ctx->mu);
    event *e = ctx->head;
    if (e && budget > 0) {
      ctx->head = e->next;
      if (!ctx->head)
        ctx->tail = NULL;
      queue_account(ctx, -1, event_cost(e->target_len, e->name_len, e->data_len));
    } else if (e) {
      /* Out of budget: wake up again later (the flag stays set). */
      if (!ctx->closed)
        napi_call_threadsafe_function(ctx->tsfn, NULL, napi_tsfn_nonblocking);
      e = NULL;
    } else {
      ctx->scheduled = 0;
    }
    pthread_mutex_unlock(&ctx->mu);
    if (!e)
      return;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value argv[3];
    napi_create_string_utf8(env, e->target, e->target_len, &argv[0]);
    napi_create_string_utf8(env, e->name, e->name_len, &argv[1]);
    argv[2] = make_payload(env, e);
    napi_value result;
    napi_status st = napi_call_function(env, undefined, js_cb, 3, argv, &result);
    if (st == napi_pending_exception) {
      /* Node 20 would swallow it (DEP0168): send it to uncaughtException. */
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
    napi_close_handle_scope(env, scope);
    free_event(e);
  }
}

static void call_js(napi_env env, napi_value js_cb, void *vctx, void *unused) {
  (void)unused;
  if (env == NULL || js_cb == NULL)
    return;
  drain(env, js_cb, vctx);
}

/* Delivers the events queued so far right now: a synchronous request
 * returns after the events it caused (as mediasoup's worker notifies before
 * it answers). */
static void drain_sync(napi_env env, engine_ctx *ctx) {
  pthread_mutex_lock(&ctx->mu);
  int pending = ctx->head != NULL && !ctx->closed;
  pthread_mutex_unlock(&ctx->mu);
  if (!pending || ctx->cb_ref == NULL)
    return;
  napi_value cb;
  if (napi_get_reference_value(env, ctx->cb_ref, &cb) != napi_ok || cb == NULL)
    return;
  drain(env, cb, ctx);
}

static void close_ctx(engine_ctx *ctx);
static void cleanup_hook(void *arg);

/* Both finalizers run on the JS thread, so refs needs no atomics. */
static void unref_ctx(engine_ctx *ctx) {
  if (--ctx->refs > 0)
    return;
  free_queue(ctx->head);
  pthread_mutex_destroy(&ctx->mu);
  free(ctx);
}

static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  unref_ctx(data);
}

static void external_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  engine_ctx *ctx = data;
  if (ctx->hook_added) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, ctx);
    ctx->hook_added = 0;
  }
  close_ctx(ctx);
  unref_ctx(ctx);
}

static void close_ctx(engine_ctx *ctx) {
  pthread_mutex_lock(&ctx->mu);
  if (ctx->closed) {
    pthread_mutex_unlock(&ctx->mu);
    return;
  }
  ctx->closed = 1;
  event *pending = ctx->head;
  ctx->head = ctx->tail = NULL;
  __atomic_store_n(&ctx->q_events, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&ctx->q_bytes, 0, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&ctx->mu);
  free_queue(pending);
  /* Stop Go first: when it returns no goroutine is inside on_go_event, and
   * the fence above keeps any later one out. */
  gosfu_engine_close(ctx->handle);
  napi_release_threadsafe_function(ctx->tsfn, napi_tsfn_abort);
  /* The strong reference would keep the callback (and through it the
   * external) alive forever. */
  if (ctx->cb_ref) {
    napi_delete_reference(ctx->env, ctx->cb_ref);
    ctx->cb_ref = NULL;
  }
}

static void cleanup_hook(void *arg) {
  engine_ctx *ctx = arg;
  ctx->hook_added = 0;
  close_ctx(ctx);
}

static napi_value throw_engine_error(napi_env env, const uint8_t *json,
                                     size_t len) {
  /* json is {"name":..,"message":..}; JS parses it to pick the class. */
  napi_value msg, err, code;
  napi_create_string_utf8(env, json ? (const char *)json : "{}",
                          json ? len : 2, &msg);
  napi_create_string_utf8(env, "GOSFU_ENGINE_ERROR", NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &err);
  napi_throw(env, err);
  return NULL;
}

/* Reads a string or a buffer argument into malloc'd memory. */
static int get_bytes(napi_env env, napi_value v, uint8_t **out, size_t *len) {
  napi_valuetype t;
  *out = NULL;
  *len = 0;
  if (napi_typeof(env, v, &t) != napi_ok)
    return 0;
  if (t == napi_undefined || t == napi_null)
    return 1;
  if (t == napi_string) {
    size_t n;
    napi_get_value_string_utf8(env, v, NULL, 0, &n);
    *out = malloc(n + 1);
    napi_get_value_string_utf8(env, v, (char *)*out, n + 1, &n);
    *len = n;
    return 1;
  }
  bool is_buf = false;
  napi_is_buffer(env, v, &is_buf);
  if (is_buf) {
    void *p;
    size_t n;
    napi_get_buffer_info(env, v, &p, &n);
    *out = malloc(n ? n : 1);
    memcpy(*out, p, n);
    *len = n;
    return 1;
  }
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) {
    napi_typedarray_type tt;
    size_t n, off;
    void *p;
    napi_value ab;
    napi_get_typedarray_info(env, v, &tt, &n, &p, &ab, &off);
    *out = malloc(n ? n : 1);
    memcpy(*out, p, n);
    *len = n;
    return 1;
  }
  return 0;
}

/* A positive integer from the environment, or def. */
static size_t env_size(const char *name, size_t def) {
  const char *v = getenv(name);
  if (!v || !*v)
    return def;
  char *end = NULL;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno || *end || n == 0 || n > SIZE_MAX / 2 || v[0] == '-')
    return def;
  return (size_t)n;
}

/*
 * Signal handlers and the Go runtime. Go requires every handler that
 * non-Go code installs to use SA_ONSTACK: a signal taken by a thread that
 * runs Go code then runs the handler on the thread's alternate signal
 * stack, which Go sets up, instead of on a goroutine's stack of a few KiB.
 * libuv installs its handlers without it, when Node first needs them
 * (SIGCHLD at the first child process, SIGINT/SIGTERM... for
 * process.on()): the kernel's signal frame then overwrote the goroutine
 * stack next to the one running, and the engine died later with "unknown
 * pc" or a garbage collector "index out of range" (seen after Chromium
 * exited in the browser tests). A thread of the shim adds SA_ONSTACK to
 * such handlers at engine creation and every 100 ms after; on a thread
 * without an alternate stack the flag changes nothing.
 */
static int signal_unprotected(int sig, struct sigaction *sa) {
  if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, sa) != 0)
    return 0;
  return sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN &&
         !(sa->sa_flags & SA_ONSTACK);
}

static void protect_signal_handlers(void) {
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa;
    if (signal_unprotected(sig, &sa)) {
      sa.sa_flags |= SA_ONSTACK;
      sigaction(sig, &sa, NULL);
    }
  }
}

static void *signal_guard(void *arg) {
  (void)arg;
  for (;;) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    protect_signal_handlers();
  }
  return NULL;
}

static void start_signal_guard(void) {
  /* The thread starts with every signal blocked: it must not take any. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  pthread_create(&t, &attr, signal_guard, NULL);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static pthread_once_t signal_guard_once = PTHREAD_ONCE_INIT;

/* unprotectedSignals() -> number[]: the signals whose handler lacks
 * SA_ONSTACK right now (for tests). */
static napi_value unprotected_signals(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_array(env, &out));
  uint32_t n = 0;
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa;
    if (signal_unprotected(sig, &sa)) {
      napi_value v;
      CHECK(napi_create_int32(env, sig, &v));
      CHECK(napi_set_element(env, out, n++, v));
    }
  }
  return out;
}

static napi_value create_engine(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "createEngine(settings, onEvent)");
    return NULL;
  }
  uint8_t *settings;
  size_t settings_len;
  if (!get_bytes(env, argv[0], &settings, &settings_len)) {
    napi_throw_type_error(env, NULL, "settings must be a string");
    return NULL;
  }
  protect_signal_handlers();
  pthread_once(&signal_guard_once, start_signal_guard);
  engine_ctx *ctx = calloc(1, sizeof(engine_ctx));
  pthread_mutex_init(&ctx->mu, NULL);
  ctx->refs = 1; /* the tsfn's; the external adds one */
  ctx->env = env;
  ctx->max_events = env_size("GOSFU_EVENT_QUEUE_MAX_EVENTS", EVENT_QUEUE_MAX_EVENTS);
  ctx->max_bytes = env_size("GOSFU_EVENT_QUEUE_MAX_BYTES", EVENT_QUEUE_MAX_BYTES);
  napi_value name;
  napi_create_string_utf8(env, "gosfu-events", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, ctx,
                                      tsfn_finalize, ctx, call_js,
                                      &ctx->tsfn) != napi_ok) {
    free(settings);
    pthread_mutex_destroy(&ctx->mu);
    free(ctx);
    throw_last(env, "napi_create_threadsafe_function");
    return NULL;
  }
  napi_create_reference(env, argv[1], 1, &ctx->cb_ref);
  uint8_t *err = NULL;
  size_t err_len = 0;
  /* The callback may fire during creation (logs): ctx is ready by now. */
  ctx->handle = gosfu_engine_create(settings, settings_len, on_go_event, ctx,
                                    ctx->max_events, ctx->max_bytes, &err,
                                    &err_len);
  free(settings);
  if (ctx->handle == 0) {
    napi_delete_reference(env, ctx->cb_ref);
    ctx->cb_ref = NULL;
    pthread_mutex_lock(&ctx->mu);
    ctx->closed = 1;
    pthread_mutex_unlock(&ctx->mu);
    /* Deliver the logs produced so far, then let the tsfn go. */
    napi_release_threadsafe_function(ctx->tsfn, napi_tsfn_release);
    napi_value r = throw_engine_error(env, err, err_len);
    gosfu_free(err);
    return r;
  }
  napi_add_env_cleanup_hook(env, cleanup_hook, ctx);
  ctx->hook_added = 1;
  napi_value ext;
  ctx->refs++;
  CHECK(napi_create_external(env, ctx, external_finalize, NULL, &ext));
  return ext;
}

static engine_ctx *get_ctx(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external)
    return NULL;
  void *p = NULL;
  napi_get_value_external(env, v, &p);
  return p;
}

static napi_value close_engine(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  engine_ctx *ctx = argc ? get_ctx(env, argv[0]) : NULL;
  if (!ctx) {
    napi_throw_type_error(env, NULL, "closeEngine(engine)");
    return NULL;
  }
  if (ctx->hook_added) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, ctx);
    ctx->hook_added = 0;
  }
  close_ctx(ctx);
  return NULL;
}

static napi_value request(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "request(engine, method, handlerId, payload)");
    return NULL;
  }
  uint64_t handle = 0;
  engine_ctx *ctx = get_ctx(env, argv[0]);
  if (ctx) {
    pthread_mutex_lock(&ctx->mu);
    int closed = ctx->closed;
    pthread_mutex_unlock(&ctx->mu);
    if (closed) {
      static const char msg[] = "{\"name\":\"InvalidStateError\",\"message\":\"worker closed\"}";
      return throw_engine_error(env, (const uint8_t *)msg, sizeof(msg) - 1);
    }
    handle = ctx->handle;
  }
  uint8_t *method, *handler, *payload = NULL;
  size_t method_len, handler_len, payload_len = 0;
  if (!get_bytes(env, argv[1], &method, &method_len) ||
      !get_bytes(env, argv[2], &handler, &handler_len) ||
      (argc > 3 && !get_bytes(env, argv[3], &payload, &payload_len))) {
    napi_throw_type_error(env, NULL, "invalid request arguments");
    return NULL;
  }
  uint8_t *out = NULL;
  size_t out_len = 0;
  int st = gosfu_request(handle, (char *)method, method_len, (char *)handler,
                         handler_len, payload, payload_len, &out, &out_len);
  free(method);
  free(handler);
  free(payload);
  napi_value result = NULL;
  if (ctx)
    drain_sync(env, ctx);
  bool exc = false;
  napi_is_exception_pending(env, &exc);
  if (exc) {
    gosfu_free(out);
    return NULL;
  }
  if (st != GOSFU_OK) {
    throw_engine_error(env, out, out_len);
  } else if (out_len == 0) {
    napi_get_undefined(env, &result);
  } else {
    napi_create_string_utf8(env, (const char *)out, out_len, &result);
  }
  gosfu_free(out);
  return result;
}

static napi_value request_async(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  engine_ctx *ctx = argc >= 4 ? get_ctx(env, argv[0]) : NULL;
  if (!ctx) {
    napi_throw_type_error(env, NULL, "requestAsync(engine, id, method, handlerId, payload)");
    return NULL;
  }
  uint32_t id;
  CHECK(napi_get_value_uint32(env, argv[1], &id));
  uint8_t *method, *handler, *payload = NULL;
  size_t method_len, handler_len, payload_len = 0;
  if (!get_bytes(env, argv[2], &method, &method_len) ||
      !get_bytes(env, argv[3], &handler, &handler_len) ||
      (argc > 4 && !get_bytes(env, argv[4], &payload, &payload_len))) {
    napi_throw_type_error(env, NULL, "invalid request arguments");
    return NULL;
  }
  pthread_mutex_lock(&ctx->mu);
  int closed = ctx->closed;
  pthread_mutex_unlock(&ctx->mu);
  int st = closed ? GOSFU_ERROR
                  : gosfu_request_async(ctx->handle, id, (char *)method,
                                        method_len, (char *)handler,
                                        handler_len, payload, payload_len);
  free(method);
  free(handler);
  free(payload);
  napi_value r;
  napi_get_boolean(env, st == GOSFU_OK, &r);
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"createEngine", NULL, create_engine, NULL, NULL, NULL, napi_default, NULL},
      {"closeEngine", NULL, close_engine, NULL, NULL, NULL, napi_default, NULL},
      {"request", NULL, request, NULL, NULL, NULL, napi_default, NULL},
      {"requestAsync", NULL, request_async, NULL, NULL, NULL, napi_default, NULL},
      {"unprotectedSignals", NULL, unprotected_signals, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
