package engine

// Forwarding benchmark: one producer to N consumers over plain RTP and SRTP,
// with real UDP sockets on 127.0.0.1. See bench/README.md for how to run it
// and how to read the figures.
//
// Packets are injected with Transport.ReceiveRtp from the benchmark
// goroutine (what the producer transport's read loop does after reading and
// decrypting a datagram), so the measured path is: header parse, RTP
// listener, producer (recv stream, key frame detection, mapping), fan-out,
// and per consumer: rewrite, retransmission buffer copy, SRTP encryption and
// the UDP send on the consumer transport's own socket. Ingress read and
// ingress SRTP decryption are not measured (they are paid once per incoming
// packet, not per forwarded packet).
//
// The sink sockets the consumer transports send to are never read: once
// their receive buffer is full the kernel drops further datagrams at the
// receiving socket, after the whole send path (syscall, skb copy, loopback
// delivery) has run in the sender's context. The baseline uses the same
// arrangement, so both sides pay the same kernel cost and nothing in this
// process spends CPU on receiving.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"golang.org/x/sys/unix"
)

// benchPacketSize is the size of every injected RTP packet (and of the
// baseline's packet), header and header extensions included.
const benchPacketSize = 1100

var benchModes = []string{"plain", "AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM"}

var benchFanouts = []int{1, 10, 100}

func benchModeName(mode string) string {
	switch mode {
	case "AES_CM_128_HMAC_SHA1_80":
		return "srtp-cm"
	case "AEAD_AES_128_GCM":
		return "srtp-gcm"
	}
	return mode
}

type benchNopEmitter struct{}

func (benchNopEmitter) Emit(string, string, []byte, bool) {}

func benchRequest(tb testing.TB, w *Worker, method, handler string, data any) map[string]any {
	tb.Helper()
	b, _ := json.Marshal(data)
	out, err := w.Request(method, handler, b)
	if err != nil {
		tb.Fatalf("%s: %v", method, err)
	}
	var m map[string]any
	if len(out) > 0 {
		_ = json.Unmarshal(out, &m)
	}
	return m
}

func benchListenSink(tb testing.TB) *net.UDPConn {
	tb.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// fwdEnv is one producer forwarded to n consumers, each on its own plain
// transport connected to its own sink socket.
type fwdEnv struct {
	w         *Worker
	prodT     *Transport
	consumers []*Consumer
	sinks     []*net.UDPConn
	pkt       []byte
	hdr       rtp.Header
	seq       uint16
	ts        uint32
	count     int
	// sinkKeys are the SRTP master keys the transports encrypt with, in
	// the order of sinks (srtp modes).
	sinkKeys [][]byte
	// prodKey is the SRTP master key the producer transport's remote
	// encrypts with (srtp modes).
	prodKey []byte
	// caps are the router's RTP capabilities.
	caps any
}

func (e *fwdEnv) close() {
	e.w.Close()
	e.w.Wait()
	for _, s := range e.sinks {
		s.Close()
	}
}

func newFwdEnv(tb testing.TB, mode string, n int) *fwdEnv {
	tb.Helper()
	return newFwdEnvWarm(tb, mode, n, 5000)
}

// newFwdEnvWarm is newFwdEnv with warm packets forwarded before it
// returns (a key frame first).
func newFwdEnvWarm(tb testing.TB, mode string, n, warm int) *fwdEnv {
	tb.Helper()
	w, err := NewWorker([]byte(`{"logLevel":"warn","rtcMinPort":20000,"rtcMaxPort":59999}`), benchNopEmitter{})
	if err != nil {
		tb.Fatal(err)
	}
	e := &fwdEnv{w: w}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	srtpOn := mode != "plain"
	router := benchRequest(tb, w, "worker.createRouter", "", map[string]any{"routerId": "r", "mediaCodecs": []any{
		map[string]any{"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2},
		map[string]any{"kind": "video", "mimeType": "video/VP8", "clockRate": 90000},
	}})
	caps := router["rtpCapabilities"]
	e.caps = caps

	// newTransport creates a plain transport connected to a new sink.
	newTransport := func(id string) []byte {
		req := map[string]any{"transportId": id, "listenInfo": map[string]any{"protocol": "udp", "ip": "127.0.0.1"}}
		if srtpOn {
			req["enableSrtp"] = true
			req["srtpCryptoSuite"] = mode
		}
		created := benchRequest(tb, w, "router.createPlainTransport", "r", req)
		sink := benchListenSink(tb)
		e.sinks = append(e.sinks, sink)
		if srtpOn {
			local := created["srtpParameters"].(map[string]any)["keyBase64"].(string)
			k, _ := base64.StdEncoding.DecodeString(local)
			e.sinkKeys = append(e.sinkKeys, k)
		}
		conn := map[string]any{"ip": "127.0.0.1", "port": sink.LocalAddr().(*net.UDPAddr).Port}
		var key []byte
		if srtpOn {
			key = make([]byte, srtpMasterLength(srtpSuites[mode]))
			_, _ = rand.Read(key)
			conn["srtpParameters"] = map[string]any{"cryptoSuite": mode, "keyBase64": base64.StdEncoding.EncodeToString(key)}
		}
		benchRequest(tb, w, "transport.connect", id, conn)
		return key
	}

	// The producer transport is connected too (its RTCP goes to a sink).
	e.prodKey = newTransport("tp")
	benchRequest(tb, w, "transport.produce", "tp", map[string]any{
		"producerId": "p", "kind": "video",
		"rtpParameters": map[string]any{
			"codecs": []any{
				map[string]any{"mimeType": "video/VP8", "payloadType": 101, "clockRate": 90000,
					"rtcpFeedback": []any{map[string]any{"type": "nack"}, map[string]any{"type": "nack", "parameter": "pli"}}},
				map[string]any{"mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000, "parameters": map[string]any{"apt": 101}},
			},
			"headerExtensions": []any{
				map[string]any{"uri": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", "id": 2},
				map[string]any{"uri": "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", "id": 3},
			},
			"encodings": []any{map[string]any{"ssrc": 1111, "rtx": map[string]any{"ssrc": 1112}}},
		},
	})
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("tc%d", i)
		newTransport(id)
		benchRequest(tb, w, "transport.consume", id, map[string]any{
			"consumerId": fmt.Sprintf("c%d", i), "producerId": "p", "rtpCapabilities": caps,
		})
	}
	if benchPaced {
		// Congestion control as after the receivers' first feedback, with
		// an estimate that never limits: every packet takes the pacer's
		// paced path (budget check under its lock) and is numbered and
		// recorded for the estimator.
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("tc%d", i)
			benchRequest(tb, w, "transport.setMinOutgoingBitrate", id, map[string]any{"bitrate": 10e9})
			w.mu.Lock()
			cc := w.handlers[id].(*Transport).cc.Load()
			w.mu.Unlock()
			if cc == nil {
				tb.Fatal("no congestion control on the consumer transport")
			}
			cc.feedbackSeen.Store(true)
			cc.pacer.SetRate(10e9)
		}
	}
	w.mu.Lock()
	e.prodT = w.handlers["tp"].(*Transport)
	for i := 0; i < n; i++ {
		e.consumers = append(e.consumers, w.handlers[fmt.Sprintf("c%d", i)].(*Consumer))
	}
	w.mu.Unlock()

	// A VP8 packet with abs-send-time and transport-cc, benchPacketSize long.
	h := rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: 1000, Timestamp: 90000, SSRC: 1111}
	_ = h.SetExtension(2, []byte{1, 2, 3})
	_ = h.SetExtension(3, []byte{0, 1})
	e.pkt = make([]byte, benchPacketSize)
	hl, err := h.MarshalTo(e.pkt)
	if err != nil || hl != 24 {
		tb.Fatalf("header: %d bytes, %v", hl, err)
	}
	e.pkt[hl] = 0x10 // VP8 descriptor: S=1, PID=0
	e.seq, e.ts = 1000, 90000

	// Warm up: a key frame first, then enough packets to fill every
	// retransmission buffer to its steady state.
	e.inject(1, 1)
	e.inject(warm-1, 0)
	// Every sink got the forwarded packets (decryptable in srtp modes).
	buf := make([]byte, 2000)
	for i, s := range e.sinks[1:] {
		var ctx *srtp.Context
		if srtpOn {
			if ctx, err = newSrtpContext(mode, e.sinkKeys[i+1], true); err != nil {
				tb.Fatal(err)
			}
		}
		for {
			_ = s.SetReadDeadline(time.Now().Add(2 * time.Second))
			m, err := s.Read(buf)
			if err != nil {
				tb.Fatalf("consumer %d: nothing forwarded: %v", i, err)
			}
			if isRtcp(buf[:m]) {
				continue
			}
			if ctx != nil {
				var h rtp.Header
				if _, err := ctx.DecryptRTP(nil, buf[:m], &h); err != nil {
					tb.Fatalf("consumer %d: cannot decrypt forwarded packet: %v", i, err)
				}
			}
			break
		}
	}
	for i, c := range e.consumers {
		if got := c.send.Stats(0).PacketCount; got != uint64(warm) {
			tb.Fatalf("consumer %d forwarded %d packets in warm-up, want %d", i, got, warm)
		}
	}
	ok = true
	return e
}

// nextPacket writes the next packet of the stream into e.pkt.
func (e *fwdEnv) nextPacket(key bool) []byte {
	pkt := e.pkt
	binary.BigEndian.PutUint16(pkt[2:], e.seq)
	binary.BigEndian.PutUint32(pkt[4:], e.ts)
	pkt[1] = 101
	if e.count%8 == 7 {
		pkt[1] |= 0x80 // marker: last packet of the frame
	}
	if key {
		pkt[24+1] = 0x00 // VP8 P bit clear: key frame
	} else {
		pkt[24+1] = 0x01
	}
	e.seq++
	e.count++
	if e.count%8 == 0 {
		e.ts += 3000
	}
	return pkt
}

// inject feeds count packets to the producer transport; the first keys of
// them are key frame packets. Frames are 8 packets long.
func (e *fwdEnv) inject(count, keys int) {
	for i := 0; i < count; i++ {
		e.prodT.ReceiveRtp(e.nextPacket(i < keys), &e.hdr, e.prodT.w.nowMs())
	}
}

func (e *fwdEnv) forwarded() uint64 {
	var total uint64
	for _, c := range e.consumers {
		total += c.send.Stats(0).PacketCount
	}
	return total
}

// cpuNanos returns the user+system CPU time of the whole process.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// measurement is what one timed run cost.
type measurement struct {
	wall, cpu int64
	allocs    uint64
}

func measure(f func()) measurement {
	a0 := mallocs()
	c0 := cpuNanos()
	t0 := time.Now()
	f()
	wall := time.Since(t0)
	c1 := cpuNanos()
	a1 := mallocs()
	return measurement{wall: wall.Nanoseconds(), cpu: c1 - c0, allocs: a1 - a0}
}

func (m *measurement) add(o measurement) {
	m.wall += o.wall
	m.cpu += o.cpu
	m.allocs += o.allocs
}

// report sets the per forwarded packet metrics of a run, and its ratio to
// the baseline measured alongside (same packet count, interleaved in
// chunks so that load changes on the machine hit both alike).
func report(b *testing.B, fwd uint64, eng, base measurement) {
	cpu := float64(eng.cpu) / float64(fwd)
	b.ReportMetric(float64(eng.wall)/float64(fwd), "ns/fwd")
	b.ReportMetric(cpu, "cpu-ns/fwd")
	b.ReportMetric(float64(eng.allocs)/float64(fwd), "allocs/fwd")
	if base.cpu > 0 {
		bcpu := float64(base.cpu) / float64(fwd)
		b.ReportMetric(bcpu, "base-cpu-ns")
		b.ReportMetric(cpu/bcpu, "x-baseline")
		b.ReportMetric((float64(eng.wall)/float64(fwd))/(float64(base.wall)/float64(fwd)), "x-baseline-wall")
	}
}

// benchPaced makes newFwdEnv's consumer transports pace (BenchmarkForwardPaced).
var benchPaced bool

// BenchmarkForwardPaced is BenchmarkForward (plain RTP) with every consumer
// transport's pacer on the paced path: the per-packet cost of congestion
// control once feedback arrives.
func BenchmarkForwardPaced(b *testing.B) {
	benchPaced = true
	defer func() { benchPaced = false }()
	benchForward(b, []string{"plain"})
}

func BenchmarkForward(b *testing.B) { benchForward(b, benchModes) }

func benchForward(b *testing.B, modes []string) {
	const chunks = 8
	for _, mode := range modes {
		for _, n := range benchFanouts {
			var env *fwdEnv
			var bl *baseline
			b.Run(fmt.Sprintf("%s/N=%d", benchModeName(mode), n), func(b *testing.B) {
				if env == nil {
					env = newFwdEnv(b, mode, n)
					bl = newBaseline(b, mode)
				}
				f0 := env.forwarded()
				b.ReportAllocs()
				b.ResetTimer()
				var eng, base measurement
				for c, done := 0, 0; c < chunks; c++ {
					k := (b.N - done) / (chunks - c)
					if k == 0 {
						continue
					}
					eng.add(measure(func() { env.inject(k, 0) }))
					b.StopTimer()
					base.add(measure(func() { bl.run(k * n) }))
					b.StartTimer()
					done += k
				}
				b.StopTimer()
				fwd := env.forwarded() - f0
				if want := uint64(b.N) * uint64(n); fwd != want {
					b.Fatalf("forwarded %d packets, want %d", fwd, want)
				}
				report(b, fwd, eng, base)
			})
			if env != nil {
				env.close()
				bl.close()
			}
		}
	}
}

// baseline is the bare cost the engine is compared with: encrypt (with
// pion srtp, reusing the output buffer and the header) and send one
// benchPacketSize RTP packet to an unread sink, on a UDP socket outside
// Go's network poller (like the engine's send sockets).
type baseline struct {
	// fd sends: a socket outside Go's network poller, as the engine's
	// send sockets are (netio.UDPSender.UseSendSocket) and as a C SFU's
	// (libuv polls a UDP socket for writing only while a send waits).
	fd       int
	sink     *net.UDPConn
	dst      unix.SockaddrInet4
	ctx      *srtp.Context
	pkt, out []byte
	hdr      rtp.Header
	seq      uint16
}

func newBaseline(tb testing.TB, mode string) *baseline {
	tb.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	bl := &baseline{fd: fd, sink: benchListenSink(tb)}
	bl.dst = unix.SockaddrInet4{Port: bl.sink.LocalAddr().(*net.UDPAddr).Port, Addr: [4]byte{127, 0, 0, 1}}
	if mode != "plain" {
		key := make([]byte, srtpMasterLength(srtpSuites[mode]))
		_, _ = rand.Read(key)
		ctx, err := newSrtpContext(mode, key, false)
		if err != nil {
			tb.Fatal(err)
		}
		bl.ctx = ctx
	}
	h := rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: 1, Timestamp: 90000, SSRC: 2222}
	bl.pkt = make([]byte, benchPacketSize)
	if _, err := h.MarshalTo(bl.pkt); err != nil {
		tb.Fatal(err)
	}
	bl.out = make([]byte, 0, 1600)
	bl.run(1000)
	return bl
}

func (bl *baseline) close() {
	unix.Close(bl.fd)
	bl.sink.Close()
}

func (bl *baseline) run(count int) {
	for i := 0; i < count; i++ {
		bl.seq++
		binary.BigEndian.PutUint16(bl.pkt[2:], bl.seq)
		out := bl.pkt
		if bl.ctx != nil {
			var err error
			if out, err = bl.ctx.EncryptRTP(bl.out[:0], bl.pkt, &bl.hdr); err != nil {
				panic(err)
			}
		}
		_ = unix.Sendto(bl.fd, out, unix.MSG_DONTWAIT, &bl.dst)
	}
}

func BenchmarkForwardBaseline(b *testing.B) {
	for _, mode := range benchModes {
		b.Run(benchModeName(mode), func(b *testing.B) {
			bl := newBaseline(b, mode)
			defer bl.close()
			b.ReportAllocs()
			b.ResetTimer()
			m := measure(func() { bl.run(b.N) })
			b.StopTimer()
			b.ReportMetric(float64(m.wall)/float64(b.N), "ns/pkt")
			b.ReportMetric(float64(m.cpu)/float64(b.N), "cpu-ns/pkt")
			b.ReportMetric(float64(m.allocs)/float64(b.N), "allocs/pkt")
		})
	}
}

// BenchmarkForwardIngress measures the whole path of a packet read from the
// producer transport's socket, ingress SRTP decryption included: packets
// are encrypted beforehand (timer stopped) by the remote's SRTP context and
// handed to the plain transport's receive path as its read loop does. The
// read syscall itself is not measured. Per forwarded packet figures.
func BenchmarkForwardIngress(b *testing.B) {
	const batch = 1024
	for _, mode := range benchModes {
		for _, n := range []int{1, 10} {
			var env *fwdEnv
			var remote *srtp.Context
			var bl *baseline
			b.Run(fmt.Sprintf("%s/N=%d", benchModeName(mode), n), func(b *testing.B) {
				if env == nil {
					env = newFwdEnv(b, mode, n)
					bl = newBaseline(b, mode)
				}
				link := env.prodT.link.(*plainLink)
				from := env.sinks[0].LocalAddr().(*net.UDPAddr).AddrPort()
				// One remote context for all runs: it tracks the rollover
				// counter as the producer transport's context does.
				if remote == nil && mode != "plain" {
					var err error
					if remote, err = newSrtpContext(mode, env.prodKey, false); err != nil {
						b.Fatal(err)
					}
				}
				pkts := make([][]byte, batch)
				for i := range pkts {
					pkts[i] = make([]byte, 0, 1600)
				}
				var hdr, encHdr rtp.Header
				f0 := env.forwarded()
				b.ReportAllocs()
				b.ResetTimer()
				var m, base measurement
				for done := 0; done < b.N; {
					k := min(batch, b.N-done)
					b.StopTimer()
					for i := 0; i < k; i++ {
						p := env.nextPacket(false)
						if remote != nil {
							out, err := remote.EncryptRTP(pkts[i][:0], p, &encHdr)
							if err != nil {
								b.Fatal(err)
							}
							pkts[i] = out
						} else {
							pkts[i] = append(pkts[i][:0], p...)
						}
					}
					b.StartTimer()
					mm := measure(func() {
						for i := 0; i < k; i++ {
							link.receiveRtp(pkts[i], from, &hdr, link.t.w.nowMs())
						}
					})
					m.add(mm)
					b.StopTimer()
					base.add(measure(func() { bl.run(k * n) }))
					b.StartTimer()
					done += k
				}
				b.StopTimer()
				fwd := env.forwarded() - f0
				if want := uint64(b.N) * uint64(n); fwd != want {
					b.Fatalf("forwarded %d packets, want %d (srtp drops: %d)", fwd, want, link.t.drops.srtp.Load())
				}
				report(b, fwd, m, base)
			})
			if env != nil {
				env.close()
				bl.close()
			}
		}
	}
}
