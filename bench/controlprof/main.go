// Command controlprof drives the engine's control plane directly (no Node,
// no N-API shim), with the request bodies lib/ sends, so that a Go CPU or
// heap profile shows where a control-plane round or an idle
// (transport + consumer) pair spends its time and memory. See
// bench/memory-control.md.
//
//	go run ./bench/controlprof -rounds 5000 -cpuprofile /tmp/cpu.out
//	go run ./bench/controlprof -requests /tmp/round.json   # bodies recorded by bench/control.js --record
//	go run ./bench/controlprof -mode pairs -pairs 500 -memprofile /tmp/mem.out
//
// Mode "rounds": a round is router.createWebRtcTransport (UDP on
// 127.0.0.1, or a WebRtcServer with -server), transport.produce of a VP8
// producer on it and transport.consume of that producer on one of
// -consumer-transports other WebRtcTransports; every -batch rounds the
// round transports are closed (router.closeTransport), untimed unless
// -time-close. -inflight N runs N rounds at once on N goroutines (Node
// issues them one at a time: the shim's requests are synchronous).
//
// Mode "pairs": a comedia PlainTransport with a VP8 producer (NACK, PLI,
// RTX), then -pairs PlainTransports each connected to a sink and consuming
// it, with no packet sent: live Go heap (after runtime.GC), heap objects
// and goroutines per pair, i.e. the engine's share of idle memory.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosfu/gosfu/gosfu/engine"
)

// startProfile starts the CPU profile (-cpuprofile) when the measured part
// begins.
var startProfile = func() {}

type countingEmitter struct{ n atomic.Int64 }

func (e *countingEmitter) Emit(string, string, []byte, bool) { e.n.Add(1) }

// request is one recorded engine request (bench/control.js --record).
type request struct {
	Method    string          `json:"method"`
	HandlerID string          `json:"handlerId"`
	Data      json.RawMessage `json:"data"`
}

type recording struct {
	Setup []request `json:"setup"`
	Round []request `json:"round"`
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// The request bodies lib/ builds (lib/Worker.js createRouter,
// lib/Router.js createWebRtcTransport, lib/Transport.js produce and consume)
// for what bench/control.js asks; -requests replaces them with a recording.

var mediaCodecs = []any{
	map[string]any{"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2},
	map[string]any{"kind": "video", "mimeType": "video/VP8", "clockRate": 90000},
	map[string]any{"kind": "video", "mimeType": "video/VP9", "clockRate": 90000, "parameters": map[string]any{"profile-id": 2}},
	map[string]any{"kind": "video", "mimeType": "video/H264", "clockRate": 90000, "parameters": map[string]any{
		"packetization-mode": 1, "profile-level-id": "4d0032", "level-asymmetry-allowed": 1}},
}

func webRtcTransportBody(id, serverID string, tcp bool) map[string]any {
	m := map[string]any{
		"transportId": id, "enableUdp": true, "enableTcp": tcp, "preferUdp": false, "preferTcp": false,
		"initialAvailableOutgoingBitrate": 600000, "enableSctp": false,
		"maxSendMessageSize": 262144, "maxReceiveMessageSize": 262144,
		"sctpSendBufferSize": 2000000, "sctpPerStreamSendQueueLimit": 2000000,
		"sctpMaxReceiverWindowBufferSize": 5242880, "sctpDefaultStreamBufferedAmountLowThreshold": 1024,
		"iceConsentTimeout": 30,
	}
	if serverID != "" {
		m["webRtcServerId"] = serverID
	} else {
		infos := []any{map[string]any{"protocol": "udp", "ip": "127.0.0.1"}}
		if tcp {
			infos = append(infos, map[string]any{"protocol": "tcp", "ip": "127.0.0.1"})
		}
		m["listenInfos"] = infos
	}
	return m
}

func producerRtpParameters(ssrc uint32) map[string]any {
	fb := func(t, p string) map[string]any { return map[string]any{"type": t, "parameter": p} }
	ext := func(uri string, id int) map[string]any {
		return map[string]any{"uri": uri, "id": id, "encrypt": false, "parameters": map[string]any{}}
	}
	return map[string]any{
		"mid": "0",
		"codecs": []any{
			map[string]any{"mimeType": "video/VP8", "payloadType": 96, "clockRate": 90000, "parameters": map[string]any{},
				"rtcpFeedback": []any{fb("goog-remb", ""), fb("transport-cc", ""), fb("ccm", "fir"), fb("nack", ""), fb("nack", "pli")}},
			map[string]any{"mimeType": "video/rtx", "payloadType": 97, "clockRate": 90000,
				"parameters": map[string]any{"apt": 96}, "rtcpFeedback": []any{}},
		},
		"headerExtensions": []any{
			ext("urn:ietf:params:rtp-hdrext:sdes:mid", 4),
			ext("http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", 2),
			ext("http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", 3),
			ext("urn:3gpp:video-orientation", 13),
			ext("urn:ietf:params:rtp-hdrext:toffset", 14),
		},
		"encodings": []any{map[string]any{"ssrc": ssrc, "rtx": map[string]any{"ssrc": ssrc + 1}, "dtx": false}},
		"rtcp":      map[string]any{"cname": "9LD6rGnJ/9g=", "reducedSize": true},
	}
}

type bench struct {
	w         *engine.Worker
	em        *countingEmitter
	routerID  string
	caps      json.RawMessage
	serverID  string
	tcp       bool
	consumerT []string
	rec       *recording // nil: built-in bodies
	// templates from rec, with the ids to substitute.
	tplCreate, tplProduce, tplConsume map[string]any

	mu      sync.Mutex
	created []string
	times   [3][]time.Duration
}

func (b *bench) req(method, handler string, body []byte) []byte {
	out, err := b.w.Request(method, handler, body)
	if err != nil {
		log.Fatalf("%s: %v", method, err)
	}
	return out
}

func (b *bench) setup(nConsumerT int) {
	if b.rec != nil {
		// Replay the recorded setup (router, WebRtcServer, consumer
		// transports) with its own ids.
		for _, r := range b.rec.Setup {
			out := b.req(r.Method, r.HandlerID, r.Data)
			var body map[string]any
			_ = json.Unmarshal(r.Data, &body)
			switch r.Method {
			case "worker.createRouter":
				b.routerID = body["routerId"].(string)
				var resp struct {
					RtpCapabilities json.RawMessage `json:"rtpCapabilities"`
				}
				_ = json.Unmarshal(out, &resp)
				b.caps = resp.RtpCapabilities
			case "router.createWebRtcTransport":
				b.consumerT = append(b.consumerT, body["transportId"].(string))
			}
		}
		for _, r := range b.rec.Round {
			var body map[string]any
			if err := json.Unmarshal(r.Data, &body); err != nil {
				log.Fatalf("recorded %s: %v", r.Method, err)
			}
			switch r.Method {
			case "router.createWebRtcTransport":
				b.tplCreate = body
			case "transport.produce":
				b.tplProduce = body
			case "transport.consume":
				b.tplConsume = body
			}
		}
		if b.tplCreate == nil || b.tplProduce == nil || b.tplConsume == nil || len(b.consumerT) == 0 {
			log.Fatal("the recording lacks a createWebRtcTransport, produce or consume, or consumer transports")
		}
		return
	}
	b.routerID = uuid()
	out := b.req("worker.createRouter", "", mustJSON(map[string]any{"routerId": b.routerID, "mediaCodecs": mediaCodecs}))
	var resp struct {
		RtpCapabilities json.RawMessage `json:"rtpCapabilities"`
	}
	_ = json.Unmarshal(out, &resp)
	b.caps = resp.RtpCapabilities
	if b.serverID != "" {
		infos := []any{map[string]any{"protocol": "udp", "ip": "127.0.0.1", "port": 0}}
		if b.tcp {
			infos = append(infos, map[string]any{"protocol": "tcp", "ip": "127.0.0.1", "port": 0})
		}
		b.req("worker.createWebRtcServer", "", mustJSON(map[string]any{"webRtcServerId": b.serverID, "listenInfos": infos}))
	}
	for i := 0; i < nConsumerT; i++ {
		id := uuid()
		b.req("router.createWebRtcTransport", b.routerID, mustJSON(webRtcTransportBody(id, b.serverID, b.tcp)))
		b.consumerT = append(b.consumerT, id)
	}
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// roundBodies are the three request bodies of one round, built before the
// timed part so that the harness's own JSON work is not profiled.
type roundBodies struct {
	tid                      string
	create, produce, consume []byte
}

func (b *bench) prepare() roundBodies {
	tid, pid, cid := uuid(), uuid(), uuid()
	var create, produce, consume []byte
	if b.rec != nil {
		c := clone(b.tplCreate)
		c["transportId"] = tid
		p := clone(b.tplProduce)
		p["producerId"] = pid
		q := clone(b.tplConsume)
		q["producerId"], q["consumerId"] = pid, cid
		create, produce, consume = mustJSON(c), mustJSON(p), mustJSON(q)
	} else {
		create = mustJSON(webRtcTransportBody(tid, b.serverID, b.tcp))
		var s [4]byte
		_, _ = rand.Read(s[:])
		ssrc := (uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3])) &^ 1
		if ssrc == 0 {
			ssrc = 2
		}
		produce = mustJSON(map[string]any{"producerId": pid, "kind": "video", "rtpParameters": producerRtpParameters(ssrc),
			"paused": false, "keyFrameRequestDelay": 0})
		consume = mustJSON(map[string]any{"consumerId": cid, "producerId": pid, "rtpCapabilities": b.caps,
			"paused": false, "ignoreDtx": false, "pipe": false})
	}
	return roundBodies{tid: tid, create: create, produce: produce, consume: consume}
}

func (b *bench) round(i int, r roundBodies) {
	t0 := time.Now()
	b.req("router.createWebRtcTransport", b.routerID, r.create)
	t1 := time.Now()
	b.req("transport.produce", r.tid, r.produce)
	t2 := time.Now()
	b.req("transport.consume", b.consumerT[i%len(b.consumerT)], r.consume)
	t3 := time.Now()
	b.mu.Lock()
	b.created = append(b.created, r.tid)
	b.times[0] = append(b.times[0], t1.Sub(t0))
	b.times[1] = append(b.times[1], t2.Sub(t1))
	b.times[2] = append(b.times[2], t3.Sub(t2))
	b.mu.Unlock()
}

func (b *bench) closeCreated() {
	for _, id := range b.created {
		b.req("router.closeTransport", b.routerID, mustJSON(map[string]any{"transportId": id}))
	}
	b.created = b.created[:0]
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(math.Min(float64(len(s)-1), math.Ceil(p/100*float64(len(s)))-1))]
}

func mean(d []time.Duration) time.Duration {
	var t time.Duration
	for _, x := range d {
		t += x
	}
	if len(d) == 0 {
		return 0
	}
	return t / time.Duration(len(d))
}

func runRounds(b *bench, rounds, inflight, batch int, timeClose bool) {
	// Warm-up (lazy DTLS certificate, first heap spans).
	for i := 0; i < 100; i++ {
		b.round(i, b.prepare())
	}
	b.closeCreated()
	b.times = [3][]time.Duration{}

	bodies := make([]roundBodies, rounds)
	for i := range bodies {
		bodies[i] = b.prepare()
	}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	startProfile()
	cpu0 := cpuTime()
	ev0 := b.em.n.Load()
	start := time.Now()
	var closeTime time.Duration
	for done := 0; done < rounds; {
		n := min(batch, rounds-done)
		var next atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < min(inflight, n); g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					b.round(done+i, bodies[done+i])
				}
			}()
		}
		wg.Wait()
		done += n
		c0 := time.Now()
		b.closeCreated()
		closeTime += time.Since(c0)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if !timeClose {
		elapsed -= closeTime
	}
	runtime.ReadMemStats(&ms1)
	r := float64(rounds)
	fmt.Printf("rounds %d, in flight %d, batch %d (close %s): %.0f rounds/s, CPU %.0f µs/round (close included), %.0f allocs/round, %.1f kB allocated/round, %.2f events/round, GC %d cycles\n",
		rounds, inflight, batch, map[bool]string{true: "timed", false: "untimed"}[timeClose],
		r/elapsed.Seconds(), float64(cpu.Microseconds())/r, float64(ms1.Mallocs-ms0.Mallocs)/r,
		float64(ms1.TotalAlloc-ms0.TotalAlloc)/r/1024, float64(b.em.n.Load()-ev0)/r, ms1.NumGC-ms0.NumGC)
	for i, name := range []string{"createWebRtcTransport", "produce", "consume"} {
		d := b.times[i]
		fmt.Printf("  %-22s mean %6.1f µs  p50 %6.1f  p99 %7.1f\n", name,
			float64(mean(d).Nanoseconds())/1e3, float64(pct(d, 50).Nanoseconds())/1e3, float64(pct(d, 99).Nanoseconds())/1e3)
	}
	fmt.Printf("  close (router.closeTransport, cascading producer and consumer): %.1f µs/transport\n",
		float64(closeTime.Microseconds())/r)
}

func runPairs(w *engine.Worker, pairs int, webrtc bool) {
	req := func(method, handler string, body any) []byte {
		out, err := w.Request(method, handler, mustJSON(body))
		if err != nil {
			log.Fatalf("%s: %v", method, err)
		}
		return out
	}
	out := req("worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": mediaCodecs})
	var resp struct {
		RtpCapabilities json.RawMessage `json:"rtpCapabilities"`
	}
	_ = json.Unmarshal(out, &resp)
	listen := map[string]any{"protocol": "udp", "ip": "127.0.0.1"}
	req("router.createPlainTransport", "r", map[string]any{"transportId": "in", "listenInfo": listen, "comedia": true,
		"rtcpMux": true, "enableSctp": false, "enableSrtp": false})
	req("transport.produce", "in", map[string]any{"producerId": "p", "kind": "video", "paused": false, "keyFrameRequestDelay": 0,
		"rtpParameters": map[string]any{
			"codecs": []any{
				map[string]any{"mimeType": "video/VP8", "payloadType": 96, "clockRate": 90000,
					"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"}}},
				map[string]any{"mimeType": "video/rtx", "payloadType": 97, "clockRate": 90000, "parameters": map[string]any{"apt": 96}},
			},
			"encodings": []any{map[string]any{"ssrc": 22220000, "rtx": map[string]any{"ssrc": 22220001}}},
		}})
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		log.Fatal(err)
	}
	defer sink.Close()
	sinkPort := sink.LocalAddr().(*net.UDPAddr).Port
	create := func(id string) {
		if webrtc {
			req("router.createWebRtcTransport", "r", webRtcTransportBody(id, "", false))
		} else {
			req("router.createPlainTransport", "r", map[string]any{"transportId": id, "listenInfo": listen,
				"rtcpMux": true, "comedia": false, "enableSctp": false, "enableSrtp": false})
			req("transport.connect", id, map[string]any{"ip": "127.0.0.1", "port": sinkPort})
		}
		req("transport.consume", id, map[string]any{"consumerId": "c" + id, "producerId": "p",
			"rtpCapabilities": resp.RtpCapabilities, "paused": false, "ignoreDtx": false, "pipe": false})
	}
	for i := 0; i < 10; i++ {
		create(fmt.Sprintf("warm%d", i))
	}
	for i := 0; i < 10; i++ {
		req("router.closeTransport", "r", map[string]any{"transportId": fmt.Sprintf("warm%d", i)})
	}
	time.Sleep(200 * time.Millisecond)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	startProfile()
	g0 := runtime.NumGoroutine()
	for i := 0; i < pairs; i++ {
		create(fmt.Sprintf("t%d", i))
	}
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	g1 := runtime.NumGoroutine()
	p := float64(pairs)
	kind := "PlainTransport"
	if webrtc {
		kind = "WebRtcTransport"
	}
	fmt.Printf("%d idle (%s + consumer) pairs: live heap %.1f kB/pair (HeapAlloc after GC), %.0f heap objects/pair, goroutines %.2f/pair, stacks %.1f kB/pair, Go Sys %.1f kB/pair\n",
		pairs, kind, float64(m1.HeapAlloc-m0.HeapAlloc)/p/1024, float64(m1.HeapObjects-m0.HeapObjects)/p,
		float64(g1-g0)/p, float64(m1.StackInuse-m0.StackInuse)/p/1024, float64(m1.Sys-m0.Sys)/p/1024)
}

func main() {
	mode := flag.String("mode", "rounds", "rounds | pairs")
	rounds := flag.Int("rounds", 3000, "rounds to time (mode rounds)")
	inflight := flag.Int("inflight", 1, "rounds running at once, one goroutine each")
	batch := flag.Int("batch", 1000, "rounds between closing the round transports")
	nConsumerT := flag.Int("consumer-transports", 10, "transports the consumers go to, round-robin")
	server := flag.Bool("server", false, "transports on a WebRtcServer instead of their own ports")
	tcp := flag.Bool("tcp", false, "also TCP (own ports) / a TCP listen info (server)")
	timeClose := flag.Bool("time-close", false, "count closing the transports in rounds/s")
	requests := flag.String("requests", "", "request bodies recorded by bench/control.js --record (default: built-in copies)")
	pairs := flag.Int("pairs", 500, "idle pairs (mode pairs)")
	webrtc := flag.Bool("webrtc", false, "mode pairs: WebRtcTransports instead of PlainTransports")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile")
	memprofile := flag.String("memprofile", "", "write a heap profile at the end (MemProfileRate 4096 unless -memrate)")
	memrate := flag.Int("memrate", 4096, "runtime.MemProfileRate when -memprofile is set")
	flag.Parse()
	if *memprofile != "" {
		runtime.MemProfileRate = *memrate
	}

	em := &countingEmitter{}
	w, err := engine.NewWorker([]byte(`{"logLevel":"warn","rtcMinPort":20000,"rtcMaxPort":59999}`), em)
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		w.Close()
		w.Wait()
	}()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		// Started after setup and warm-up, around the measured part only.
		startProfile = func() {
			if err := pprof.StartCPUProfile(f); err != nil {
				log.Fatal(err)
			}
		}
		defer pprof.StopCPUProfile()
	}
	switch *mode {
	case "rounds":
		b := &bench{w: w, em: em, tcp: *tcp}
		if *server {
			b.serverID = uuid()
		}
		if *requests != "" {
			raw, err := os.ReadFile(*requests)
			if err != nil {
				log.Fatal(err)
			}
			b.rec = &recording{}
			if err := json.Unmarshal(raw, b.rec); err != nil {
				log.Fatalf("%s: %v", *requests, err)
			}
		}
		b.setup(*nConsumerT)
		fmt.Printf("GOMAXPROCS %d, %s, %s\n", runtime.GOMAXPROCS(0),
			map[bool]string{true: "WebRtcServer", false: "own ports"}[*server || (b.rec != nil && b.tplCreate["webRtcServerId"] != nil)],
			map[bool]string{true: "bodies from " + *requests, false: "built-in bodies"}[b.rec != nil])
		runRounds(b, *rounds, *inflight, *batch, *timeClose)
	case "pairs":
		runPairs(w, *pairs, *webrtc)
	default:
		log.Fatalf("unknown -mode %s", strings.TrimSpace(*mode))
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			log.Fatal(err)
		}
		// inuse_space shows what the live objects hold; alloc_space what a
		// round allocates.
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			log.Fatal(err)
		}
		f.Close()
	}
}
