/*
 * gosfu C ABI: the types shared by libgosfu (Go, c-shared) and its callers.
 * The functions themselves are declared in the generated libgosfu.h.
 *
 * Calls:
 *   gosfu_engine_create(settings, len, cb, ctx, max_events, max_bytes, &err)
 *       -> handle (0 on error); max_events/max_bytes are the bound of the
 *       caller's event queue, reported by worker.dump (0: unbounded)
 *   gosfu_engine_close(handle)
 *   gosfu_request(handle, method, handler, data, &out, &out_len) -> status
 *       synchronous; handle 0 addresses engine-less (global) methods
 *   gosfu_request_async(handle, id, method, handler, data)
 *       the completion arrives through cb with target = decimal id and
 *       event "@ok" or "@error"
 *   gosfu_free(p) frees memory the library returned
 * Payloads are JSON unless an event's binary flag is set. Strings are passed
 * with explicit lengths and are not NUL terminated.
 */
#ifndef GOSFU_H
#define GOSFU_H

#include <stddef.h>
#include <stdint.h>

#define GOSFU_OK 0
#define GOSFU_ERROR 1

/* Event flags. */
#define GOSFU_EVENT_BINARY 1    /* data is binary, not JSON */
#define GOSFU_EVENT_DROPPABLE 2 /* the queue may drop it when full */

/* Event callback result: the event was dropped (queue full, or out of
 * memory). Any other value means it was queued (or the engine is closing). */
#define GOSFU_EVENT_DROPPED 2

/* Event callback. May be called from any thread, concurrently; the buffers
 * are valid only during the call. Never called after gosfu_engine_close()
 * returned. The callee bounds its queue for events flagged
 * GOSFU_EVENT_DROPPABLE (high-rate data: rtp, trace, logs...) and queues the
 * others (lifecycle events, responses) unconditionally. */
typedef int (*gosfu_event_cb)(void *ctx, const char *target, size_t target_len,
                              const char *event, size_t event_len,
                              const uint8_t *data, size_t data_len, int flags);

static inline int gosfu_invoke_event_cb(gosfu_event_cb cb, void *ctx,
                                        const char *target, size_t target_len,
                                        const char *event, size_t event_len,
                                        const uint8_t *data, size_t data_len,
                                        int flags) {
  return cb(ctx, target, target_len, event, event_len, data, data_len, flags);
}

#endif
