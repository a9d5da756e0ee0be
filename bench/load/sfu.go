package main

// The SFU side of the load generator: starting bench/load/server.js (or
// attaching to one), its HTTP+JSON signalling API, and CPU readings from
// /proc.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// sfu is a running bench/load/server.js.
type sfu struct {
	url    string
	pids   []int
	client *http.Client
	cmd    *exec.Cmd      // nil when attached
	stdin  io.WriteCloser // closing it ends the server (--exit-on-stdin-close)
}

// startSFU runs the server script with node and reads its first stdout
// line ({"port", "pids"}).
func startSFU(node, script string, args []string) (*sfu, error) {
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("%v (run from the repository root, or give -server)", err)
	}
	cmd := exec.Command(node, append([]string{script, "--port", "0", "--exit-on-stdin-close"}, args...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		_, _ = io.Copy(os.Stderr, r) // anything else the server prints
	}()
	var hello struct {
		Port int   `json:"port"`
		Pids []int `json:"pids"`
	}
	select {
	case line := <-lines:
		if err := json.Unmarshal([]byte(line), &hello); err != nil || hello.Port == 0 {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("server did not start (first line %q)", line)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("server did not print its port within 30 s")
	}
	s := newSFUClient(fmt.Sprintf("http://127.0.0.1:%d", hello.Port))
	s.cmd, s.stdin, s.pids = cmd, stdin, hello.Pids
	return s, nil
}

// attachSFU uses a server started by hand (in the same network namespace).
func attachSFU(url string) (*sfu, error) {
	s := newSFUClient(strings.TrimRight(url, "/"))
	var info struct {
		Pids []int `json:"pids"`
	}
	if err := s.call("info", nil, &info); err != nil {
		return nil, err
	}
	s.pids = info.Pids
	return s, nil
}

func newSFUClient(url string) *sfu {
	return &sfu{url: url, client: &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
	}}
}

// call posts req as JSON to /name and decodes the answer into resp.
func (s *sfu) call(name string, req, resp any) error {
	body := []byte("{}")
	if req != nil {
		var err error
		if body, err = json.Marshal(req); err != nil {
			return err
		}
	}
	r, err := s.client.Post(s.url+"/"+name, "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer r.Body.Close()
	out, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if r.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(out, &e)
		return fmt.Errorf("%s: %s (HTTP %d)", name, e.Error, r.StatusCode)
	}
	if resp != nil {
		if err := json.Unmarshal(out, resp); err != nil {
			return fmt.Errorf("%s: decoding %s: %w", name, out, err)
		}
	}
	return nil
}

// close stops a server this process started.
func (s *sfu) close() {
	if s.cmd == nil {
		return
	}
	_ = s.call("shutdown", nil, nil)
	_ = s.stdin.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// serverStats is the server's packet counts per producer and consumer.
type serverStats struct {
	Producers map[string]int64 `json:"producers"`
	Consumers map[string]int64 `json:"consumers"`
}

func (s *sfu) stats() (serverStats, error) {
	var st serverStats
	err := s.call("stats", nil, &st)
	return st, err
}

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on Linux
// everywhere that matters; getconf would need cgo).
const clockTicks = 100

// procCPU is utime+stime of a process, all threads.
func procCPU(pid int) (time.Duration, error) {
	name := "/proc/self/stat"
	if pid > 0 {
		name = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields are counted after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: unexpected format", name)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: unexpected format", name)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: unexpected format", name)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// machineCPU is the busy and total time of all CPUs (/proc/stat), to show
// how much else ran during a window.
func machineCPU() (busy, total time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	var sum, idle int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i >= 8 { // guest times are already in user/nice
			break
		}
		sum += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return time.Duration(sum-idle) * time.Second / clockTicks, time.Duration(sum) * time.Second / clockTicks
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
