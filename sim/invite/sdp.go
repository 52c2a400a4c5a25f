package invite

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"
)

// ipVersion is "IP6" for an IPv6 host, else "IP4".
func ipVersion(host string) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() && !a.Is4In6() {
		return "IP6"
	}
	return "IP4"
}

// SDP returns the offer: two sendonly audio streams labelled 1 and 2, the
// codec with telephone-event and CN as CUBE lists them, 20 ms packets.
func (o Offer) SDP() string {
	ipv := ipVersion(o.Host)
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=CiscoSystemsSIP-GW-UserAgent %d %d IN %s %s\r\ns=SIP Call\r\nc=IN %s %s\r\nt=0 0\r\n",
		1000+o.Index%9000, 2000+o.Index%9000, ipv, o.Host, ipv, o.Host)
	proto := "RTP/AVP"
	if o.Keys[0] != nil {
		proto = "RTP/SAVP"
	}
	c := o.Codec
	for leg := range 2 {
		fmt.Fprintf(&b, "m=audio %d %s %d 101 19\r\nc=IN %s %s\r\n", o.Ports[leg], proto, c.PT, ipv, o.Host)
		fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", c.PT, c.Name)
		if c.Fmtp != "" {
			fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", c.PT, c.Fmtp)
		}
		b.WriteString("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=rtpmap:19 CN/8000\r\na=ptime:20\r\n")
		if o.Keys[leg] != nil {
			fmt.Fprintf(&b, "a=crypto:1 %s inline:%s\r\n", SRTPSuite, base64.StdEncoding.EncodeToString(o.Keys[leg]))
		}
		fmt.Fprintf(&b, "a=sendonly\r\na=label:%d\r\n", leg+1)
	}
	return b.String()
}
