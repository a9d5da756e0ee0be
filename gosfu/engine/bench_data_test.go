package engine

// Data message benchmark: DataProducer → DataConsumer, directly within a
// router and over SCTP on a pair of PipeTransports (real UDP on 127.0.0.1).
// See bench/README.md ("Data message benchmark") for how to run it and
// read it.
//
// Messages enter as Node sends them, with w.Request("dataProducer.send",
// …) on a direct DataProducer, and leave as the binary 'message' events of
// a direct DataConsumer (u32 ppid | message). Every message carries its
// sequence number and its send time (monotonic, taken just before the
// request); the emitter checks order, size and ppid, and the benchmark
// checks that every message sent was delivered, once.
//
// The emitter reads the message in place: the shim's copy of the event
// payload to Node is not part of the figures.

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// dataBenchSizes are the message sizes measured (bytes of message, without
// the ppid).
var dataBenchSizes = []int{100, 65536}

const (
	dataBenchPPID = 53 // WebRTC Binary
	// dataSendHeader is the dataProducer.send header before the message:
	// u32 ppid | u16 0 subchannels | u8 flags | u16 required | u16 ignored.
	dataSendHeader = 11
	// dataHighWater is how many bytes the pipe DataConsumer's stream may
	// hold (queued or unacknowledged) before the sender waits, well under
	// the default sctpSendBufferSize (2 MB), so that nothing is refused
	// with sctpsendbufferfull.
	dataHighWater = 256 << 10
	// dataCheckBytes: the sender reads the buffered amount after this
	// many bytes sent (every message of 64 KiB, every 655 of 100 bytes).
	dataCheckBytes = 64 << 10
	// dataStall fails a run when no message arrives for that long (SCTP
	// retransmission timeouts back off from 1 s: 1+2+4+8 s of successive
	// losses stay under it).
	dataStall = 30 * time.Second
)

// dataRun is what the sink expects in one timed run.
type dataRun struct {
	size  int
	want  uint64
	count atomic.Uint64
	// next is touched only by the goroutine emitting the sink's messages
	// (one at a time: the request's caller, or the SCTP stream reader).
	next uint64
	bad  atomic.Pointer[string]
	// lat[seq] is the one-way latency of message seq in ns (latency runs).
	lat  []int64
	done chan struct{}
}

func (r *dataRun) fail(msg string) { r.bad.CompareAndSwap(nil, &msg) }

func (r *dataRun) message(data []byte, epoch time.Time) {
	var now int64
	if r.lat != nil {
		now = int64(time.Since(epoch))
	}
	if len(data) != 4+r.size || binary.BigEndian.Uint32(data) != dataBenchPPID {
		r.fail(fmt.Sprintf("message %d: %d bytes, ppid %d", r.next, len(data), binary.BigEndian.Uint32(data)))
		return
	}
	seq := binary.BigEndian.Uint64(data[4:])
	if seq != r.next {
		r.fail(fmt.Sprintf("message %d delivered when %d was expected", seq, r.next))
	}
	r.next = seq + 1
	if r.lat != nil && seq < uint64(len(r.lat)) {
		r.lat[seq] = now - int64(binary.BigEndian.Uint64(data[12:]))
	}
	if r.count.Add(1) == r.want {
		close(r.done)
	}
}

// dataBenchEmitter receives the worker's events: the sink's messages go
// to the current run; sctpsendbufferfull is counted.
type dataBenchEmitter struct {
	sink  string
	epoch time.Time
	run   atomic.Pointer[dataRun]
	stray atomic.Uint64 // sink messages outside a run (duplicates)
	full  atomic.Uint64
}

func (e *dataBenchEmitter) Emit(target, event string, data []byte, _ bool) {
	switch event {
	case "message":
		if target != e.sink {
			return
		}
		if r := e.run.Load(); r != nil {
			r.message(data, e.epoch)
		} else {
			e.stray.Add(1)
		}
	case "sctpsendbufferfull":
		e.full.Add(1)
	}
}

// dataEnv is a direct DataProducer "src" and a direct DataConsumer "sink":
// in one router, or in two routers linked by PipeTransports with SCTP
// (src → pipe DataConsumer "pc" on "pa" → "pb" → pipe DataProducer
// "piped" → sink).
type dataEnv struct {
	w       *Worker
	em      *dataBenchEmitter
	size    int
	payload []byte // the dataProducer.send payload
	src     *DataProducer
	sink    *DataConsumer
	// pipe only
	pc     *DataConsumer
	pa, pb *Transport
	// sinceCheck counts bytes sent since the buffered amount was read.
	sinceCheck int
	waits      int // sender waits for the buffer to drain
}

func (e *dataEnv) close() {
	e.w.Close()
	e.w.Wait()
}

// newDataEnv creates the direct path (pipe false) or the pipe path, whose
// PipeTransports get listenInfo.recvBufferSize = rcvbuf if rcvbuf > 0.
func newDataEnv(tb testing.TB, pipe bool, rcvbuf, size int) *dataEnv {
	tb.Helper()
	em := &dataBenchEmitter{sink: "sink", epoch: time.Now()}
	w, err := NewWorker([]byte(`{"logLevel":"warn","rtcMinPort":20000,"rtcMaxPort":59999}`), em)
	if err != nil {
		tb.Fatal(err)
	}
	e := &dataEnv{w: w, em: em, size: size}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	benchRequest(tb, w, "worker.createRouter", "", map[string]any{"routerId": "ra", "mediaCodecs": testCodecs})
	sinkRouter := "ra"
	sinkProducer := "src"
	benchRequest(tb, w, "router.createDirectTransport", "ra", map[string]any{"transportId": "da"})
	benchRequest(tb, w, "transport.produceData", "da", map[string]any{"dataProducerId": "src", "type": "direct", "label": "bench"})
	if pipe {
		benchRequest(tb, w, "worker.createRouter", "", map[string]any{"routerId": "rb", "mediaCodecs": testCodecs})
		listen := map[string]any{"protocol": "udp", "ip": "127.0.0.1"}
		if rcvbuf > 0 {
			listen["recvBufferSize"] = rcvbuf
		}
		pa := benchRequest(tb, w, "router.createPipeTransport", "ra", map[string]any{"transportId": "pa", "listenInfo": listen, "enableSctp": true})
		pb := benchRequest(tb, w, "router.createPipeTransport", "rb", map[string]any{"transportId": "pb", "listenInfo": listen, "enableSctp": true})
		benchRequest(tb, w, "transport.connect", "pa", map[string]any{"ip": "127.0.0.1", "port": tuplePort(pb)})
		benchRequest(tb, w, "transport.connect", "pb", map[string]any{"ip": "127.0.0.1", "port": tuplePort(pa)})
		w.mu.Lock()
		e.pa = w.handlers["pa"].(*Transport)
		e.pb = w.handlers["pb"].(*Transport)
		w.mu.Unlock()
		for deadline := time.Now().Add(10 * time.Second); e.pa.sctp.State() != sctpStateConnected || e.pb.sctp.State() != sctpStateConnected; {
			if time.Now().After(deadline) {
				tb.Fatalf("SCTP not connected: %s / %s", e.pa.sctp.State(), e.pb.sctp.State())
			}
			time.Sleep(2 * time.Millisecond)
		}
		pc := benchRequest(tb, w, "transport.consumeData", "pa", map[string]any{"dataConsumerId": "pc", "dataProducerId": "src", "type": "sctp",
			"sctpStreamParameters": map[string]any{"streamId": 0, "ordered": true}, "label": "bench"})
		// One worker: the piped DataProducer needs another id.
		benchRequest(tb, w, "transport.produceData", "pb", map[string]any{"dataProducerId": "piped", "type": "sctp",
			"sctpStreamParameters": pc["sctpStreamParameters"], "label": "bench"})
		sinkRouter, sinkProducer = "rb", "piped"
	}
	benchRequest(tb, w, "router.createDirectTransport", sinkRouter, map[string]any{"transportId": "db"})
	benchRequest(tb, w, "transport.consumeData", "db", map[string]any{"dataConsumerId": "sink", "dataProducerId": sinkProducer, "type": "direct", "label": "bench"})
	w.mu.Lock()
	e.src = w.handlers["src"].(*DataProducer)
	e.sink = w.handlers["sink"].(*DataConsumer)
	if pipe {
		e.pc = w.handlers["pc"].(*DataConsumer)
	}
	w.mu.Unlock()

	e.payload = make([]byte, dataSendHeader+size)
	binary.BigEndian.PutUint32(e.payload, dataBenchPPID)
	for i := dataSendHeader + 16; i < len(e.payload); i++ {
		e.payload[i] = byte(i)
	}
	// Warm up (opens the SCTP stream, grows the congestion window).
	warm := 2000
	if size > 10000 {
		warm = 200
	}
	e.run(tb, warm, 0, nil)
	ok = true
	return e
}

// send sends message seq, stamped with the current time if stamp.
func (e *dataEnv) send(tb testing.TB, seq int, stamp bool) {
	m := e.payload[dataSendHeader:]
	binary.BigEndian.PutUint64(m, uint64(seq))
	if stamp {
		binary.BigEndian.PutUint64(m[8:], uint64(time.Since(e.em.epoch)))
	}
	if _, err := e.w.Request("dataProducer.send", "src", e.payload); err != nil {
		tb.Fatalf("dataProducer.send %d: %v", seq, err)
	}
}

// flowControl makes the sender wait while the pipe DataConsumer's stream
// holds more than dataHighWater bytes, as an application waits on
// dataConsumer.getBufferedAmount (read here through the Go method the
// request calls, so that the request's JSON is not in the figures).
func (e *dataEnv) flowControl() {
	if e.pc == nil {
		return
	}
	e.sinceCheck += e.size
	if e.sinceCheck < dataCheckBytes {
		return
	}
	e.sinceCheck = 0
	for e.pc.bufferedAmount() > dataHighWater {
		e.waits++
		time.Sleep(200 * time.Microsecond)
	}
}

// run sends n messages, at the given interval (0: as fast as flow control
// allows), and waits until the sink has them all. lat, if not nil, gets
// the one-way latency of each message (len(lat) >= n).
func (e *dataEnv) run(tb testing.TB, n int, interval time.Duration, lat []int64) {
	tb.Helper()
	if n == 0 {
		return
	}
	r := &dataRun{size: e.size, want: uint64(n), lat: lat, done: make(chan struct{})}
	e.em.run.Store(r)
	src0, sink0 := e.src.messagesReceived.Load(), e.sink.messagesSent.Load()
	var pc0 uint64
	if e.pc != nil {
		pc0 = e.pc.messagesSent.Load()
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		if interval > 0 {
			if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
		}
		e.flowControl()
		e.send(tb, i, lat != nil)
	}
	last, lastAt := uint64(0), time.Now()
	for waiting := true; waiting; {
		select {
		case <-r.done:
			waiting = false
		case <-time.After(100 * time.Millisecond):
			if c := r.count.Load(); c != last {
				last, lastAt = c, time.Now()
			} else if time.Since(lastAt) > dataStall {
				bad := ""
				if p := r.bad.Load(); p != nil {
					bad = *p + "; "
				}
				tb.Fatalf("stalled: %d of %d messages delivered, none for %v; %s%s", c, n, dataStall, bad, e.diag(src0, pc0, sink0))
			}
		}
	}
	// A message delivered after this (a duplicate) is stray.
	e.em.run.Store(nil)
	if p := r.bad.Load(); p != nil {
		tb.Fatalf("%s; %s", *p, e.diag(src0, pc0, sink0))
	}
	// Every message was sent and delivered once.
	got := [3]uint64{e.src.messagesReceived.Load() - src0, uint64(n), e.sink.messagesSent.Load() - sink0}
	if e.pc != nil {
		got[1] = e.pc.messagesSent.Load() - pc0
	}
	if got != [3]uint64{uint64(n), uint64(n), uint64(n)} || e.em.full.Load() != 0 || e.em.stray.Load() != 0 {
		tb.Fatalf("sent %d: %s", n, e.diag(src0, pc0, sink0))
	}
}

func (e *dataEnv) diag(src0, pc0, sink0 uint64) string {
	s := fmt.Sprintf("src received %d, sink sent %d, sctpsendbufferfull %d, stray %d",
		e.src.messagesReceived.Load()-src0, e.sink.messagesSent.Load()-sink0, e.em.full.Load(), e.em.stray.Load())
	if e.pc != nil {
		s += fmt.Sprintf(", pipe consumer sent %d, bufferedAmount %d, dropped by pa %d/%d/%d pb %d/%d/%d (noProducer/tooBig/sendFull), UDP queue drops pa %d pb %d",
			e.pc.messagesSent.Load()-pc0, e.pc.bufferedAmount(),
			e.pa.sctp.droppedNoProducer.Load(), e.pa.sctp.droppedTooBig.Load(), e.pa.sctp.droppedSendFull.Load(),
			e.pb.sctp.droppedNoProducer.Load(), e.pb.sctp.droppedTooBig.Load(), e.pb.sctp.droppedSendFull.Load(),
			e.udpDrops(e.pa), e.udpDrops(e.pb))
	}
	return s
}

// udpDrops counts the SCTP packets a pipe transport's socket goroutine
// dropped because the association's input queue was full.
func (e *dataEnv) udpDrops(t *Transport) uint64 {
	return t.link.(*pipeLink).sctpConn.dropped.Load()
}

// losses are the SCTP packets lost so far: dropped by the pipe
// transports' queues to their associations, and by the kernel at a full
// socket receive buffer (whole network namespace).
func (e *dataEnv) losses() [2]int64 {
	return [2]int64{int64(e.udpDrops(e.pa) + e.udpDrops(e.pb)), udpRcvbufErrors()}
}

// reportLosses sets the packet loss and flow control metrics of a pipe
// run of n messages that started with losses l0.
func (e *dataEnv) reportLosses(b *testing.B, l0 [2]int64, n int) {
	l := e.losses()
	b.ReportMetric(float64(l[0]-l0[0])/float64(n), "queue-drops/msg")
	if l[1] >= 0 && l0[1] >= 0 {
		b.ReportMetric(float64(l[1]-l0[1])/float64(n), "rcvbuf-drops/msg")
	}
	b.ReportMetric(float64(e.waits)/float64(n), "fc-waits/msg")
}

// udpRcvbufErrors is the kernel's count of UDP datagrams dropped because
// the receiving socket's buffer was full (/proc/net/snmp, Udp
// RcvbufErrors, for the whole network namespace); -1 if unknown.
func udpRcvbufErrors() int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return -1
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, err := strconv.ParseInt(f[i], 10, 64)
				if err != nil {
					return -1
				}
				return v
			}
		}
	}
	return -1
}

// reportData sets the per message metrics of n messages that cost m.
func reportData(b *testing.B, n int, m measurement) {
	b.ReportMetric(float64(n)/(float64(m.wall)/1e9), "msgs/s")
	b.ReportMetric(float64(m.cpu)/float64(n)/1e3, "cpu-µs/msg")
	b.ReportMetric(float64(m.allocs)/float64(n), "allocs/msg")
}

// BenchmarkDataDirect: one op is one message from a direct DataProducer
// (dataProducer.send) to a direct DataConsumer of the same router ('message'
// event), synchronous on the caller's goroutine.
func BenchmarkDataDirect(b *testing.B) {
	for _, size := range dataBenchSizes {
		var env *dataEnv
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			if env == nil {
				env = newDataEnv(b, false, 0, size)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			m := measure(func() { env.run(b, b.N, 0, nil) })
			b.StopTimer()
			reportData(b, b.N, m)
		})
		if env != nil {
			env.close()
		}
	}
}

// dataRcvbufs are the socket receive buffers of the pipe benchmarks:
// gosfu's (listenInfo without recvBufferSize: netio.DefaultRecvBufferSize)
// and the kernel's default, net.core.rmem_default (208 KiB on common
// Linux), which gosfu used before asking for its own. SO_RCVBUF doubles
// what it is given, hence recvBufferSize 104 KiB for 208 KiB.
var dataRcvbufs = []struct {
	name  string
	bytes int
}{{"default", 0}, {"208KiB", 104 << 10}}

// BenchmarkDataPipe: one op is one message from a direct DataProducer in
// router A, through a pipe DataConsumer (SCTP stream 0, ordered, reliable)
// on PipeTransport A, UDP on loopback, PipeTransport B and its pipe
// DataProducer, to a direct DataConsumer in router B, with the sender
// keeping at most ~dataHighWater bytes in the pipe consumer's stream. The
// time runs from the first send until the last message is delivered; both
// SCTP ends are in this process, so the CPU per message is the whole hop
// (both associations, both sockets).
func BenchmarkDataPipe(b *testing.B) {
	for _, rb := range dataRcvbufs {
		for _, size := range dataBenchSizes {
			var env *dataEnv
			b.Run(fmt.Sprintf("rcvbuf=%s/size=%d", rb.name, size), func(b *testing.B) {
				if env == nil {
					env = newDataEnv(b, true, rb.bytes, size)
				}
				l0 := env.losses()
				env.waits = 0
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				m := measure(func() { env.run(b, b.N, 0, nil) })
				b.StopTimer()
				reportData(b, b.N, m)
				env.reportLosses(b, l0, b.N)
			})
			if env != nil {
				env.close()
			}
		}
	}
}

// dataLatencyRate is the message rate of the latency benchmark for a
// message size: 1000/s for small messages; 100/s (6.5 MB/s) for 64 KiB
// ones, as 1000/s would exceed what the pipe carries on the test machine
// and measure queueing behind flow control instead.
func dataLatencyRate(size int) int {
	if size > 10000 {
		return 100
	}
	return 1000
}

// BenchmarkDataPipeLatency sends on the path of BenchmarkDataPipe at a
// steady rate and reports the one-way latency (the time stamped in the
// message just before dataProducer.send → the 'message' event of the
// DataConsumer in router B): p50, p99 and max over the b.N messages of the
// run, and the CPU per message at that rate (idle time's timers included).
func BenchmarkDataPipeLatency(b *testing.B) {
	for _, rb := range dataRcvbufs {
		for _, size := range dataBenchSizes {
			var env *dataEnv
			rate := dataLatencyRate(size)
			b.Run(fmt.Sprintf("rcvbuf=%s/size=%d/rate=%d", rb.name, size, rate), func(b *testing.B) {
				if env == nil {
					env = newDataEnv(b, true, rb.bytes, size)
				}
				lat := make([]int64, b.N)
				l0 := env.losses()
				env.waits = 0
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				m := measure(func() { env.run(b, b.N, time.Second/time.Duration(rate), lat) })
				b.StopTimer()
				slices.Sort(lat)
				pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e3 }
				b.ReportMetric(pct(0.50), "p50-µs")
				b.ReportMetric(pct(0.99), "p99-µs")
				b.ReportMetric(float64(lat[len(lat)-1])/1e3, "max-µs")
				b.ReportMetric(float64(m.cpu)/float64(b.N)/1e3, "cpu-µs/msg")
				b.ReportMetric(float64(m.allocs)/float64(b.N), "allocs/msg")
				env.reportLosses(b, l0, b.N)
			})
			if env != nil {
				env.close()
			}
		}
	}
}
