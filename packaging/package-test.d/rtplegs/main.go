// Command rtplegs plays the media side of a SIPREC gateway for
// packaging/package-test: it reads `callvault calls --json` on stdin, finds
// the recording session by its Call-ID and streams a tone on each of its two
// labelled legs (G.711 µ-law, 20 ms packets in real time) to the RTP ports
// the recorder answered, from the ports the gateway's SDP offered.
//
//	callvault calls --json | rtplegs -call ID [-from 127.0.0.9] [-seconds 5]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/callvault/callvault/daemon/control"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rtplegs:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("rtplegs", flag.ContinueOnError)
	callID := fs.String("call", "", "Call-ID of the recording session (required)")
	from := fs.String("from", "127.0.0.9", "the gateway's address: the SDP's c= line")
	to := fs.String("to", "127.0.0.1", "the recorder's RTP address")
	port1 := fs.Int("port1", 17000, "the gateway's RTP port of the stream labelled 1 (the SDP's)")
	port2 := fs.Int("port2", 17002, "the same for the stream labelled 2")
	seconds := fs.Float64("seconds", 5, "how long each leg sends")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *callID == "" {
		return errors.New("-call is required")
	}
	ports, err := legPorts(stdin, *callID)
	if err != nil {
		return err
	}
	src, dst := net.ParseIP(*from), net.ParseIP(*to)
	if src == nil || dst == nil {
		return fmt.Errorf("-from %q, -to %q: want IP addresses", *from, *to)
	}
	samples := int(*seconds * sampleRate)
	legs := []leg{
		{from: &net.UDPAddr{IP: src, Port: *port1}, to: &net.UDPAddr{IP: dst, Port: ports["1"]}, ssrc: 0x5e1, audio: ulaw(tone(400, samples))},
		{from: &net.UDPAddr{IP: src, Port: *port2}, to: &net.UDPAddr{IP: dst, Port: ports["2"]}, ssrc: 0x5e2, audio: ulaw(tone(1000, samples))},
	}
	packets, err := sendPaced(legs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sent %d packets on each leg: 400 Hz from %s to %s, 1000 Hz from %s to %s\n",
		packets, legs[0].from, legs[0].to, legs[1].from, legs[1].to)
	return nil
}

// legPorts decodes the live calls and returns the recorder's RTP port of
// each labelled leg of the call, which must have legs 1 and 2.
func legPorts(r io.Reader, callID string) (map[string]int, error) {
	var calls []control.Call
	if err := json.NewDecoder(r).Decode(&calls); err != nil {
		return nil, fmt.Errorf("read `callvault calls --json`: %w", err)
	}
	for _, c := range calls {
		if c.ID != callID {
			continue
		}
		ports := map[string]int{}
		for _, l := range c.Legs {
			ports[l.Label] = l.Port
		}
		if ports["1"] == 0 || ports["2"] == 0 {
			return nil, fmt.Errorf("call %s has legs %+v: want labels 1 and 2 with ports", callID, c.Legs)
		}
		return ports, nil
	}
	return nil, fmt.Errorf("call %s is not among the %d live calls", callID, len(calls))
}
