/*
 * gosfu C ABI: the types shared by libgosfu (Go, c-shared) and its callers.
 * The functions themselves are declared in the generated libgosfu.h.
 *
 * Calls:
 *   gosfu_engine_create(settings, len, cb, ctx, &err) -> handle (0 on error)
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

/* Event callback. May be called from any thread, concurrently; the buffers
 * are valid only during the call. Never called after gosfu_engine_close()
 * returned. */
typedef void (*gosfu_event_cb)(void *ctx, const char *target, size_t target_len,
                               const char *event, size_t event_len,
                               const uint8_t *data, size_t data_len, int binary);

static inline void gosfu_invoke_event_cb(gosfu_event_cb cb, void *ctx,
                                         const char *target, size_t target_len,
                                         const char *event, size_t event_len,
                                         const uint8_t *data, size_t data_len,
                                         int binary) {
  cb(ctx, target, target_len, event, event_len, data, data_len, binary);
}

#endif
