//go:build linux

// Command fanout measures the fan-out scaling of one producer: a VP8
// stream sent at -pps packets/s to a producer on a PlainTransport of a
// gosfu process (bench/fanout/server.js), forwarded to -consumers consumers
// on their own PlainTransports, received here on loopback. One line per
// run: forwarded packets/s, loss, and the SFU process's CPU from /proc.
//
//	go run ./bench/fanout -consumers 400 -pps 500 -duration 20s
//	go run ./bench/fanout -curve -cores 1,2
//
// See bench/fanout/README.md.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

type config struct {
	consumers int
	pps       float64
	duration  time.Duration
	warmup    time.Duration
	size      int
	counts    []int
	cores     []int // 0: not limited
	rxSockets int
	rxPollers int
	rxPoll    time.Duration
	rcvbuf    int
	genCPUs   string
	node      string
	script    string
	module    string
	verbose   bool
	maxCPUs   int
}

func main() {
	var c config
	var counts, cores string
	var curve bool
	flag.IntVar(&c.consumers, "consumers", 400, "consumers of the producer (each on its own PlainTransport)")
	flag.Float64Var(&c.pps, "pps", 500, "packets/s sent to the producer")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "measured window, after the warm-up")
	flag.DurationVar(&c.warmup, "warmup", 3*time.Second, "time sending before the measured window")
	flag.IntVar(&c.size, "size", 1100, "RTP packet size in bytes")
	flag.BoolVar(&curve, "curve", false, "run every consumer count of -counts (the fan-out scaling curve)")
	flag.StringVar(&counts, "counts", "50,100,200,300,400,500", "consumer counts of -curve")
	flag.StringVar(&cores, "cores", "", "comma-separated core counts to limit the SFU to (taskset -c 0..n-1 and GOMAXPROCS=n), one run each; empty: not limited")
	flag.IntVar(&c.rxSockets, "rx-sockets", 0, "receiving sockets, each shared by a block of consumers; 0: one per consumer")
	flag.IntVar(&c.rxPollers, "rx-pollers", 1, "goroutines (threads) draining the receiving sockets")
	flag.DurationVar(&c.rxPoll, "rx-poll", 0, "receivers' poll interval; 0: 1ms for up to 16 sockets, else 20ms")
	flag.IntVar(&c.rcvbuf, "rcvbuf", 0, "SO_RCVBUF(FORCE) per receiving socket in bytes; 0: 4 MiB, 32 MiB when shared")
	flag.StringVar(&c.genCPUs, "gen-cpus", "auto", "CPUs for this process (sender and receivers), e.g. \"1\"; auto: the cores -cores leaves to the SFU's complement, else not pinned; \"\": not pinned")
	flag.StringVar(&c.node, "node", "node", "Node binary")
	flag.StringVar(&c.script, "server", "bench/fanout/server.js", "the SFU script")
	flag.StringVar(&c.module, "module", "", "package with mediasoup's API for server.js --module (default: gosfu, ../..)")
	flag.BoolVar(&c.verbose, "v", false, "print a detail line per run (loss breakdown, sender, receivers)")
	flag.Parse()

	var err error
	if curve {
		if c.counts, err = intList(counts); err != nil {
			fatal("-counts: %v", err)
		}
	} else {
		c.counts = []int{c.consumers}
	}
	c.cores = []int{0}
	if cores != "" {
		if c.cores, err = intList(cores); err != nil {
			fatal("-cores: %v", err)
		}
	}
	c.maxCPUs = maxCPUs()
	for _, k := range c.cores {
		if k < 0 || k > c.maxCPUs {
			fatal("-cores: %d is not in [1, %d]", k, c.maxCPUs)
		}
	}
	if c.pps <= 0 || c.duration <= 0 {
		fatal("-pps and -duration must be positive")
	}
	if _, err := os.Stat(c.script); err != nil {
		fatal("%v (run from the repository root, or give -server)", err)
	}

	fmt.Printf("# fanout: %g packets/s of %d B, warm-up %v, window %v, %d CPUs, load average at start %s\n",
		c.pps, c.size, c.warmup, c.duration, c.maxCPUs, loadAvg())
	fmt.Println("| SFU cores | consumers | pps in | fwd/s expected | fwd/s received | loss % | lag ms | rx-side drops | SFU CPU % | µs CPU / fwd | bench CPU % | rx CPU % | SFU send-buffer drops |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	failed := false
	for _, k := range c.cores {
		for _, n := range c.counts {
			res, err := run(&c, n, k)
			if err != nil {
				fmt.Fprintf(os.Stderr, "run cores=%d consumers=%d: %v\n", k, n, err)
				failed = true
				continue
			}
			fmt.Println(res.row())
			if c.verbose {
				fmt.Fprintln(os.Stderr, res.detail())
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}

func fatal(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "fanout: "+f+"\n", a...)
	os.Exit(2)
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// server is the SFU process.
type server struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
	pids  []int
}

func startServer(c *config, cores int) (*server, error) {
	args := []string{c.script}
	if c.module != "" {
		args = append(args, "--module", c.module)
	}
	var cmd *exec.Cmd
	if cores > 0 {
		cpus := make([]int, cores)
		for i := range cpus {
			cpus[i] = i
		}
		cmd = exec.Command("taskset", append([]string{"-c", cpuList(cpus), c.node}, args...)...)
		// The Go runtime would size itself from the affinity mask anyway;
		// say it explicitly.
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(cores))
	} else {
		cmd = exec.Command(c.node, args...)
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	s.out.Buffer(make([]byte, 64<<10), 16<<20)
	var hello struct {
		Pids []int `json:"pids"`
	}
	if err := s.read(&hello); err != nil {
		s.kill()
		return nil, fmt.Errorf("server start: %w", err)
	}
	s.pids = hello.Pids
	return s, nil
}

func (s *server) read(v any) error {
	if !s.out.Scan() {
		if err := s.out.Err(); err != nil {
			return err
		}
		return io.ErrUnexpectedEOF
	}
	line := s.out.Bytes()
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(line, &e) == nil && e.Error != "" {
		return errors.New(e.Error)
	}
	return json.Unmarshal(line, v)
}

func (s *server) call(req, resp any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		return err
	}
	return s.read(resp)
}

func (s *server) close() {
	var empty struct{}
	_ = s.call(map[string]any{"cmd": "close"}, &empty)
	_ = s.stdin.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.kill()
		<-done
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
}

type setupResp struct {
	ProducerPort  int      `json:"producerPort"`
	ProducerSsrc  uint32   `json:"producerSsrc"`
	PayloadType   uint8    `json:"payloadType"`
	ConsumerSsrcs []uint32 `json:"consumerSsrcs"`
}

type statsResp struct {
	ProducerPacketCount  uint64         `json:"producerPacketCount"`
	ConsumerPacketCounts []uint64       `json:"consumerPacketCounts"`
	UdpSendBufferFull    *uint64        `json:"udpSendBufferFull"`
	ProducerDropped      map[string]any `json:"producerTransportDropped"`
}

// sample is taken at both ends of the measured window.
type sample struct {
	t       time.Time
	sent    uint64
	rx      uint64
	span    int64 // rx.spans()
	sfuCPU  time.Duration
	selfCPU time.Duration
	rxCPU   time.Duration
	sndCPU  time.Duration
}

type result struct {
	cores, consumers int
	pps              float64
	window           time.Duration
	a, b             sample

	sentTotal, rxTotal uint64
	worstLoss          float64 // highest loss of one consumer, %
	rxDrops            uint64  // kernel drops at the receiving sockets
	sfuInDrops         uint64  // kernel drops at the producer's socket
	gaps, reordered    int64
	dups               uint64
	other              uint64
	rxSyscalls         uint64
	rcvbuf, nsock      int
	poll               time.Duration
	stats              statsResp
	setup              time.Duration
	snd                *sender
	load               string
	sfuCPUs, genCPUs   string // affinity of the SFU and of this process
	sfuThreads         string
}

func run(c *config, n, cores int) (*result, error) {
	// Where this process runs: beside the SFU when it has every core,
	// else on the cores it does not have.
	var gen []int
	switch {
	case c.genCPUs == "auto":
		for i := cores; cores > 0 && i < c.maxCPUs; i++ {
			gen = append(gen, i)
		}
	case c.genCPUs != "":
		var err error
		if gen, err = cpuListParse(c.genCPUs); err != nil {
			return nil, fmt.Errorf("-gen-cpus: %w", err)
		}
	}
	if err := setProcessAffinity(gen); err != nil {
		return nil, err
	}

	nsock := c.rxSockets
	if nsock <= 0 || nsock > n {
		nsock = n
	}
	rcvbuf := c.rcvbuf
	if rcvbuf <= 0 {
		rcvbuf = 4 << 20
		if nsock < n {
			rcvbuf = 32 << 20
		}
	}
	poll := c.rxPoll
	if poll <= 0 {
		poll = time.Millisecond
		if nsock > 16 {
			poll = 20 * time.Millisecond
		}
	}
	r, ports, err := newRx(n, nsock, rcvbuf)
	if err != nil {
		return nil, err
	}
	defer r.close()

	t0 := time.Now()
	srv, err := startServer(c, cores)
	if err != nil {
		return nil, err
	}
	defer srv.kill()
	var setup setupResp
	if err := srv.call(map[string]any{"cmd": "setup", "rxIp": "127.0.0.1", "rxPorts": ports}, &setup); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	if len(setup.ConsumerSsrcs) != n {
		return nil, fmt.Errorf("setup: %d consumers, want %d", len(setup.ConsumerSsrcs), n)
	}
	res := &result{cores: cores, consumers: n, pps: c.pps, rcvbuf: r.rcvbuf, nsock: nsock, poll: poll, setup: time.Since(t0),
		sfuCPUs: procStatus(srv.pids[0], "Cpus_allowed_list"), genCPUs: procStatus(os.Getpid(), "Cpus_allowed_list")}

	r.start(setup.ConsumerSsrcs, c.rxPollers, poll)
	snd, err := newSender(setup.ProducerPort, c.pps, c.size, setup.ProducerSsrc, setup.PayloadType)
	if err != nil {
		r.stopPollers()
		return nil, err
	}
	res.snd = snd
	go snd.run()

	take := func() (sample, error) {
		// Received first: everything received was sent by then.
		s := sample{t: time.Now(), rx: r.flushed()}
		s.span = r.spans()
		s.sent = snd.sent.Load()
		var err error
		s.sfuCPU, err = pidsCPU(srv.pids)
		s.selfCPU = selfCPU()
		s.rxCPU = threadsCPU(r.tids())
		if t := snd.tid.Load(); t != 0 {
			s.sndCPU = threadsCPU([]int{int(t)})
		}
		return s, err
	}
	time.Sleep(c.warmup)
	a, errA := take()
	time.Sleep(c.duration)
	b, errB := take()
	snd.close()
	if err := errors.Join(errA, errB); err != nil {
		r.stopPollers()
		return nil, err
	}
	res.a, res.b, res.window = a, b, b.t.Sub(a.t)
	res.sfuThreads = procStatus(srv.pids[0], "Threads")

	// Drain: wait for the receivers' counts to settle.
	last, stable := r.received(), 0
	for deadline := time.Now().Add(5 * time.Second); stable < 3 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		if cur := r.received(); cur == last {
			stable++
		} else {
			last, stable = cur, 0
		}
	}
	r.stopPollers()
	res.load = loadAvg()

	res.sentTotal = snd.sent.Load()
	for _, rc := range r.consumers {
		got := rc.received.Load() - rc.dups
		res.rxTotal += got
		res.gaps += rc.gaps()
		res.reordered += int64(rc.reordered)
		res.dups += rc.dups
		if res.sentTotal > 0 {
			if l := 100 * (1 - float64(got)/float64(res.sentTotal)); l > res.worstLoss {
				res.worstLoss = l
			}
		}
	}
	for _, p := range r.pollers {
		res.other += p.other.Load()
		res.rxSyscalls += p.syscalls.Load()
	}
	watch := r.ports()
	watch[setup.ProducerPort] = true
	drops, err := udpDrops(watch)
	if err != nil {
		return nil, err
	}
	for port, d := range drops {
		if port == setup.ProducerPort {
			res.sfuInDrops = d
		} else {
			res.rxDrops += d
		}
	}
	if err := srv.call(map[string]any{"cmd": "stats"}, &res.stats); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	srv.close()
	return res, nil
}

func cpuListParse(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(f), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

func pct(d time.Duration, w time.Duration) float64 { return 100 * d.Seconds() / w.Seconds() }

func (r *result) row() string {
	w := r.window.Seconds()
	ppsIn := float64(r.b.sent-r.a.sent) / w
	fwd := float64(r.b.rx-r.a.rx) / w
	sfu := r.b.sfuCPU - r.a.sfuCPU
	us := 0.0
	if r.b.rx > r.a.rx {
		us = sfu.Seconds() * 1e6 / float64(r.b.rx-r.a.rx)
	}
	expected := float64(r.sentTotal) * float64(r.consumers)
	loss := 0.0
	if expected > 0 {
		loss = 100 * (expected - float64(r.rxTotal)) / expected
	}
	cores := "-"
	if r.cores > 0 {
		cores = strconv.Itoa(r.cores)
	}
	sendDrops := "-"
	if r.stats.UdpSendBufferFull != nil {
		sendDrops = strconv.FormatUint(*r.stats.UdpSendBufferFull, 10)
	}
	return fmt.Sprintf("| %s | %d | %.0f | %.0f | %.0f | %.3f | %.0f | %d | %.1f | %.2f | %.1f | %.1f | %s |",
		cores, r.consumers, ppsIn, ppsIn*float64(r.consumers), fwd, loss, r.lag(r.b), r.rxDrops,
		pct(sfu, r.window), us, pct(r.b.selfCPU-r.a.selfCPU, r.window), pct(r.b.rxCPU-r.a.rxCPU, r.window),
		sendDrops)
}

// lag is how far the forwarded stream was behind the sent one at s, in
// ms: packets sent and neither received nor lost before the latest one a
// consumer received (each consumer's first packet taken as the first
// sent), over the rate each consumer gets.
// It stays at a few ms while the SFU keeps up; when it is saturated the
// backlog in its socket grows (and loss starts once the socket's buffer is
// full): fwd/s received falls short of fwd/s expected and the lag grows
// with the run's length.
func (r *result) lag(s sample) float64 {
	behind := float64(s.sent)*float64(r.consumers) - float64(s.span)
	return max(0, 1000*behind/float64(r.consumers)/r.pps)
}

// detail is the -v line: where packets were lost, and what the sender and
// receivers did.
func (r *result) detail() string {
	var fwdBySfu uint64
	for _, v := range r.stats.ConsumerPacketCounts {
		fwdBySfu += v
	}
	notFwd := int64(r.stats.ProducerPacketCount)*int64(r.consumers) - int64(fwdBySfu)
	rxPkts := r.rxTotal + r.other
	perCall := 0.0
	if r.rxSyscalls > 0 {
		perCall = float64(rxPkts) / float64(r.rxSyscalls)
	}
	return fmt.Sprintf("  cores=%d consumers=%d: lag %.0f ms at the window's start; sent %d, SFU got %d (kernel drops at its socket %d), "+
		"SFU sent %d (not forwarded %d), received %d (worst consumer %.3f%% lost, seq gaps %d, reordered %d, dups %d, other datagrams %d); "+
		"sender max burst %d, late %d, send errors %d, RTCP in %d (PLI %d, FIR %d, NACK %d), sender CPU %.1f%%; "+
		"receivers: %d sockets, rcvbuf %d B, poll %v, %.1f datagrams per recvmmsg; setup %.1fs; "+
		"SFU on CPUs %s (%s threads), bench on CPUs %s; load average %s",
		r.cores, r.consumers, r.lag(r.a), r.sentTotal, r.stats.ProducerPacketCount, r.sfuInDrops,
		fwdBySfu, notFwd, r.rxTotal, r.worstLoss, r.gaps, r.reordered, r.dups, r.other,
		r.snd.maxBurst.Load(), r.snd.late.Load(), r.snd.errors.Load(), r.snd.rtcpIn.Load(), r.snd.plis.Load(), r.snd.firs.Load(), r.snd.nacks.Load(),
		pct(r.b.sndCPU-r.a.sndCPU, r.window),
		r.nsock, r.rcvbuf, r.poll, perCall, r.setup.Seconds(), r.sfuCPUs, r.sfuThreads, r.genCPUs, r.load)
}
