// Command capi is libgosfu, the C ABI of the gosfu engine, built with
// `go build -buildmode=c-shared`. It only moves bytes between C and the
// engine: create/close an engine, requests with responses, one event
// callback. See gosfu.h for the contract.
package main

/*
#cgo CFLAGS: -I${SRCDIR}
#include <stdlib.h>
#include <string.h>
#include "gosfu.h"
*/
import "C"

import (
	"encoding/json"
	"os/signal"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"github.com/gosfu/gosfu/gosfu/engine"
)

func init() {
	// Writing to a closed stdout/stderr must not kill Node with SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
}

func main() {}

var (
	enginesMu sync.Mutex
	engines   = map[uint64]*engine.Worker{}
	nextID    uint64
)

// cEmitter hands events to the C callback, whose queue is bounded (see
// engine.BoundedEmitter): it drops droppable events when full.
type cEmitter struct {
	cb                  C.gosfu_event_cb
	ctx                 unsafe.Pointer
	maxEvents, maxBytes uint64
}

func cbytes(s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

func (e *cEmitter) emit(target, event string, data []byte, flags C.int) bool {
	t, tl := cbytes(target)
	ev, el := cbytes(event)
	var d *C.uint8_t
	if len(data) > 0 {
		d = (*C.uint8_t)(unsafe.Pointer(&data[0]))
	}
	return C.gosfu_invoke_event_cb(e.cb, e.ctx, t, tl, ev, el, d, C.size_t(len(data)), flags) != C.GOSFU_EVENT_DROPPED
}

func eventFlags(binary bool) C.int {
	if binary {
		return C.GOSFU_EVENT_BINARY
	}
	return 0
}

// Emit queues an event that must not be dropped.
func (e *cEmitter) Emit(target, event string, data []byte, binary bool) {
	e.emit(target, event, data, eventFlags(binary))
}

// TryEmit queues a droppable event unless the queue is full.
func (e *cEmitter) TryEmit(target, event string, data []byte, binary bool) bool {
	return e.emit(target, event, data, eventFlags(binary)|C.GOSFU_EVENT_DROPPABLE)
}

// EventQueueLimits returns the bound the caller gave gosfu_engine_create.
func (e *cEmitter) EventQueueLimits() (maxEvents, maxBytes uint64) {
	return e.maxEvents, e.maxBytes
}

func goBytes(p *C.uint8_t, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}

func goString(p *C.char, n C.size_t) string {
	if p == nil || n == 0 {
		return ""
	}
	return C.GoStringN(p, C.int(n))
}

// cResult copies b into C memory for the caller to free with gosfu_free.
func cResult(b []byte, out **C.uint8_t, outLen *C.size_t) {
	if out == nil || outLen == nil {
		return
	}
	*out, *outLen = nil, 0
	if len(b) == 0 {
		return
	}
	p := C.malloc(C.size_t(len(b)))
	C.memcpy(p, unsafe.Pointer(&b[0]), C.size_t(len(b)))
	*out, *outLen = (*C.uint8_t)(p), C.size_t(len(b))
}

func errorJSON(err error) []byte {
	b, _ := json.Marshal(engine.AsError(err))
	return b
}

func lookup(h C.uint64_t) *engine.Worker {
	enginesMu.Lock()
	defer enginesMu.Unlock()
	return engines[uint64(h)]
}

//export gosfu_engine_create
func gosfu_engine_create(settings *C.uint8_t, settingsLen C.size_t, cb C.gosfu_event_cb, ctx unsafe.Pointer, maxEvents, maxBytes C.uint64_t, errOut **C.uint8_t, errLen *C.size_t) (handle C.uint64_t) {
	defer func() {
		if r := recover(); r != nil {
			handle = 0
			cResult(errorJSON(engine.Errorf("engine creation panicked: %v\n%s", r, debug.Stack())), errOut, errLen)
		}
	}()
	w, err := engine.NewWorker(goBytes(settings, settingsLen), &cEmitter{cb: cb, ctx: ctx, maxEvents: uint64(maxEvents), maxBytes: uint64(maxBytes)})
	if err != nil {
		cResult(errorJSON(err), errOut, errLen)
		return 0
	}
	enginesMu.Lock()
	nextID++
	id := nextID
	engines[id] = w
	enginesMu.Unlock()
	return C.uint64_t(id)
}

//export gosfu_engine_close
func gosfu_engine_close(h C.uint64_t) {
	defer func() { _ = recover() }()
	enginesMu.Lock()
	w := engines[uint64(h)]
	delete(engines, uint64(h))
	enginesMu.Unlock()
	if w != nil {
		// After Close returns the worker never calls the callback again.
		w.Close()
	}
}

//export gosfu_request
func gosfu_request(h C.uint64_t, method *C.char, methodLen C.size_t, handler *C.char, handlerLen C.size_t, data *C.uint8_t, dataLen C.size_t, out **C.uint8_t, outLen *C.size_t) (status C.int) {
	defer func() {
		if r := recover(); r != nil {
			cResult(errorJSON(engine.Errorf("request panicked: %v", r)), out, outLen)
			status = C.GOSFU_ERROR
		}
	}()
	m := goString(method, methodLen)
	var (
		resp []byte
		err  error
	)
	if h == 0 {
		resp, err = engine.GlobalRequest(m, goBytes(data, dataLen))
	} else if w := lookup(h); w == nil {
		err = engine.InvalidStateErrorf("worker closed")
	} else {
		resp, err = w.Request(m, goString(handler, handlerLen), goBytes(data, dataLen))
	}
	if err != nil {
		cResult(errorJSON(err), out, outLen)
		return C.GOSFU_ERROR
	}
	cResult(resp, out, outLen)
	return C.GOSFU_OK
}

//export gosfu_request_async
func gosfu_request_async(h C.uint64_t, id C.uint32_t, method *C.char, methodLen C.size_t, handler *C.char, handlerLen C.size_t, data *C.uint8_t, dataLen C.size_t) (status C.int) {
	defer func() {
		if r := recover(); r != nil {
			status = C.GOSFU_ERROR
		}
	}()
	w := lookup(h)
	if w == nil {
		return C.GOSFU_ERROR
	}
	target := strconv.FormatUint(uint64(id), 10)
	w.RequestAsync(goString(method, methodLen), goString(handler, handlerLen), goBytes(data, dataLen), func(resp []byte, err error) {
		if err != nil {
			w.Emit(target, "@error", errorJSON(err), false)
			return
		}
		w.Emit(target, "@ok", resp, false)
	})
	return C.GOSFU_OK
}

//export gosfu_free
func gosfu_free(p unsafe.Pointer) {
	C.free(p)
}
