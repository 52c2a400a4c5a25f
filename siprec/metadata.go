package siprec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on one metadata document.
const (
	maxMetadataNodes = 20000
	maxMetadataDepth = 64
)

// xnode is one element of a metadata document, named by its local name
// (lower case) whatever its namespace or prefix.
type xnode struct {
	name  string
	attrs map[string]string // local attribute names, lower case
	text  strings.Builder
	kids  []*xnode
}

func (n *xnode) attr(names ...string) string {
	for _, a := range names {
		if v := strings.TrimSpace(n.attrs[a]); v != "" {
			return v
		}
	}
	return ""
}

func (n *xnode) child(name string) *xnode {
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (n *xnode) childText(names ...string) string {
	for _, name := range names {
		if c := n.child(name); c != nil {
			return strings.TrimSpace(c.text.String())
		}
	}
	return ""
}

// ParseMetadata reads a recording metadata document in any of the dialects
// gateways send: RFC 7865 (root recording, namespace
// urn:ietf:params:xml:ns:recording:1), the earlier drafts (root recording,
// namespace urn:ietf:params:xml:ns:recording) and the pre-RFC draft that
// BroadWorks and Webex Calling still send (root recording_metadata,
// namespace urn:ietf:params:xml:ns:siprec). Elements and attributes are
// matched by local name, case-insensitively, so namespaces and prefixes do
// not matter. Both the RFC attributes (participant_id, session_id,
// stream_id) and the draft ones (id, session) are read; send/recv are taken
// from participantstreamassoc and from inside participant (drafts), as text
// or as <id> children (BroadWorks). Stream ids in Send and Recv are resolved
// to SDP labels through the stream elements; an id with no stream element is
// kept as it is. Of several AORs of one participant, the first that names a
// number (see Participant.User) is kept, else the first. The vendors' call
// data, wherever it sits (extensiondata, group, callData), gives Caller
// and Recorded (see callData). Other unknown elements are ignored.
func ParseMetadata(b []byte) (*Metadata, error) {
	root, err := parseXMLTree(b)
	if err != nil {
		return nil, fmt.Errorf("parse metadata: %w: %w", errMalformedMetadata, err)
	}
	if root.name != "recording" && root.name != "recording_metadata" {
		return nil, fmt.Errorf("parse metadata: %w: root element %q, want recording or recording_metadata", errMalformedMetadata, root.name)
	}
	md := &Metadata{}
	byID := make(map[string]int) // participant id -> index in md.Participants
	participant := func(id string) *Participant {
		if i, ok := byID[id]; ok && id != "" {
			return &md.Participants[i]
		}
		byID[id] = len(md.Participants)
		md.Participants = append(md.Participants, Participant{ID: id})
		return &md.Participants[len(md.Participants)-1]
	}
	sessionSeen := false
	for _, n := range root.kids {
		switch n.name {
		case "datamode":
			md.Partial = strings.EqualFold(strings.TrimSpace(n.text.String()), "partial")
		case "session":
			if sessionSeen {
				continue
			}
			sessionSeen = true
			md.SessionID = n.attr("session_id", "id")
			if md.SessionID == "" {
				md.SessionID = n.childText("sipsessionid")
			}
			md.Start = parseTime(n.childText("start-time", "associate-time")) // Oracle: associate-time only
			md.End = parseTime(n.childText("stop-time", "end-time"))
		case "participant":
			p := participant(n.attr("participant_id", "id"))
			readParticipant(p, n)
			// Oracle/Acme: <apkt:callingParty>true</apkt:callingParty>;
			// AudioCodes: <ac:role>caller</ac:role>.
			if (isTrue(findText(n, "callingparty")) || strings.EqualFold(findText(n, "role"), "caller")) && p.AOR != "" {
				md.Caller = p.AOR
			}
		case "participantsessionassoc":
			if id := n.attr("participant_id", "participant", "id"); id != "" {
				readAssociation(participant(id), n)
			}
		case "participantstreamassoc":
			if id := n.attr("participant_id", "participant", "id"); id != "" {
				readSendRecv(participant(id), n)
			}
		case "stream":
			label := n.childText("label")
			if label == "" {
				label = n.attr("label") // seen as an attribute in home-grown clients
			}
			md.Streams = append(md.Streams, StreamInfo{
				ID:    n.attr("stream_id", "id", "streamid"),
				Label: label,
			})
		}
	}
	callData(md, root)
	labels := make(map[string]string, len(md.Streams))
	for _, s := range md.Streams {
		if s.ID != "" && s.Label != "" {
			labels[s.ID] = s.Label
		}
	}
	for i := range md.Participants {
		p := &md.Participants[i]
		p.Send = resolveLabels(p.Send, labels)
		p.Recv = resolveLabels(p.Recv, labels)
	}
	return md, nil
}

// callData reads who called and whom the recording is for from the
// vendors' call data, anywhere in the document, unless a participant's
// own flag already named the caller:
//   - Ribbon: <callData><fromhdr>"A" <sip:+1555...@gw>;tag=..</fromhdr>;
//   - BroadWorks: <callType><origCall|termCall><callingPartyNumber>, and
//     <userID> for the recorded user;
//   - Metaswitch: <recordedParty> (text, an aor attribute or an aor or
//     nameID child) with <callType>originating|terminating</callType>: the
//     recorded party called, or the other party called it.
func callData(md *Metadata, root *xnode) {
	if rec := findNode(root, "recordedparty"); rec != nil {
		md.Recorded = partyOf(rec)
	} else if bw := findNode(root, "broadworksrecordingmetadata"); bw != nil {
		md.Recorded = bw.childText("userid")
	}
	if md.Caller != "" {
		return
	}
	if ct := findNode(root, "calltype"); ct != nil {
		if n := findText(ct, "callingpartynumber"); n != "" {
			md.Caller = n
			return
		}
		switch strings.ToLower(strings.TrimSpace(ct.text.String())) {
		case "originating", "orig", "outgoing", "outbound":
			md.Caller = md.Recorded
			return
		case "terminating", "term", "incoming", "inbound":
			// The recorded party was called: the caller is the other one.
			rec := Participant{AOR: md.Recorded}.User()
			for _, p := range md.Participants {
				if u := p.User(); u != "" && u != rec {
					md.Caller = p.AOR
					return
				}
			}
		}
	}
	if from := findText(root, "fromhdr"); from != "" {
		md.Caller = headerURI(from)
	}
}

// partyOf is the AOR or number an element names: an aor attribute, an
// aor or nameID child, or its text.
func partyOf(n *xnode) string {
	if a := n.attr("aor"); a != "" {
		return a
	}
	if k := n.child("nameid"); k != nil && k.attr("aor") != "" {
		return k.attr("aor")
	}
	if a := n.childText("aor"); a != "" {
		return a
	}
	return strings.TrimSpace(n.text.String())
}

// headerURI is the URI of a From or To header value: inside <> when
// there, without the header's parameters otherwise.
func headerURI(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return strings.TrimSpace(v[i+1 : i+j])
		}
	}
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// findNode returns the first element named name in n's subtree, n
// included, depth first.
func findNode(n *xnode, name string) *xnode {
	if n.name == name {
		return n
	}
	for _, k := range n.kids {
		if f := findNode(k, name); f != nil {
			return f
		}
	}
	return nil
}

// findText is the trimmed text of the first element named name in n's
// subtree.
func findText(n *xnode, name string) string {
	if f := findNode(n, name); f != nil {
		return strings.TrimSpace(f.text.String())
	}
	return ""
}

func isTrue(s string) bool { return strings.EqualFold(s, "true") || s == "1" }

func readParticipant(p *Participant, n *xnode) {
	for _, k := range n.kids {
		switch k.name {
		case "nameid":
			p.AOR = betterAOR(p.AOR, k.attr("aor"))
			if name := k.childText("name"); name != "" {
				p.Name = name
			}
		case "aor": // draft-era documents, BroadWorks
			p.AOR = betterAOR(p.AOR, strings.TrimSpace(k.text.String()))
		case "name":
			if p.Name == "" {
				p.Name = strings.TrimSpace(k.text.String())
			}
		}
	}
	if p.Name == "" {
		p.Name = n.attr("name") // an attribute in some home-grown clients
	}
	readSendRecv(p, n)
	readAssociation(p, n)
}

// betterAOR returns the AOR to keep of a participant's current one and
// another it names: the first that gives a number, else the first.
func betterAOR(cur, next string) string {
	switch {
	case next == "":
		return cur
	case cur == "":
		return next
	case numberOf(cur) == "" && numberOf(next) != "":
		return next
	}
	return cur
}

// readSendRecv reads the send and recv children of n. A stream id is their
// text (RFC 7865) or the text of their id children (BroadWorks' draft:
// <send><id>urn:uuid:...</id></send>).
func readSendRecv(p *Participant, n *xnode) {
	for _, k := range n.kids {
		switch k.name {
		case "send":
			p.Send = appendStreamIDs(p.Send, k)
		case "recv":
			p.Recv = appendStreamIDs(p.Recv, k)
		}
	}
}

func appendStreamIDs(list []string, n *xnode) []string {
	if v := strings.TrimSpace(n.text.String()); v != "" {
		return appendUnique(list, v)
	}
	for _, id := range n.kids {
		if v := strings.TrimSpace(id.text.String()); id.name == "id" && v != "" {
			list = appendUnique(list, v)
		}
	}
	return list
}

func readAssociation(p *Participant, n *xnode) {
	if t := parseTime(n.childText("associate-time")); !t.IsZero() {
		p.Associated = t
	}
	if t := parseTime(n.childText("disassociate-time")); !t.IsZero() {
		p.Disassociated = t
	}
}

func appendUnique(list []string, v string) []string {
	for _, s := range list {
		if s == v {
			return list
		}
	}
	return append(list, v)
}

func resolveLabels(ids []string, labels map[string]string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if l, ok := labels[id]; ok {
			id = l
		}
		out = appendUnique(out, id)
	}
	return out
}

// parseTime reads an xs:dateTime; a value without a zone is taken as UTC.
// An unreadable value gives the zero time: a bad timestamp is not worth
// refusing a recording for.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// parseXMLTree reads a whole document into an element tree.
func parseXMLTree(b []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.CharsetReader = charsetReader
	var (
		root  *xnode
		stack []*xnode
		nodes int
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if nodes++; nodes > maxMetadataNodes {
				return nil, fmt.Errorf("more than %d elements", maxMetadataNodes)
			}
			if len(stack) >= maxMetadataDepth {
				return nil, fmt.Errorf("nested deeper than %d", maxMetadataDepth)
			}
			n := &xnode{name: strings.ToLower(t.Name.Local)}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				if n.attrs == nil {
					n.attrs = make(map[string]string, len(t.Attr))
				}
				n.attrs[strings.ToLower(a.Name.Local)] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// charsetReader accepts the encodings gateways declare: UTF-8 and ASCII as
// they are, ISO-8859-1 converted.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "latin1", "iso8859-1":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b))
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported charset %q", label)
}
