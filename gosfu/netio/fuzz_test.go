package netio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

// checkFrames reads frames from f into a buffer of bufSize bytes until an
// error, checking each against RFC 4571 framing of stream.
func checkFrames(t *testing.T, f *FramedConn, stream []byte, bufSize int) {
	t.Helper()
	buf := make([]byte, bufSize)
	rest := stream
	for {
		b, err := f.ReadFrame(buf)
		if len(rest) < 2 {
			if err == nil {
				t.Fatalf("frame %x read past the end of the stream", b)
			}
			if len(rest) == 0 && !errors.Is(err, io.EOF) {
				t.Fatalf("end of stream at a frame boundary: %v, want EOF", err)
			}
			return
		}
		n := int(binary.BigEndian.Uint16(rest))
		switch {
		case n > bufSize:
			if err == nil {
				t.Fatalf("frame of %d bytes read into a buffer of %d", n, bufSize)
			}
			return
		case len(rest)-2 < n:
			if err == nil {
				t.Fatalf("truncated frame of %d bytes returned", n)
			}
			return
		case err != nil:
			t.Fatalf("frame of %d bytes: %v", n, err)
		}
		if !bytes.Equal(b, rest[2:2+n]) {
			t.Fatalf("frame % x, want % x", b, rest[2:2+n])
		}
		if n > 0 && &b[0] != &buf[0] {
			t.Fatal("frame not read into the caller's buffer")
		}
		rest = rest[2+n:]
	}
}

// FuzzReadFrame feeds arbitrary byte streams, written in arbitrary
// pieces, to FramedConn.ReadFrame over a net.Pipe: every complete frame
// that fits comes out as sent, then an error; never a panic, a frame
// longer than the buffer or one cut short.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 1, 7, 0, 0, 0, 3, 1, 2, 3}, uint16(MaxFrameSize), uint8(1))
	f.Add([]byte{0, 4, 1, 2}, uint16(MaxFrameSize), uint8(3))
	f.Add([]byte{0xff, 0xff}, uint16(MaxFrameSize), uint8(0))
	f.Add([]byte{0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, uint16(4), uint8(0))
	f.Add([]byte{0}, uint16(0), uint8(0))
	f.Add([]byte{}, uint16(1500), uint8(0))
	f.Fuzz(func(t *testing.T, stream []byte, bufSize uint16, piece uint8) {
		a, b := net.Pipe()
		defer a.Close()
		go func() {
			defer b.Close()
			rest := stream
			for len(rest) > 0 {
				n := min(len(rest), int(piece)+1)
				if _, err := b.Write(rest[:n]); err != nil {
					return
				}
				rest = rest[n:]
			}
		}()
		checkFrames(t, NewFramedConn(a), stream, int(bufSize))
	})
}

func TestTuples(t *testing.T) {
	cases := []struct {
		local     string
		announced string
		remote    string
		want      Tuple
	}{
		{"127.0.0.1:4000", "", "", Tuple{LocalIP: "127.0.0.1", LocalAddress: "127.0.0.1", LocalPort: 4000, Protocol: "udp"}},
		{"[::ffff:10.0.0.1]:5", "sfu.example.com", "[::ffff:10.0.0.2]:6",
			Tuple{LocalIP: "sfu.example.com", LocalAddress: "sfu.example.com", LocalPort: 5, RemoteIP: "10.0.0.2", RemotePort: 6, Protocol: "udp"}},
		{"[::1]:7", "", "[2001:db8::1]:8", Tuple{LocalIP: "::1", LocalAddress: "::1", LocalPort: 7, RemoteIP: "2001:db8::1", RemotePort: 8, Protocol: "udp"}},
	}
	for _, c := range cases {
		got := LocalTuple(netip.MustParseAddrPort(c.local), c.announced, "udp")
		if c.remote != "" {
			got = got.WithRemote(netip.MustParseAddrPort(c.remote))
		}
		if got != c.want {
			t.Errorf("%s/%s/%s: %+v, want %+v", c.local, c.announced, c.remote, got, c.want)
		}
	}
}

func TestListenInfoErrors(t *testing.T) {
	cases := []struct {
		name string
		info ListenInfo
		min  int
		max  int
	}{
		{"bad IP", ListenInfo{IP: "300.1.1.1"}, 10000, 20000},
		{"empty IP", ListenInfo{}, 10000, 20000},
		{"reversed range", ListenInfo{IP: "127.0.0.1", PortRange: &PortRange{Min: 5000, Max: 4000}}, 1, 2},
		{"range from zero", ListenInfo{IP: "127.0.0.1"}, 0, 10},
		{"range past 65535", ListenInfo{IP: "127.0.0.1", PortRange: &PortRange{Min: 65000, Max: 70000}}, 1, 2},
	}
	for _, c := range cases {
		if conn, err := ListenUDP(c.info, c.min, c.max); !errors.Is(err, ErrInvalid) {
			if conn != nil {
				conn.Close()
			}
			t.Errorf("UDP %s: %v, want ErrInvalid", c.name, err)
		}
		if ln, err := ListenTCP(c.info, c.min, c.max); !errors.Is(err, ErrInvalid) {
			if ln != nil {
				ln.Close()
			}
			t.Errorf("TCP %s: %v, want ErrInvalid", c.name, err)
		}
	}
	// An address this host does not have: the bind error itself, not a
	// search through the whole range.
	if conn, err := ListenUDP(ListenInfo{IP: "192.0.2.1"}, 40000, 40010); err == nil || errors.Is(err, ErrNoPort) {
		if conn != nil {
			conn.Close()
		}
		t.Errorf("foreign address: %v, want the bind error", err)
	}
}

func TestListenOptions(t *testing.T) {
	// Buffer sizes and udpReusePort: two sockets may share the port.
	info := ListenInfo{IP: "127.0.0.1", SendBufferSize: 1 << 16, RecvBufferSize: 1 << 16, Flags: &Flags{UDPReusePort: true}}
	a, err := ListenUDP(info, 30000, 39999)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	info.Port = a.LocalAddr().(*net.UDPAddr).Port
	b, err := ListenUDP(info, 1, 2)
	if err != nil {
		t.Fatalf("udpReusePort: %v", err)
	}
	b.Close()
	// Without it the port is taken.
	info.Flags = nil
	if c, err := ListenUDP(info, 1, 2); err == nil {
		c.Close()
		t.Fatal("a second socket took the port without udpReusePort")
	}
	// IPv6 where the host has it.
	if c, err := ListenUDP(ListenInfo{IP: "::1"}, 30000, 39999); err == nil {
		if got := c.LocalAddr().(*net.UDPAddr).IP.String(); got != "::1" {
			t.Errorf("IPv6 socket bound on %s", got)
		}
		c.Close()
	}
	if ln, err := ListenTCP(ListenInfo{IP: "::1"}, 30000, 39999); err == nil {
		ln.Close()
	}
}

func TestFramedConnReadDeadlineAndLimits(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	f := NewFramedConn(a)
	if f.Local.IsValid() || f.Remote.IsValid() {
		t.Fatalf("a pipe has no TCP addresses: %v %v", f.Local, f.Remote)
	}
	if err := f.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFrame(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("past deadline: %v", err)
	}
	if err := f.WriteFrame(make([]byte, MaxFrameSize+1)); err == nil {
		t.Fatal("a frame over 65535 bytes was written")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteFrame([]byte{1}); err == nil {
		t.Fatal("write on a closed connection succeeded")
	}
}
