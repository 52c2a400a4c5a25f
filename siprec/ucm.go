package siprec

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Cisco Unified CM records a line through the phone's built-in bridge (or
// a gateway that forks for it) without SIPREC: it places two ordinary SIP
// calls to the recorder, one for each voice, each with one sendonly audio
// stream and no metadata. Its "SIP header enhancement" (UCM 10 and later)
// tells the recorder what the call is about in parameters of the From URI:
//
//	From: <sip:2000@ucm1;x-nearend;x-refci=25139262;x-nearendclusterid=c1;
//	  x-nearenddevice=SEP00AABBCCDDEE;x-nearendaddr=2000;x-farendrefci=25139261;
//	  x-farendclusterid=c1;x-farenddevice=SEP001122334455;x-farendaddr=1000>;tag=a
//
// x-nearend or x-farend says which voice the call carries: the near end is
// the recorded line (the agent), the far end the other party. Both calls
// of a pair carry the same x-refci (the near end's call leg, as UCM's
// call detail records name it) and x-nearenddevice. The user part of the
// URI and x-nearendaddr are the near end's number, x-farendaddr the far
// end's. A transfer or conference that changes the far end arrives as a
// re-INVITE or UPDATE with the new x-farend* values; one that changes the
// near end's call leg ends both calls and places two new ones.

// The roles of a UCM recording call: which voice it carries.
const (
	UCMNear = "near" // the recorded line's own voice (the agent)
	UCMFar  = "far"  // the other party's voice (the customer)
)

// UCMHalf is what one Cisco UCM recording call says of itself: its role
// and the call it records, from the From header's parameters.
type UCMHalf struct {
	// Role is UCMNear or UCMFar.
	Role string
	// RefCI is x-refci, the near end's call leg; FarRefCI x-farendrefci,
	// the far end's. Both are UCM call identifiers, decimal numbers.
	RefCI, FarRefCI string
	// NearDevice and FarDevice are the devices (a phone's SEP name, a
	// trunk or gateway) of either end.
	NearDevice, FarDevice string
	// NearNumber is x-nearendaddr, else the From URI's user part: the
	// recorded line's number. FarNumber is x-farendaddr.
	NearNumber, FarNumber string
	// NearCluster and FarCluster are the UCM cluster ids, where sent.
	NearCluster, FarCluster string
	// NearGUID and FarGUID are the Cisco-Guid of a gateway that forks
	// the media for UCM (network-based recording), where sent.
	NearGUID, FarGUID string
	// Host is the From URI's host: the UCM node that placed the call.
	Host string
	// Caller is the end that placed the recorded call, UCMNear or UCMFar,
	// "" when it cannot be told: what Outbound says of the first INVITE.
	// A later request that names a new far end (with a newer call leg)
	// does not change it: the call was placed when it was placed.
	Caller string
}

// ParseUCM reads a From header value (name-addr or addr-spec, its
// parameters in any order and case, in the URI or after it) and returns
// the UCM recording call it describes; false when it names neither
// x-nearend nor x-farend, or both.
func ParseUCM(from string) (UCMHalf, bool) {
	uri, params := splitFrom(from)
	near, far := params.has("x-nearend"), params.has("x-farend")
	if near == far {
		return UCMHalf{}, false
	}
	h := UCMHalf{
		Role:        UCMNear,
		RefCI:       params.get("x-refci"),
		FarRefCI:    params.get("x-farendrefci"),
		NearDevice:  params.get("x-nearenddevice"),
		FarDevice:   params.get("x-farenddevice"),
		NearNumber:  params.get("x-nearendaddr"),
		FarNumber:   params.get("x-farendaddr"),
		NearCluster: params.get("x-nearendclusterid"),
		FarCluster:  params.get("x-farendclusterid"),
		NearGUID:    params.get("x-nearendguid"),
		FarGUID:     params.get("x-farendguid"),
	}
	if far {
		h.Role = UCMFar
	}
	user, host := userHost(uri)
	h.Host = host
	if h.NearNumber == "" {
		h.NearNumber = user
	}
	if out, known := h.Outbound(); known {
		h.Caller = UCMFar
		if out {
			h.Caller = UCMNear
		}
	}
	return h, true
}

// ucmHalfOf reads the UCM recording call a request's From header
// describes; nil when it describes none.
func ucmHalfOf(req *sip.Request) *UCMHalf {
	f := req.From()
	if f == nil {
		return nil
	}
	h, ok := ParseUCM(f.Value())
	if !ok {
		return nil
	}
	return &h
}

// Key is what pairs the two calls of one recording: the near end's
// cluster, call leg and device (case aside). "" when the call names no
// call leg: it cannot be paired.
func (h UCMHalf) Key() string {
	if h.RefCI == "" {
		return ""
	}
	return strings.ToLower(h.NearCluster + "|" + h.RefCI + "|" + h.NearDevice)
}

// Outbound says who placed the recorded call, where UCM lets it be told.
// No parameter says so; but UCM numbers call legs (the CIs of x-refci and
// x-farendrefci) as it creates them, the calling party's leg first, so the
// end with the lower number called. known is false when either number is
// missing or not a number, or they are equal.
func (h UCMHalf) Outbound() (out, known bool) {
	near, err1 := strconv.ParseUint(h.RefCI, 10, 64)
	far, err2 := strconv.ParseUint(h.FarRefCI, 10, 64)
	if err1 != nil || err2 != nil || near == far {
		return false, false
	}
	return near < far, true
}

// Metadata describes the recorded call as a recording client's metadata
// would: the near end (the party recorded for, and the only one who may
// own the call) sending the stream labelled UCMNear, the far end sending
// UCMFar. The caller is the party Caller names, listed first; when it
// cannot be told, the far end is listed first and named the caller, so
// that the call counts as inbound, as a call whose caller is unknown does.
func (h UCMHalf) Metadata() *Metadata {
	near := Participant{ID: "near:" + h.NearNumber, AOR: h.aor(h.NearNumber),
		Send: []string{UCMNear}, Recv: []string{UCMFar}}
	far := Participant{ID: "far:" + h.FarNumber, AOR: h.aor(h.FarNumber),
		Send: []string{UCMFar}, Recv: []string{UCMNear}}
	md := &Metadata{SessionID: h.RefCI, Recorded: near.AOR, OnlyRecorded: true}
	if h.Caller == UCMNear {
		md.Participants = []Participant{near, far}
		md.Caller = near.AOR
	} else {
		md.Participants = []Participant{far, near}
		md.Caller = far.AOR
	}
	return md
}

// aor is a participant AOR for a UCM number: sip:<number>@<UCM node>; ""
// for no number.
func (h UCMHalf) aor(number string) string {
	if number == "" {
		return ""
	}
	host := h.Host
	if host == "" {
		host = "ucm"
	}
	return "sip:" + number + "@" + host
}

// labelUCM names the streams of a UCM recording call by its role: the
// first audio stream gets the role itself (the label the metadata's
// participants send), any other stream the role and its index. UCM sends
// no a=label, and the two calls' streams must not share one.
func labelUCM(media []MediaStream, role string) []MediaStream {
	out := make([]MediaStream, len(media))
	labelled := false
	for i, m := range media {
		if !labelled && strings.EqualFold(m.Kind, "audio") {
			m.Label, labelled = role, true
		} else {
			m.Label = role + "-" + strconv.Itoa(m.Index)
		}
		out[i] = m
	}
	return out
}

// fromParams are the parameters of a From header, names lower-cased,
// values unescaped, in the order written.
type fromParams []struct{ name, value string }

func (p fromParams) has(name string) bool {
	for _, kv := range p {
		if kv.name == name {
			return true
		}
	}
	return false
}

// get is the first value of name, "" when it has none.
func (p fromParams) get(name string) string {
	for _, kv := range p {
		if kv.name == name {
			return kv.value
		}
	}
	return ""
}

// splitFrom splits a From header value into its URI (without
// parameters) and the parameters of the URI and of the header together;
// tag is left out.
func splitFrom(v string) (string, fromParams) {
	v = strings.TrimSpace(v)
	var uri, rest string
	if i := strings.IndexByte(v, '<'); i >= 0 {
		inner := v[i+1:]
		j := strings.IndexByte(inner, '>')
		if j < 0 {
			j = len(inner)
			rest = ""
		} else {
			rest = inner[j+1:]
		}
		uri = inner[:j]
		if q := strings.IndexByte(uri, '?'); q >= 0 {
			uri = uri[:q] // URI headers
		}
		if k := paramsAt(uri); k >= 0 {
			rest = uri[k:] + ";" + rest
			uri = uri[:k]
		}
	} else {
		uri, rest = v, "" // addr-spec: its parameters are the header's
		if k := paramsAt(v); k >= 0 {
			uri, rest = v[:k], v[k:]
		}
	}
	var params fromParams
	for f := range strings.SplitSeq(rest, ";") {
		name, value, _ := strings.Cut(f, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" || name == "tag" {
			continue
		}
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if u, err := url.PathUnescape(value); err == nil {
			value = u
		}
		params = append(params, struct{ name, value string }{name, value})
	}
	return strings.TrimSpace(uri), params
}

// paramsAt is where the parameters of a URI begin (its first ";" after
// the user part), -1 when it has none.
func paramsAt(uri string) int {
	at := strings.IndexByte(uri, '@')
	if k := strings.IndexByte(uri[at+1:], ';'); k >= 0 {
		return at + 1 + k
	}
	return -1
}

// userHost returns the user part and host of a sip:, sips: or tel: URI
// without parameters.
func userHost(uri string) (user, host string) {
	if i := strings.IndexByte(uri, ':'); i >= 0 {
		switch strings.ToLower(uri[:i]) {
		case "sip", "sips":
			uri = uri[i+1:]
		case "tel":
			return uri[i+1:], ""
		}
	}
	user, host, ok := strings.Cut(uri, "@")
	if !ok {
		return "", user
	}
	if u, err := url.PathUnescape(user); err == nil {
		user = u
	}
	return user, host
}
