package media

import (
	"encoding/binary"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestParseStamp reads SCM_TIMESTAMPNS from control messages as Linux
// lays them out, after another message, and refuses truncated ones.
func TestParseStamp(t *testing.T) {
	if !stampLayout {
		t.Skip("no 64-bit control messages here")
	}
	cmsg := func(level, typ int32, data []byte) []byte {
		b := make([]byte, 16, 16+(len(data)+7)&^7)
		binary.NativeEndian.PutUint64(b, uint64(16+len(data)))
		binary.NativeEndian.PutUint32(b[8:], uint32(level))
		binary.NativeEndian.PutUint32(b[12:], uint32(typ))
		b = append(b, data...)
		return append(b, make([]byte, cap(b)-len(b))...)
	}
	ts := make([]byte, 16)
	binary.NativeEndian.PutUint64(ts, 1_700_000_000)
	binary.NativeEndian.PutUint64(ts[8:], 123_456_789)
	want := time.Unix(1_700_000_000, 123_456_789)
	other := cmsg(syscall.IPPROTO_IP, 8, []byte{1, 2, 3, 4}) // IP_TTL-like, padded to 24 bytes
	stamp := cmsg(syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, ts)
	for _, c := range []struct {
		name string
		oob  []byte
		ok   bool
	}{
		{"alone", stamp, true},
		{"after another", append(append([]byte{}, other...), stamp...), true},
		{"none", other, false},
		{"empty", nil, false},
		{"truncated", stamp[:24], false},
		{"bad length", append(append([]byte{}, stamp[:8]...), 0xFF), false},
	} {
		got, ok := parseStamp(c.oob)
		if ok != c.ok || (ok && !got.Equal(want)) {
			t.Errorf("%s: %v, %v; want %v, %v", c.name, got, ok, want, c.ok)
		}
	}
}

// TestPacketReaderUDP: on a UDP socket the reader gives each datagram its
// source and an arrival time from the kernel (taken before the read, not
// when it returns), and does not allocate.
func TestPacketReaderUDP(t *testing.T) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rd := newPacketReader(conn, nil)
	if stampLayout && !rd.stamps {
		t.Fatalf("kernel timestamps not enabled")
	}
	client, err := net.DialUDP("udp", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// A datagram is read 20 ms after it was sent: the kernel's stamp is
	// from before the read. The kernel turns stamping on for the whole
	// system a moment after the first socket asks (until then it stamps at
	// the read), so a few tries are allowed.
	buf := make([]byte, 64)
	stamped := false
	for try := 0; try < 5 && !stamped; try++ {
		if _, err := client.Write([]byte("rtp")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		readAt := time.Now()
		n, from, at, err := rd.read(buf)
		if err != nil || string(buf[:n]) != "rtp" || from != client.LocalAddr().(*net.UDPAddr).AddrPort() {
			t.Fatalf("read %q from %v: %v", buf[:n], from, err)
		}
		stamped = readAt.Sub(at) > 10*time.Millisecond
	}
	if stampLayout && !stamped {
		t.Errorf("arrival times are the read's, not the kernel's")
	}
	for range 101 { // AllocsPerRun reads once more than it counts
		if _, err := client.Write([]byte("rtp")); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, _, err := rd.read(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per read", allocs)
	}
}
