// Command load is a load generator for gosfu (or any SFU with mediasoup's
// Node API): pion/webrtc publishers and subscribers through
// WebRtcTransports with real ICE-lite, DTLS and SRTP, against
// bench/load/server.js running in its own Node process. It reports the SFU
// process's CPU per forwarded packet (from /proc), the subscribers' loss
// (sequence-number gaps), first-packet latency, and with -search the
// largest number of subscribers forwarded with < 0.1% loss.
//
// Run from the repository root, inside a loopback-only namespace:
//
//	../shared/tools/netns go run ./bench/load -pubs 1 -subs 100 -pps 300
//
// See bench/load/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/webrtc/v4"
)

type config struct {
	pubs, subs, fanout int
	pps, fps, size     int
	duration, warmup   time.Duration
	webrtcServer       bool
	node, server       string
	module, url        string
	srtp               string
	rtcp               rtcpSet
	parallel           int
	setupTimeout       time.Duration
	procs              int
	jsonOut            string
	quiet              bool

	search        bool
	searchStep    int
	searchMinStep int
	searchMax     int
	searchWindow  time.Duration
	lossLimit     float64 // percent
}

func parseFlags() (*config, error) {
	c := &config{}
	var rtcpList string
	flag.IntVar(&c.pubs, "pubs", 1, "publishers (one VP8 producer each, own WebRtcTransport)")
	flag.IntVar(&c.subs, "subs", 100, "subscribers (one PeerConnection and WebRtcTransport each); with -search the first step")
	flag.IntVar(&c.fanout, "fanout", 0, "producers each subscriber consumes (0: all)")
	flag.IntVar(&c.pps, "pps", 300, "RTP packets per second per publisher, evenly paced")
	flag.IntVar(&c.fps, "fps", 30, "frames per second (a frame is pps/fps packets)")
	flag.IntVar(&c.size, "size", 1100, "RTP payload bytes per packet (VP8 descriptor included; headers and SRTP tag come on top)")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "measurement window")
	flag.DurationVar(&c.warmup, "warmup", 5*time.Second, "wait after every subscriber received its first packet")
	flag.BoolVar(&c.webrtcServer, "webrtc-server", false, "put every transport on one WebRtcServer (one UDP port)")
	flag.StringVar(&c.node, "node", "node", "node binary")
	flag.StringVar(&c.server, "server", "bench/load/server.js", "server script")
	flag.StringVar(&c.module, "module", "", "package the server loads instead of gosfu (--module), e.g. a mediasoup install")
	flag.StringVar(&c.url, "url", "", "attach to a running server.js at this URL instead of starting one")
	flag.StringVar(&c.srtp, "srtp", "aes128gcm", "the one SRTP profile the clients offer: aes128gcm, aes256gcm, aescm80")
	flag.StringVar(&rtcpList, "rtcp", "nack,reports,twcc", "subscribers' RTCP (pion interceptors, and what their rtpCapabilities offer): any of nack,reports,twcc, or none")
	flag.IntVar(&c.parallel, "parallel", 8, "subscribers set up at a time")
	flag.DurationVar(&c.setupTimeout, "setup-timeout", 30*time.Second, "limit for a subscriber to connect, and for all to receive media")
	flag.IntVar(&c.procs, "procs", 0, "GOMAXPROCS of the clients (0: Go's default)")
	flag.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.BoolVar(&c.quiet, "q", false, "no progress lines on stderr")
	flag.BoolVar(&c.search, "search", false, "raise the subscribers from -subs until loss reaches -loss, then bisect")
	flag.IntVar(&c.searchStep, "search-step", 50, "subscribers added per step until the first lossy step")
	flag.IntVar(&c.searchMinStep, "search-resolution", 10, "bisection stops when the bracket is this narrow")
	flag.IntVar(&c.searchMax, "search-max", 2000, "upper limit of subscribers")
	flag.DurationVar(&c.searchWindow, "search-window", 10*time.Second, "measurement window of each search step")
	flag.Float64Var(&c.lossLimit, "loss", 0.1, "loss limit in percent for -search")
	flag.Parse()
	if flag.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %v", flag.Args())
	}
	var err error
	if c.rtcp, err = parseRtcpSet(strings.ReplaceAll(rtcpList, "none", "")); err != nil {
		return nil, err
	}
	if _, ok := srtpProfiles[c.srtp]; !ok {
		return nil, fmt.Errorf("unknown -srtp %q", c.srtp)
	}
	switch {
	case c.pubs < 1 || c.subs < 1 || c.pps < 1 || c.fps < 1 || c.parallel < 1:
		return nil, errors.New("-pubs, -subs, -pps, -fps and -parallel must be positive")
	case c.size < 16 || c.size > 1200:
		return nil, errors.New("-size must be within 16..1200 (pion's receive MTU)")
	case c.fanout < 0 || c.fanout > c.pubs:
		return nil, errors.New("-fanout must be within 0..pubs")
	}
	if c.fanout == 0 {
		c.fanout = c.pubs
	}
	return c, nil
}

// bench is one run: the SFU, the publishers and the subscribers.
type bench struct {
	cfg    *config
	sfu    *sfu
	subAPI *webrtc.API
	caps   json.RawMessage
	pubs   []*publisher
	subs   []*subscriber
	nextID int // subscribers ever created, for their fan-out
	cipher map[string]int
}

func (b *bench) logf(format string, args ...any) {
	if !b.cfg.quiet {
		fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
	}
}

func (b *bench) noteCipher(c string) {
	if c == "" {
		c = "unknown"
	}
	b.cipher[c]++
}

// setSubscribers adds or closes subscribers until there are n.
func (b *bench) setSubscribers(ctx context.Context, n int) error {
	for len(b.subs) > n {
		last := b.subs[len(b.subs)-1]
		b.subs = b.subs[:len(b.subs)-1]
		last.close(b.sfu)
	}
	if len(b.subs) == n {
		return nil
	}
	add := n - len(b.subs)
	start := time.Now()
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		done     atomic.Int64
	)
	sem := make(chan struct{}, b.cfg.parallel)
	for i := 0; i < add; i++ {
		k := b.nextID
		b.nextID++
		producers := make([]string, b.cfg.fanout)
		for j := range producers {
			producers[j] = b.pubs[(k+j)%len(b.pubs)].producer
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if ctx.Err() != nil {
				return
			}
			sctx, cancel := context.WithTimeout(ctx, b.cfg.setupTimeout)
			defer cancel()
			sub, err := newSubscriber(sctx, b.sfu, b.subAPI, b.caps, producers, b.cfg.rtcp.reports)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			b.subs = append(b.subs, sub)
			b.noteCipher(sub.cipher)
			if d := done.Add(1); d%50 == 0 {
				b.logf("%d/%d subscribers connected", d, add)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.logf("%d subscribers set up in %.1f s", add, time.Since(start).Seconds())
	return nil
}

// waitMedia waits until every subscriber's tracks have received a packet.
func (b *bench) waitMedia(ctx context.Context) (missing int) {
	deadline := time.Now().Add(b.cfg.setupTimeout)
	for {
		missing = 0
		for _, s := range b.subs {
			for _, t := range s.tracks {
				if !t.snap().started {
					missing++
				}
			}
		}
		if missing == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return missing
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// window is what one measurement window found.
type window struct {
	Subscribers      int       `json:"subscribers"`
	Seconds          float64   `json:"seconds"`
	Sent             int64     `json:"sentByPublishers"`
	Forwarded        int64     `json:"forwarded"`       // media packets the subscribers received
	ServerForwarded  int64     `json:"serverForwarded"` // consumers' packetCount delta
	ServerProduced   int64     `json:"serverProduced"`  // producers' packetCount delta
	Expected         int64     `json:"expected"`        // by sequence numbers
	Lost             int64     `json:"lost"`            // expected - received, tracks active all window
	LossPct          float64   `json:"lossPercent"`     // Lost / Expected
	WorstLossPct     float64   `json:"worstTrackLossPercent"`
	NotStarted       int       `json:"tracksWithoutMedia"`
	SfuCPU           float64   `json:"sfuCpuSeconds"`
	SfuCPUByPid      []float64 `json:"sfuCpuSecondsByPid"`
	SfuCPUPct        float64   `json:"sfuCpuPercent"` // of one core
	UsPerFwd         float64   `json:"sfuCpuMicrosecondsPerForwarded"`
	ClientCPUPct     float64   `json:"clientCpuPercent"`
	MachineBusyPct   float64   `json:"machineBusyPercent"` // of one core, all CPUs summed
	MachineCPUs      int       `json:"machineCpus"`
	LoadBefore       string    `json:"loadAverageBefore"`
	LoadAfter        string    `json:"loadAverageAfter"`
	ServerStatsError string    `json:"serverStatsError,omitempty"`
}

func (b *bench) measure(ctx context.Context, d time.Duration) (*window, error) {
	w := &window{Subscribers: len(b.subs), MachineCPUs: runtime.NumCPU(), LoadBefore: loadAverage()}
	st0, errSt0 := b.sfu.stats()

	type tsnap struct {
		t *trackStats
		s trackSnap
	}
	snapAll := func() []tsnap {
		var out []tsnap
		for _, s := range b.subs {
			for _, t := range s.tracks {
				out = append(out, tsnap{t, t.snap()})
			}
		}
		return out
	}
	sentAll := func() (n int64) {
		for _, p := range b.pubs {
			n += p.sent.Load()
		}
		return n
	}
	cpuAll := func() ([]time.Duration, error) {
		out := make([]time.Duration, len(b.sfu.pids))
		for i, pid := range b.sfu.pids {
			c, err := procCPU(pid)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}

	cpu0, err := cpuAll()
	if err != nil {
		return nil, err
	}
	self0, _ := procCPU(0)
	busy0, total0 := machineCPU()
	t0 := time.Now()
	sent0 := sentAll()
	snaps0 := snapAll()

	if err := sleep(ctx, d); err != nil {
		return nil, err
	}

	cpu1, err := cpuAll()
	if err != nil {
		return nil, err
	}
	self1, _ := procCPU(0)
	busy1, total1 := machineCPU()
	elapsed := time.Since(t0)
	w.Sent = sentAll() - sent0
	for _, ts := range snaps0 {
		s1 := ts.t.snap()
		if !s1.started {
			w.NotStarted++
			continue
		}
		w.Forwarded += s1.received - ts.s.received
		if !ts.s.started {
			continue
		}
		exp := s1.expected - ts.s.expected
		lost := max(0, exp-(s1.received-ts.s.received))
		w.Expected += exp
		w.Lost += lost
		if exp > 0 {
			w.WorstLossPct = max(w.WorstLossPct, 100*float64(lost)/float64(exp))
		}
	}
	w.LoadAfter = loadAverage()
	st1, errSt1 := b.sfu.stats()
	if err := errors.Join(errSt0, errSt1); err != nil {
		w.ServerStatsError = err.Error()
	} else {
		for id, n := range st1.Consumers {
			if n0, ok := st0.Consumers[id]; ok {
				w.ServerForwarded += n - n0
			}
		}
		for id, n := range st1.Producers {
			if n0, ok := st0.Producers[id]; ok {
				w.ServerProduced += n - n0
			}
		}
	}

	w.Seconds = elapsed.Seconds()
	var sfuCPU time.Duration
	for i := range cpu1 {
		c := cpu1[i] - cpu0[i]
		sfuCPU += c
		w.SfuCPUByPid = append(w.SfuCPUByPid, c.Seconds())
	}
	w.SfuCPU = sfuCPU.Seconds()
	w.SfuCPUPct = 100 * w.SfuCPU / w.Seconds
	if w.Forwarded > 0 {
		w.UsPerFwd = 1e6 * w.SfuCPU / float64(w.Forwarded)
	}
	if w.Expected > 0 {
		w.LossPct = 100 * float64(w.Lost) / float64(w.Expected)
	}
	w.ClientCPUPct = 100 * (self1 - self0).Seconds() / w.Seconds
	if total1 > total0 {
		// /proc/stat sums all CPUs: scale to "percent of one core".
		w.MachineBusyPct = 100 * float64(runtime.NumCPU()) * float64(busy1-busy0) / float64(total1-total0)
	}
	return w, nil
}

// latencies are first-packet latencies of every track, in ms.
type latencies struct {
	SubscribeToFirst []float64 `json:"subscribeToFirstPacketMs"`
	ResumeToFirst    []float64 `json:"resumeToFirstPacketMs"`
	SubscribeToConn  []float64 `json:"subscribeToConnectedMs"`
}

func (b *bench) latencies() latencies {
	var l latencies
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, s := range b.subs {
		l.SubscribeToConn = append(l.SubscribeToConn, ms(s.connected.Sub(s.start)))
		for _, t := range s.tracks {
			t.mu.Lock()
			started, first := t.started, t.first
			t.mu.Unlock()
			if started {
				l.SubscribeToFirst = append(l.SubscribeToFirst, ms(first.Sub(s.start)))
				l.ResumeToFirst = append(l.ResumeToFirst, ms(first.Sub(s.resumed)))
			}
		}
	}
	return l
}

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	i := int(q*float64(len(s)-1) + 0.5)
	return s[i]
}

func (b *bench) describe() string {
	where := "own UDP ports"
	if b.cfg.webrtcServer {
		where = "one WebRtcServer"
	}
	sfuName := "gosfu"
	if b.cfg.module != "" {
		sfuName = b.cfg.module
	}
	subs := fmt.Sprint(b.cfg.subs)
	if b.cfg.search {
		subs = fmt.Sprintf("M (from %d)", b.cfg.subs)
	}
	return fmt.Sprintf("%s: %d publisher(s) × %s subscriber(s) (fan-out %d), %d packets/s per publisher, %d B payload, %s, subscriber RTCP %s, client GOMAXPROCS %d",
		sfuName, b.cfg.pubs, subs, b.cfg.fanout, b.cfg.pps, b.cfg.size, where, b.cfg.rtcp, runtime.GOMAXPROCS(0))
}

func (b *bench) printWindow(w *window) {
	fmt.Printf("window %.1f s, %d subscribers:\n", w.Seconds, w.Subscribers)
	fmt.Printf("  sent by publishers   %d packets (%.0f/s); SFU producers counted %d\n", w.Sent, float64(w.Sent)/w.Seconds, w.ServerProduced)
	if b.underSent(w) {
		fmt.Printf("  WARNING: publishers sent below %d/s: the client process was starved of CPU\n", b.cfg.pubs*b.cfg.pps)
	}
	diff := ""
	if w.Forwarded > 0 && w.ServerStatsError == "" {
		diff = fmt.Sprintf(" (%+.3f%%)", 100*float64(w.ServerForwarded-w.Forwarded)/float64(w.Forwarded))
	}
	fmt.Printf("  forwarded            %d packets received (%.0f/s); SFU consumers counted %d%s\n",
		w.Forwarded, float64(w.Forwarded)/w.Seconds, w.ServerForwarded, diff)
	if w.ServerStatsError != "" {
		fmt.Printf("  SFU stats failed: %s\n", w.ServerStatsError)
	}
	fmt.Printf("  loss                 %.3f%% (%d of %d; worst track %.3f%%)\n", w.LossPct, w.Lost, w.Expected, w.WorstLossPct)
	if w.NotStarted > 0 {
		fmt.Printf("  WARNING: %d tracks received no media\n", w.NotStarted)
	}
	pids := ""
	if len(b.sfu.pids) > 1 {
		var parts []string
		for i, pid := range b.sfu.pids {
			parts = append(parts, fmt.Sprintf("pid %d: %.2f s", pid, w.SfuCPUByPid[i]))
		}
		pids = " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Printf("  SFU CPU              %.2f s = %.1f%% of a core%s → %.2f µs per forwarded packet\n", w.SfuCPU, w.SfuCPUPct, pids, w.UsPerFwd)
	fmt.Printf("  client CPU           %.1f%% of a core\n", w.ClientCPUPct)
	fmt.Printf("  machine              %.0f%% busy of %d00%% (others %.0f%%); load average %s → %s\n",
		w.MachineBusyPct, w.MachineCPUs, max(0, w.MachineBusyPct-w.SfuCPUPct-w.ClientCPUPct), w.LoadBefore, w.LoadAfter)
}

// underSent reports whether the publishers fell more than 2% behind their
// pace during w (they skip ahead after a stall instead of bursting).
func (b *bench) underSent(w *window) bool {
	return float64(w.Sent) < 0.98*float64(b.cfg.pubs*b.cfg.pps)*w.Seconds
}

func (b *bench) printLatencies(l latencies) {
	fmt.Printf("latency (ms, median / p95 / max over %d tracks):\n", len(l.SubscribeToFirst))
	p := func(name string, v []float64) {
		fmt.Printf("  %-24s %.1f / %.1f / %.1f\n", name, quantile(v, 0.5), quantile(v, 0.95), quantile(v, 1))
	}
	p("subscribe → first RTP", l.SubscribeToFirst)
	p("resume → first RTP", l.ResumeToFirst)
	p("subscribe → connected", l.SubscribeToConn)
}

// result is the JSON output.
type result struct {
	Config    map[string]any `json:"config"`
	Ciphers   map[string]int `json:"srtpCiphers"`
	Windows   []*window      `json:"windows"`
	Latencies *latencies     `json:"latencies,omitempty"`
	Search    *searchResult  `json:"search,omitempty"`
}

type searchResult struct {
	LargestGood int     `json:"largestSubscribersBelowLoss"`
	SfuCPUPct   float64 `json:"sfuCpuPercentAtLargest"`
	PerCore     float64 `json:"subscribersPerSfuCore"`
	FirstBad    int     `json:"smallestLossySubscribers"`
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	if cfg.procs > 0 {
		runtime.GOMAXPROCS(cfg.procs)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg *config) error {
	b := &bench{cfg: cfg, cipher: map[string]int{}}
	var err error
	if cfg.url != "" {
		b.sfu, err = attachSFU(cfg.url)
	} else {
		var args []string
		if cfg.webrtcServer {
			args = append(args, "--webrtc-server")
		}
		if cfg.module != "" {
			args = append(args, "--module", cfg.module)
		}
		b.sfu, err = startSFU(cfg.node, cfg.server, args)
	}
	if err != nil {
		return err
	}
	defer b.sfu.close()
	b.logf("SFU at %s, pids %v", b.sfu.url, b.sfu.pids)

	var info struct {
		RtpCapabilities json.RawMessage `json:"rtpCapabilities"`
		WebRtcServer    bool            `json:"webRtcServer"`
	}
	if err := b.sfu.call("info", nil, &info); err != nil {
		return err
	}
	if cfg.url != "" {
		cfg.webrtcServer = info.WebRtcServer
	}
	if b.caps, err = subscriberCaps(info.RtpCapabilities, cfg.rtcp); err != nil {
		return err
	}
	profile := srtpProfiles[cfg.srtp]
	pubAPI, err := newAPI(profile, cfg.rtcp, true)
	if err != nil {
		return err
	}
	if b.subAPI, err = newAPI(profile, cfg.rtcp, false); err != nil {
		return err
	}

	pctx, stopPubs := context.WithCancel(ctx)
	var pubWG sync.WaitGroup
	defer func() {
		stopPubs()
		pubWG.Wait()
		var wg sync.WaitGroup
		for _, s := range b.subs {
			wg.Add(1)
			go func() { defer wg.Done(); _ = s.pc.Close() }()
		}
		for _, p := range b.pubs {
			_ = p.pc.Close()
		}
		wg.Wait()
	}()
	for i := 0; i < cfg.pubs; i++ {
		sctx, cancel := context.WithTimeout(ctx, cfg.setupTimeout)
		p, err := newPublisher(sctx, b.sfu, pubAPI)
		cancel()
		if err != nil {
			return err
		}
		b.pubs = append(b.pubs, p)
		b.noteCipher(p.cipher)
		pubWG.Add(1)
		go func() { defer pubWG.Done(); p.run(pctx, cfg.pps, cfg.fps, cfg.size) }()
	}
	b.logf("%d publishers sending", cfg.pubs)

	res := &result{Ciphers: b.cipher, Config: map[string]any{
		"pubs": cfg.pubs, "subs": cfg.subs, "fanout": cfg.fanout, "pps": cfg.pps, "fps": cfg.fps, "size": cfg.size,
		"webrtcServer": cfg.webrtcServer, "srtp": cfg.srtp, "rtcp": cfg.rtcp.String(), "module": cfg.module,
		"gomaxprocs": runtime.GOMAXPROCS(0), "duration": cfg.duration.String(), "warmup": cfg.warmup.String(),
	}}
	fmt.Println(b.describe())
	if cfg.search {
		res.Search, err = b.search(ctx, res)
	} else {
		err = b.steady(ctx, res)
	}
	b.checkCiphers()
	if cfg.jsonOut != "" {
		out, _ := json.MarshalIndent(res, "", "  ")
		if werr := os.WriteFile(cfg.jsonOut, append(out, '\n'), 0o644); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// checkCiphers prints the negotiated SRTP profiles and warns when any is
// not the one asked for.
func (b *bench) checkCiphers() {
	want := srtpCipherName[b.cfg.srtp]
	var parts []string
	for c, n := range b.cipher {
		parts = append(parts, fmt.Sprintf("%s on %d PCs", c, n))
	}
	sort.Strings(parts)
	fmt.Printf("SRTP: %s\n", strings.Join(parts, ", "))
	for c := range b.cipher {
		if c != want {
			fmt.Printf("WARNING: profile %s negotiated, %s asked\n", c, want)
		}
	}
}

// steady runs the fixed load: set up, warm up, one window.
func (b *bench) steady(ctx context.Context, res *result) error {
	if err := b.setSubscribers(ctx, b.cfg.subs); err != nil {
		return err
	}
	if missing := b.waitMedia(ctx); missing > 0 {
		fmt.Printf("WARNING: %d tracks received nothing within %s\n", missing, b.cfg.setupTimeout)
	}
	l := b.latencies()
	res.Latencies = &l
	b.logf("warming up %s, then measuring %s", b.cfg.warmup, b.cfg.duration)
	if err := sleep(ctx, b.cfg.warmup); err != nil {
		return err
	}
	w, err := b.measure(ctx, b.cfg.duration)
	if err != nil {
		return err
	}
	res.Windows = append(res.Windows, w)
	b.printLatencies(l)
	b.printWindow(w)
	return nil
}

// search raises the subscribers by -search-step until a window's loss
// reaches -loss (or a subscriber fails to set up or get media), then
// bisects between the last good and the first bad count.
func (b *bench) search(ctx context.Context, res *result) (*searchResult, error) {
	good, bad := -1, -1
	var goodW *window
	m := b.cfg.subs
	fmt.Printf("%8s %12s %9s %10s %9s %10s %10s\n", "subs", "fwd/s", "loss %", "µs/fwd", "SFU %", "client %", "machine %")
	for {
		ok := true
		var w *window
		if err := b.setSubscribers(ctx, m); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			fmt.Printf("%8d set-up failed: %v\n", m, err)
			ok = false
		} else {
			missing := b.waitMedia(ctx)
			if err := sleep(ctx, b.cfg.warmup); err != nil {
				return nil, err
			}
			if w, err = b.measure(ctx, b.cfg.searchWindow); err != nil {
				return nil, err
			}
			res.Windows = append(res.Windows, w)
			// A starved publisher lightens the load: the step does not count.
			under := b.underSent(w)
			ok = missing == 0 && w.NotStarted == 0 && !under && w.LossPct < b.cfg.lossLimit
			note := ""
			switch {
			case under:
				note = "  publishers behind their pace (client starved)"
			case missing > 0 || w.NotStarted > 0:
				note = fmt.Sprintf("  %d tracks without media", max(missing, w.NotStarted))
			}
			fmt.Printf("%8d %12.0f %9.3f %10.2f %9.1f %10.1f %10.0f%s\n", m, float64(w.Forwarded)/w.Seconds, w.LossPct,
				w.UsPerFwd, w.SfuCPUPct, w.ClientCPUPct, w.MachineBusyPct, note)
		}
		if ok {
			good, goodW = m, w
		} else {
			bad = m
		}
		next := 0
		switch {
		case bad < 0:
			next = m + b.cfg.searchStep
			if next > b.cfg.searchMax {
				next = 0
			}
		case good < 0:
			next = m / 2
		case bad-good > b.cfg.searchMinStep:
			next = (good + bad) / 2
		}
		if next < 1 {
			break
		}
		m = next
	}
	sr := &searchResult{LargestGood: good, FirstBad: bad}
	if good < 0 {
		fmt.Printf("no subscriber count had loss below %.2f%%\n", b.cfg.lossLimit)
		return sr, nil
	}
	sr.SfuCPUPct = goodW.SfuCPUPct
	if goodW.SfuCPUPct > 0 {
		sr.PerCore = float64(good) * 100 / goodW.SfuCPUPct
	}
	limit := "search-max reached"
	if bad > 0 {
		limit = fmt.Sprintf("%d had ≥ %.2f%%", bad, b.cfg.lossLimit)
	}
	fmt.Printf("largest subscriber count with loss < %.2f%%: %d (%s); SFU at %.1f%% of a core there → %.0f subscribers per SFU core at %d packets/s\n",
		b.cfg.lossLimit, good, limit, goodW.SfuCPUPct, sr.PerCore, b.cfg.pps)
	return sr, nil
}
