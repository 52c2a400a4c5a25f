package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

// TestFloodsDuringACall: while a gateway's call is recorded, a host
// outside the allow-list holds 200 TCP connections (100 idle, 100
// trickling an INVITE's headers a byte at a time) and sends 20,000 junk
// UDP datagrams (random bytes, SIPREC INVITEs, OPTIONS) from 500 ports.
// The call is recorded complete; every slow connection is closed (at
// once over the per-source cap, else after idle_timeout or 10 s of
// unfinished headers); no junk INVITE gets a session; the daemon's
// descriptors, goroutines and connections return to where they were.
func TestFloodsDuringACall(t *testing.T) {
	testaudio.Require(t, "sipp", "ffprobe", "ffmpeg")
	const seconds = 14.0
	d := startDaemon(t, daemonOptions{recordUnknown: true, sip: `allow = ["127.0.0.1"]` + "\n" + `idle_timeout = "5s"`})
	before := d.process()

	s := d.setup(callSpec{scenario: "cube-invite.xml", transport: "t1", caller: "5551000", callee: "5552000", codec: "PCMU"})
	var wg sync.WaitGroup
	wg.Go(func() { s.send("PCMU", seconds) })

	closed := make(chan time.Duration, 200)
	start := time.Now()
	for i := range 200 {
		c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.sipPort))
		if err != nil {
			t.Fatalf("slow connection %d: %v", i, err)
		}
		defer c.Close()
		go slowPeer(c, i%2 == 1, start, closed)
	}
	junk := junkFlood(t, d.sipPort, 20000, 500)
	time.Sleep(2 * time.Second)
	during := d.process()

	for i := range 200 {
		select {
		case <-closed:
		case <-time.After(60 * time.Second):
			t.Fatalf("only %d of 200 slow connections were closed by the daemon", i)
		}
	}
	wg.Wait()
	rec := s.hangUp()
	checkComplete(t, "the call during the floods", rec, seconds)
	exportAndDecode(t, d, rec)

	var st control.Status
	d.cliJSON(&st, "status")
	if st.CallsTotal != 1 {
		t.Errorf("%d calls admitted, want the gateway's only (junk INVITEs admitted)", st.CallsTotal)
	}
	if log := d.stderr.String(); strings.Contains(log, "source=127.0.0.2") && strings.Contains(log, `msg="recording started" source=127.0.0.2`) {
		t.Error("a session was started for the flooding host")
	}
	// The daemon's own state drains on its own; give it a few seconds.
	var after control.Process
	deadline := time.Now().Add(20 * time.Second)
	for {
		after = d.process()
		if after.SIPConnections == 0 && after.OpenFiles <= before.OpenFiles+2 && after.Goroutines <= before.Goroutines+10 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("after the floods: %+v; before: %+v", after, before)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("junk datagrams sent: %d", junk)
	for _, p := range []struct {
		when string
		p    control.Process
	}{{"before", before}, {"during", during}, {"after", after}} {
		t.Logf("%-6s goroutines %4d  open files %4d  sip connections %4d  RSS %6.1f MiB", p.when,
			p.p.Goroutines, p.p.OpenFiles, p.p.SIPConnections, float64(p.p.RSSBytes)/(1<<20))
	}
}

// process reads the daemon's process figures from status.
func (d *daemonProc) process() control.Process {
	d.t.Helper()
	var st control.Status
	d.cliJSON(&st, "status")
	return st.Process
}

// slowPeer is a scanner's connection: idle, or trickling the start of an
// INVITE a byte every 200 ms. It reports when the daemon closes it.
func slowPeer(c net.Conn, trickle bool, start time.Time, closed chan<- time.Duration) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			c.SetReadDeadline(time.Now().Add(90 * time.Second))
			if _, err := c.Read(buf); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					return // never closed: the test times out waiting
				}
				closed <- time.Since(start)
				return
			}
		}
	}()
	if !trickle {
		<-done
		return
	}
	msg := "INVITE sip:7777@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.2:5060;branch=z9hG4bK-slow\r\n" + strings.Repeat("X-Pad: slowly\r\n", 100)
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		case <-time.After(200 * time.Millisecond):
		}
		if _, err := c.Write([]byte{msg[i%len(msg)]}); err != nil {
			<-done
			return
		}
	}
}

// junkFlood sends n datagrams from ports sockets on 127.0.0.2: random
// bytes, SIPREC-shaped INVITEs with fresh Call-IDs, and OPTIONS. It
// returns how many were sent.
func junkFlood(t *testing.T, port, n, ports int) int {
	t.Helper()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	var socks []*net.UDPConn
	for range ports {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		socks = append(socks, c)
	}
	// Drain what the daemon answers, so that our buffers never block it.
	for _, c := range socks {
		go io.Copy(io.Discard, udpReader{c})
	}
	invite := sippMessage(t, "cube-invite.xml", 0, map[string]string{"local_ip": "127.0.0.2", "local_port": "5060",
		"remote_ip": "127.0.0.1", "remote_port": fmt.Sprint(port), "transport": "UDP", "fromtag": "junk",
		"caller": "5551000", "callee": "5552000", "codecpt": "0", "codecname": "PCMU", "branch": "z9hG4bK-junk"})
	sent := 0
	rnd := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1400)
	for i := range n {
		var msg []byte
		switch i % 4 {
		case 0, 1:
			for j := range buf {
				buf[j] = byte(rnd.Uint32())
			}
			msg = buf[:100+rnd.IntN(1300)]
		case 2:
			msg = []byte(strings.Replace(strings.Replace(invite, "[call_id]", fmt.Sprintf("junk-%d@127.0.0.2", i), 1),
				"z9hG4bK-junk", fmt.Sprintf("z9hG4bK-junk-%d", i), 1))
		case 3:
			msg = []byte(fmt.Sprintf("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-o%d\r\n"+
				"From: <sip:junk@127.0.0.2>;tag=j\r\nTo: <sip:127.0.0.1>\r\nCall-ID: opt-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", i, i))
		}
		if _, err := socks[i%len(socks)].WriteToUDP(msg, to); err == nil {
			sent++
		}
	}
	return sent
}

type udpReader struct{ c *net.UDPConn }

func (r udpReader) Read(b []byte) (int, error) {
	r.c.SetReadDeadline(time.Now().Add(60 * time.Second))
	n, _, err := r.c.ReadFromUDP(b)
	return n, err
}
