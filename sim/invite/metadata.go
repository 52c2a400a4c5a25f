package invite

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// Kinds of metadata ids (a byte of the id).
const (
	idSession byte = iota + 1
	idParticipant1
	idParticipant2
	idStream1
	idStream2
)

// Metadata returns the RFC 7865 document in CUBE's shape: the session,
// each participant with its nameID and its association to the session,
// the two streams by label, and who sends and receives which.
func (o Offer) Metadata() string {
	start := o.Start.UTC().Format("2006-01-02T15:04:05.000Z")
	sess := o.id(idSession)
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<recording xmlns='urn:ietf:params:xml:ns:recording:1'>\r\n")
	b.WriteString("  <datamode>complete</datamode>\r\n")
	fmt.Fprintf(&b, "  <session session_id=\"%s\">\r\n    <sipSessionID>%s</sipSessionID>\r\n    <start-time>%s</start-time>\r\n",
		sess, o.SessionID(), start)
	if o.Extension {
		fmt.Fprintf(&b, "    <extensiondata xmlns:cisco='http://www.cisco.com/siprec'>\r\n      <cisco:guid>%s</cisco:guid>\r\n      <cisco:direction>outbound</cisco:direction>\r\n    </extensiondata>\r\n", o.CiscoGUID())
	}
	b.WriteString("  </session>\r\n")
	parties := []struct {
		id, aor, name string
	}{
		{o.id(idParticipant1), "sip:" + o.Owner + "@" + hostInURI(o.Host), o.OwnerName},
		{o.id(idParticipant2), "sip:" + o.Remote + "@" + hostInURI(o.Host), ""},
	}
	for _, p := range parties {
		fmt.Fprintf(&b, "  <participant participant_id=\"%s\">\r\n    <nameID aor=\"%s\">\r\n", p.id, escape(p.aor))
		if p.name != "" {
			fmt.Fprintf(&b, "      <name>%s</name>\r\n", escape(p.name))
		}
		b.WriteString("    </nameID>\r\n  </participant>\r\n")
		fmt.Fprintf(&b, "  <participantsessionassoc participant_id=\"%s\" session_id=\"%s\">\r\n    <associate-time>%s</associate-time>\r\n  </participantsessionassoc>\r\n",
			p.id, sess, start)
	}
	streams := []string{o.id(idStream1), o.id(idStream2)}
	for i, s := range streams {
		fmt.Fprintf(&b, "  <stream stream_id=\"%s\" session_id=\"%s\">\r\n    <label>%d</label>\r\n  </stream>\r\n", s, sess, i+1)
	}
	for i, p := range parties {
		fmt.Fprintf(&b, "  <participantstreamassoc participant_id=\"%s\">\r\n    <send>%s</send>\r\n    <recv>%s</recv>\r\n  </participantstreamassoc>\r\n",
			p.id, streams[i], streams[1-i])
	}
	b.WriteString("</recording>\r\n")
	return b.String()
}

// hostInURI brackets an IPv6 address for a SIP URI.
func hostInURI(host string) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		return "[" + host + "]"
	}
	return host
}

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
