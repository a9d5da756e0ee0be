package engine

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/gosfu/gosfu/gosfu/clock"
	"github.com/gosfu/gosfu/gosfu/logger"
)

// Emitter delivers events to the Node layer. target is the id of the object
// the event is about ("worker" for the worker itself), data is JSON unless
// binary is set. Implementations must be safe for concurrent use.
type Emitter interface {
	Emit(target, event string, data []byte, binary bool)
}

// WorkerTarget is the event target id of the worker itself.
const WorkerTarget = "worker"

// Settings are the createWorker() settings the engine uses.
type Settings struct {
	LogLevel            string   `json:"logLevel"`
	LogTags             []string `json:"logTags"`
	RtcMinPort          int      `json:"rtcMinPort"`
	RtcMaxPort          int      `json:"rtcMaxPort"`
	DtlsCertificateFile string   `json:"dtlsCertificateFile"`
	DtlsPrivateKeyFile  string   `json:"dtlsPrivateKeyFile"`
}

// requestHandler is an object that answers requests addressed to its id.
type requestHandler interface {
	handleRequest(method string, data []byte) (any, error)
}

// Worker is one engine instance: what a mediasoup worker process is, but
// living inside the Node process.
type Worker struct {
	em Emitter
	// clock is the time source of everything below the worker.
	clock clock.Clock
	// bounded is em when its queue is bounded: droppable events go through
	// TryEmit and eventDrops counts the refused ones.
	bounded    BoundedEmitter
	eventDrops eventDrops
	// emitMu fences emission against Close: once Close returns no event is
	// delivered any more (the C shim frees its context right after).
	emitMu  sync.RWMutex
	emitOff bool

	log  *logger.Logger
	wlog *logger.Named

	Settings Settings
	// DtlsCertificate is the certificate loaded from the settings' files, if any.
	DtlsCertificate *tls.Certificate

	dtlsOnceState

	mu       sync.Mutex
	closed   bool
	routers  map[string]*Router
	handlers map[string]requestHandler
	// webRtcServers by id.
	webRtcServers map[string]*WebRtcServer
	wg            sync.WaitGroup
}

// NewWorker validates settings and starts a worker. Wrong settings give a
// TypeError "wrong settings", as a mediasoup worker exiting with code 42 does.
func NewWorker(data []byte, em Emitter) (*Worker, error) {
	return NewWorkerWithClock(data, em, clock.NewReal())
}

// NewWorkerWithClock is NewWorker with the worker's time source: Go tests
// pass a clock.Fake to drive timing logic without sleeping.
func NewWorkerWithClock(data []byte, em Emitter, clk clock.Clock) (*Worker, error) {
	s := Settings{LogLevel: "error", RtcMinPort: 10000, RtcMaxPort: 59999}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, TypeErrorf("wrong settings")
		}
	}
	w := &Worker{
		em:            em,
		clock:         clk,
		Settings:      s,
		routers:       map[string]*Router{},
		handlers:      map[string]requestHandler{},
		webRtcServers: map[string]*WebRtcServer{},
	}
	w.bounded, _ = em.(BoundedEmitter)
	level, err := logger.ParseLevel(s.LogLevel)
	w.log = logger.New(level, logger.ParseTags(s.LogTags), w.emitLog)
	w.wlog = w.log.Named("Worker")
	if err != nil {
		w.wlog.Error("wrong settings: %v", err)
		return nil, TypeErrorf("wrong settings")
	}
	if s.RtcMinPort < 0 || s.RtcMinPort > 65535 || s.RtcMaxPort < 0 || s.RtcMaxPort > 65535 || s.RtcMaxPort < s.RtcMinPort {
		w.wlog.Error("wrong settings: invalid rtcMinPort/rtcMaxPort")
		return nil, TypeErrorf("wrong settings")
	}
	if s.DtlsCertificateFile != "" || s.DtlsPrivateKeyFile != "" {
		if s.DtlsCertificateFile == "" {
			return nil, TypeErrorf("wrong settings")
		}
		if s.DtlsPrivateKeyFile == "" {
			return nil, TypeErrorf("wrong settings")
		}
		cert, err := tls.LoadX509KeyPair(s.DtlsCertificateFile, s.DtlsPrivateKeyFile)
		if err != nil {
			w.wlog.Error("wrong settings: dtls certificate: %v", err)
			return nil, TypeErrorf("wrong settings")
		}
		w.DtlsCertificate = &cert
	}
	w.handlers[WorkerTarget] = workerHandler{w}
	w.wlog.Debug("worker started [logLevel:%s]", s.LogLevel)
	cpuProfileWorkerStarted()
	return w, nil
}

// nowMs is the worker's clock in milliseconds: the time of the engine's
// timers, rate calculators and stats timestamps.
func (w *Worker) nowMs() int64 { return int64(w.clock.Now() / time.Millisecond) }

// Logger returns the worker's logger.
func (w *Worker) Logger() *logger.Logger { return w.log }

// emitLog sends a log line to Node; tag (the logTags it was logged under,
// "rtx|rtcp" for several) is informative.
func (w *Worker) emitLog(level logger.Level, tag logger.Tag, name, msg string) {
	b, _ := json.Marshal(struct {
		Level string `json:"level"`
		Tag   string `json:"tag,omitempty"`
		Name  string `json:"name"`
		Msg   string `json:"msg"`
	}{level.String(), tag.String(), name, msg})
	w.Emit(WorkerTarget, "log", b, false)
}

// Emit sends an event to the Node layer unless the worker is closed. A
// droppable event (see droppableEvents) is dropped and counted when the
// emitter's queue is full; the others are always queued.
func (w *Worker) Emit(target, event string, data []byte, binary bool) {
	w.emitMu.RLock()
	defer w.emitMu.RUnlock()
	if w.emitOff || w.em == nil {
		return
	}
	if w.bounded != nil {
		if k := droppableKind(event); k >= 0 {
			if !w.bounded.TryEmit(target, event, data, binary) {
				w.eventDrops[k].Add(1)
			}
			return
		}
	}
	w.em.Emit(target, event, data, binary)
}

// EmitJSON marshals v and emits it.
func (w *Worker) EmitJSON(target, event string, v any) {
	var b []byte
	if v != nil {
		var err error
		if b, err = json.Marshal(v); err != nil {
			w.wlog.Error("cannot marshal %s event: %v", event, err)
			return
		}
	}
	w.Emit(target, event, b, false)
}

// Go runs f in a goroutine owned by the worker. A panic there is an engine
// fault: the worker emits "died" and closes instead of taking Node down.
func (w *Worker) Go(f func()) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				w.die(fmt.Sprintf("engine fault: %v", r), debug.Stack())
			}
		}()
		f()
	}()
}

func (w *Worker) die(reason string, stack []byte) {
	w.wlog.Error("%s\n%s", reason, stack)
	w.EmitJSON(WorkerTarget, "died", map[string]string{"message": reason})
	go w.Close()
}

// Request runs a request synchronously. A panic in a handler fails only that
// request.
func (w *Worker) Request(method, handlerID string, data []byte) (resp []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			w.wlog.Error("panic in request %s: %v\n%s", method, r, debug.Stack())
			resp, err = nil, Errorf("internal error in %s: %v", method, r)
		}
	}()
	w.mu.Lock()
	closed := w.closed
	if handlerID == "" {
		handlerID = WorkerTarget
	}
	h := w.handlers[handlerID]
	w.mu.Unlock()
	if closed {
		return nil, InvalidStateErrorf("worker closed")
	}
	if h == nil {
		return nil, &Error{Name: "NotFoundError", Message: fmt.Sprintf("Channel request handler with ID %s not found [method:%s]", handlerID, method)}
	}
	out, err := h.handleRequest(method, data)
	if err != nil {
		return nil, AsError(err)
	}
	return marshalResponse(out)
}

// RequestAsync runs a request in a worker goroutine and calls done with its
// result; for requests that may wait.
func (w *Worker) RequestAsync(method, handlerID string, data []byte, done func([]byte, error)) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		resp, err := w.Request(method, handlerID, data)
		done(resp, err)
	}()
}

func marshalResponse(out any) ([]byte, error) {
	switch v := out.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	case json.RawMessage:
		return v, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, Errorf("cannot marshal response: %v", err)
	}
	return b, nil
}

// Close stops event delivery, then closes every router and WebRtcServer.
// Idempotent. Once any Close call returns, the Emitter is never called
// again (even while a concurrent Close is still tearing objects down): the
// C shim frees its context right after.
func (w *Worker) Close() {
	w.emitMu.Lock()
	w.emitOff = true
	w.emitMu.Unlock()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	defer cpuProfileWorkerClosed()
	routers := make([]*Router, 0, len(w.routers))
	for _, r := range w.routers {
		routers = append(routers, r)
	}
	w.mu.Unlock()
	for _, r := range routers {
		r.close()
	}
	w.mu.Lock()
	servers := make([]*WebRtcServer, 0, len(w.webRtcServers))
	for _, s := range w.webRtcServers {
		servers = append(servers, s)
	}
	w.mu.Unlock()
	for _, s := range servers {
		s.close()
	}
}

// Wait blocks until every goroutine the worker started has ended.
func (w *Worker) Wait() { w.wg.Wait() }

// Closed reports whether Close was called.
func (w *Worker) Closed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// register makes an object reachable by requests.
func (w *Worker) register(id string, h requestHandler) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.handlers[id]; ok {
		return Errorf("a handler with same id \"%s\" already exists", id)
	}
	w.handlers[id] = h
	return nil
}

func (w *Worker) unregister(id string) {
	w.mu.Lock()
	delete(w.handlers, id)
	w.mu.Unlock()
}

type workerHandler struct{ w *Worker }

func (h workerHandler) handleRequest(method string, data []byte) (any, error) {
	w := h.w
	switch method {
	case "worker.dump":
		return w.dump(), nil
	case "worker.getResourceUsage":
		return resourceUsage()
	case "worker.updateSettings":
		return nil, w.updateSettings(data)
	case "worker.createRouter":
		return w.createRouter(data)
	case "worker.injectFault":
		// Lets tests prove that engine faults never reach Node; refused
		// unless the process opted in.
		if os.Getenv("GOSFU_FAULT_INJECTION") != "1" {
			return nil, Errorf("unknown method '%s'", method)
		}
		var req struct {
			Where string `json:"where"`
		}
		_ = json.Unmarshal(data, &req)
		if req.Where == "goroutine" {
			w.Go(func() { panic("injected fault in an engine goroutine") })
			return nil, nil
		}
		panic("injected fault in a request")
	case "worker.createWebRtcServer":
		return w.createWebRtcServer(data)
	case "worker.closeWebRtcServer":
		var req struct {
			WebRtcServerID string `json:"webRtcServerId"`
		}
		_ = json.Unmarshal(data, &req)
		s := w.webRtcServer(req.WebRtcServerID)
		if s == nil {
			return nil, &Error{Name: "NotFoundError", Message: "WebRtcServer not found"}
		}
		s.close()
		return nil, nil
	case "worker.closeRouter":
		var req struct {
			RouterID string `json:"routerId"`
		}
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, TypeErrorf("invalid request: %v", err)
		}
		w.mu.Lock()
		r := w.routers[req.RouterID]
		w.mu.Unlock()
		if r == nil {
			return nil, Errorf("Router not found")
		}
		r.close()
		return nil, nil
	}
	return nil, Errorf("unknown method '%s'", method)
}

func (w *Worker) dump() any {
	w.mu.Lock()
	defer w.mu.Unlock()
	serverIDs := sortedKeys(w.webRtcServers)
	routerIDs := make([]string, 0, len(w.routers))
	for id := range w.routers {
		routerIDs = append(routerIDs, id)
	}
	sort.Strings(routerIDs)
	handlerIDs := make([]string, 0, len(w.handlers))
	for id := range w.handlers {
		if id != WorkerTarget {
			handlerIDs = append(handlerIDs, id)
		}
	}
	sort.Strings(handlerIDs)
	return map[string]any{
		"pid":             os.Getpid(),
		"webRtcServerIds": serverIDs,
		"routerIds":       routerIDs,
		"channelMessageHandlers": map[string]any{
			"channelRequestHandlers":      handlerIDs,
			"channelNotificationHandlers": []string{},
		},
		// gosfu extension: the event queue's bound and drops.
		"eventQueue": w.eventQueueDump(),
	}
}

func (w *Worker) updateSettings(data []byte) error {
	var req struct {
		LogLevel *string  `json:"logLevel"`
		LogTags  []string `json:"logTags"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return TypeErrorf("invalid settings: %v", err)
	}
	level := w.log.Level()
	if req.LogLevel != nil {
		l, err := logger.ParseLevel(*req.LogLevel)
		if err != nil {
			return TypeErrorf("%s", err.Error())
		}
		level = l
	}
	// As mediasoup: absent logTags keep the current ones; [] clears them.
	tags := w.log.Tags()
	if req.LogTags != nil {
		tags = logger.ParseTags(req.LogTags)
	}
	w.log.Set(level, tags)
	w.wlog.Debugf(logger.TagInfo, "log settings updated [logLevel:%s, logTags:%s]", level, tags)
	return nil
}

func resourceUsage() (any, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return nil, Errorf("getrusage failed: %v", err)
	}
	ms := func(tv syscall.Timeval) float64 { return float64(tv.Sec)*1000 + float64(tv.Usec)/1000 }
	usage := map[string]any{
		"ru_utime":    ms(ru.Utime),
		"ru_stime":    ms(ru.Stime),
		"ru_maxrss":   ru.Maxrss,
		"ru_ixrss":    ru.Ixrss,
		"ru_idrss":    ru.Idrss,
		"ru_isrss":    ru.Isrss,
		"ru_minflt":   ru.Minflt,
		"ru_majflt":   ru.Majflt,
		"ru_nswap":    ru.Nswap,
		"ru_inblock":  ru.Inblock,
		"ru_oublock":  ru.Oublock,
		"ru_msgsnd":   ru.Msgsnd,
		"ru_msgrcv":   ru.Msgrcv,
		"ru_nsignals": ru.Nsignals,
		"ru_nvcsw":    ru.Nvcsw,
		"ru_nivcsw":   ru.Nivcsw,
	}
	addGoRuntimeUsage(usage)
	return usage, nil
}
