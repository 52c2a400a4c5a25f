package siprec

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// frameRun is what a framer made of a stream: the offsets just past each
// message, where it stopped and why, and its phase at the end.
type frameRun struct {
	ends  []int
	errAt int // offset just past the offending byte; -1 when framed
	err   string
	phase framePhase
}

// runFramer feeds data to a new framer in chunks of size bytes (all at
// once when size <= 0).
func runFramer(t testing.TB, maxHeader int, data []byte, size int) frameRun {
	t.Helper()
	f := newFramer(maxHeader)
	run := frameRun{errAt: -1}
	if size <= 0 {
		size = len(data)
	}
	pos := 0
	for pos < len(data) && f.err == nil {
		chunk := data[pos:min(pos+size, len(data))]
		off := 0
		for off < len(chunk) {
			n, done := f.feed(chunk[off:])
			if n < 0 || n > len(chunk)-off {
				t.Fatalf("feed consumed %d of %d bytes", n, len(chunk)-off)
			}
			off += n
			if done {
				run.ends = append(run.ends, pos+off)
			}
			if f.err != nil {
				run.errAt, run.err = pos+off, f.err.Error()
				break
			}
			if n == 0 {
				t.Fatalf("feed consumed nothing of %q without an error", chunk[off:])
			}
		}
		pos += len(chunk)
	}
	run.phase = f.phase
	return run
}

// sameRun checks that data is framed the same however it is chunked, and
// returns the framing.
func sameRun(t *testing.T, maxHeader int, data []byte) frameRun {
	t.Helper()
	whole := runFramer(t, maxHeader, data, 0)
	for _, size := range []int{1, 2, 3, 7, 64} {
		got := runFramer(t, maxHeader, data, size)
		if !equalRuns(got, whole) {
			t.Fatalf("chunks of %d: %+v, whole: %+v", size, got, whole)
		}
	}
	return whole
}

func equalRuns(a, b frameRun) bool {
	if len(a.ends) != len(b.ends) || a.errAt != b.errAt || a.err != b.err || a.phase != b.phase {
		return false
	}
	for i := range a.ends {
		if a.ends[i] != b.ends[i] {
			return false
		}
	}
	return true
}

func sipMsg(startLine string, headers []string, body string) string {
	var b strings.Builder
	b.WriteString(startLine + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.String()
}

var (
	sdpBody   = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	inviteMsg = sipMsg("INVITE sip:rec@192.0.2.9 SIP/2.0", []string{
		"Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-1",
		"From: <sip:src@192.0.2.1>;tag=a",
		"To: <sip:rec@192.0.2.9>",
		"Call-ID: framer-1",
		"CSeq: 1 INVITE",
		"Content-Type: application/sdp",
		"Content-Length: " + strconv.Itoa(len(sdpBody)),
	}, sdpBody)
	optionsMsg = sipMsg("OPTIONS sip:rec@192.0.2.9 SIP/2.0", []string{
		"Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-2",
		"Call-ID: framer-2",
		"CSeq: 2 OPTIONS",
		"Content-Length: 0",
	}, "")
)

func TestFramerOneMessage(t *testing.T) {
	run := sameRun(t, 0, []byte(inviteMsg))
	if len(run.ends) != 1 || run.ends[0] != len(inviteMsg) || run.errAt != -1 || run.phase != frameIdle {
		t.Fatalf("got %+v, want one message of %d bytes", run, len(inviteMsg))
	}
}

func TestFramerPhases(t *testing.T) {
	f := newFramer(0)
	head := inviteMsg[:strings.Index(inviteMsg, "\r\n\r\n")+4]
	if f.phase != frameIdle {
		t.Fatalf("new framer in %v", f.phase)
	}
	f.feed([]byte("\r\n\r\n"))
	if f.phase != frameIdle || f.starts != 0 {
		t.Fatalf("after a keep-alive: %v, %d starts", f.phase, f.starts)
	}
	f.feed([]byte("I"))
	if f.phase != frameHeader || f.starts != 1 {
		t.Fatalf("after the first byte: %v, %d starts", f.phase, f.starts)
	}
	f.feed([]byte(head[1 : len(head)-1]))
	if f.phase != frameHeader {
		t.Fatalf("one byte before the blank line ends: %v", f.phase)
	}
	if n, done := f.feed([]byte(head[len(head)-1:])); n != 1 || done || f.phase != frameBody {
		t.Fatalf("at the blank line: n=%d done=%v phase %v", n, done, f.phase)
	}
	// The body split across reads.
	body := []byte(sdpBody)
	if n, done := f.feed(body[:10]); n != 10 || done || f.phase != frameBody {
		t.Fatalf("part of the body: n=%d done=%v phase %v", n, done, f.phase)
	}
	if n, done := f.feed(body[10:]); n != len(body)-10 || !done || f.phase != frameIdle {
		t.Fatalf("rest of the body: n=%d done=%v phase %v", n, done, f.phase)
	}
}

func TestFramerPipelined(t *testing.T) {
	data := inviteMsg + optionsMsg + inviteMsg
	run := sameRun(t, 0, []byte(data))
	want := []int{len(inviteMsg), len(inviteMsg) + len(optionsMsg), len(data)}
	if !equalRuns(run, frameRun{ends: want, errAt: -1, phase: frameIdle}) {
		t.Fatalf("got %+v, want ends %v", run, want)
	}
	// feed stops at each message's end, even when more follows.
	f := newFramer(0)
	n, done := f.feed([]byte(data))
	if n != len(inviteMsg) || !done {
		t.Fatalf("first feed of pipelined messages: n=%d done=%v", n, done)
	}
}

func TestFramerKeepAlives(t *testing.T) {
	// RFC 5626 pings and pongs before, between and after messages.
	data := "\r\n\r\n" + optionsMsg + "\r\n" + "\r\n\r\n" + inviteMsg + "\r\n"
	run := sameRun(t, 0, []byte(data))
	first := 4 + len(optionsMsg)
	want := []int{first, first + 6 + len(inviteMsg)}
	if !equalRuns(run, frameRun{ends: want, errAt: -1, phase: frameIdle}) {
		t.Fatalf("got %+v, want ends %v", run, want)
	}
	f := newFramer(0)
	for range 100 {
		f.feed([]byte("\r\n\r\n"))
	}
	if f.phase != frameIdle || f.starts != 0 {
		t.Fatalf("after keep-alives only: %v, %d starts", f.phase, f.starts)
	}
}

func TestFramerContentLengthForms(t *testing.T) {
	body := "hello, world"
	for _, tc := range []struct {
		name   string
		header string
	}{
		{"compact", "l: 12"},
		{"compact upper", "L:12"},
		{"mixed case", "cOnTeNt-LeNgTh: 12"},
		{"space before colon", "Content-Length  :  12  "},
		{"tab", "Content-Length:\t12"},
		{"leading zeros", "Content-Length: 0012"},
		{"folded", "Content-Length:\r\n 12"},
		{"repeated alike", "Content-Length: 12\r\nl: 12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := sipMsg("MESSAGE sip:a@b SIP/2.0", []string{"Call-ID: x", tc.header, "X-Length: 99"}, body)
			data := msg + optionsMsg
			run := sameRun(t, 0, []byte(data))
			want := []int{len(msg), len(data)}
			if !equalRuns(run, frameRun{ends: want, errAt: -1, phase: frameIdle}) {
				t.Fatalf("got %+v, want ends %v", run, want)
			}
		})
	}
	// Names that only look like Content-Length do not frame the body.
	for _, h := range []string{"Content-Lengths: 12", "X-Content-Length: 12", "ll: 12", "Content: 12", "Subject: l: 12"} {
		msg := sipMsg("MESSAGE sip:a@b SIP/2.0", []string{h}, "")
		run := sameRun(t, 0, []byte(msg+optionsMsg))
		if len(run.ends) != 2 || run.ends[0] != len(msg) {
			t.Errorf("%q: got %+v, want a message without body first", h, run)
		}
	}
}

func TestFramerMissingLengthAndBareLF(t *testing.T) {
	noLen := "ACK sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n"
	bareLF := "MESSAGE sip:a@b SIP/2.0\nl: 3\n\nabc"
	data := noLen + bareLF + optionsMsg
	run := sameRun(t, 0, []byte(data))
	want := []int{len(noLen), len(noLen) + len(bareLF), len(data)}
	if !equalRuns(run, frameRun{ends: want, errAt: -1, phase: frameIdle}) {
		t.Fatalf("got %+v, want ends %v", run, want)
	}
}

func TestFramerOversizeHeader(t *testing.T) {
	big := sipMsg("INVITE sip:a@b SIP/2.0", []string{"X-Pad: " + strings.Repeat("a", 300), "Content-Length: 0"}, "")
	run := sameRun(t, 256, []byte(optionsMsg+big))
	if len(run.ends) != 1 || run.err != "header section over 256 bytes" || run.errAt != len(optionsMsg)+257 {
		t.Fatalf("got %+v, want the OPTIONS then an oversize header at byte %d", run, len(optionsMsg)+257)
	}
	// A header section of exactly the limit is fine.
	exact := sameRun(t, len(optionsMsg), []byte(optionsMsg))
	if len(exact.ends) != 1 || exact.errAt != -1 {
		t.Fatalf("header section at the limit: %+v", exact)
	}
	// The limit holds even when no line ever ends.
	f := newFramer(1024)
	line := bytes.Repeat([]byte("x"), 100)
	for i := 0; i < 20 && f.err == nil; i++ {
		f.feed(line)
	}
	if f.err == nil {
		t.Fatal("a 2000-byte line never ended and the framer did not give up")
	}
}

func TestFramerBadContentLength(t *testing.T) {
	for _, tc := range []struct {
		header, err string
	}{
		{"Content-Length: abc", "Content-Length unreadable"},
		{"Content-Length: 12abc", "Content-Length unreadable"},
		{"Content-Length: 1 2", "Content-Length unreadable"},
		{"Content-Length:", "Content-Length unreadable"},
		{"l:   ", "Content-Length unreadable"},
		{"Content-Length: -1", "negative Content-Length"},
		{"Content-Length: 16777217", "Content-Length over 16777216 bytes"},
		{"Content-Length: 99999999999999999999999999", "Content-Length over 16777216 bytes"},
		{"Content-Length: 3\r\nl: 4", "conflicting Content-Length headers (3 and 4)"},
	} {
		msg := sipMsg("INVITE sip:a@b SIP/2.0", []string{"Call-ID: x", tc.header, "CSeq: 1 INVITE"}, "")
		run := sameRun(t, 0, []byte(msg))
		if run.err != tc.err || len(run.ends) != 0 {
			t.Errorf("%q: got %+v, want error %q", tc.header, run, tc.err)
		}
	}
	// The largest body allowed is framed.
	msg := sipMsg("INVITE sip:a@b SIP/2.0", []string{"Content-Length: 16777216"}, "")
	if run := runFramer(t, 0, []byte(msg), 0); run.errAt != -1 || run.phase != frameBody {
		t.Fatalf("Content-Length 16777216: %+v", run)
	}
}

func TestFramerStopsAtError(t *testing.T) {
	f := newFramer(0)
	f.feed([]byte("INVITE sip:a@b SIP/2.0\r\nl: x"))
	if f.err == nil {
		t.Fatal("no error")
	}
	if n, done := f.feed([]byte(optionsMsg)); n != 0 || done {
		t.Fatalf("after the error feed took %d bytes (done %v)", n, done)
	}
}

func TestFramerNoAllocs(t *testing.T) {
	data := []byte(inviteMsg + "\r\n\r\n" + optionsMsg)
	allocs := testing.AllocsPerRun(100, func() {
		f := newFramer(0)
		for i := range data {
			f.feed(data[i : i+1])
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

func FuzzFramer(f *testing.F) {
	f.Add([]byte(inviteMsg + optionsMsg))
	f.Add([]byte("\r\n\r\n" + optionsMsg + "\r\n"))
	f.Add([]byte("MESSAGE sip:a@b SIP/2.0\nl: 3\n\nabc"))
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nContent-Length:\r\n 4\r\n\r\nbody"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, max := range []int{0, 64} {
			whole := runFramer(t, max, data, 0)
			for _, size := range []int{1, 5} {
				if got := runFramer(t, max, data, size); !equalRuns(got, whole) {
					t.Fatalf("max %d, chunks of %d: %+v, whole: %+v", max, size, got, whole)
				}
			}
			prev := 0
			for _, end := range whole.ends {
				if end <= prev || end > len(data) {
					t.Fatalf("message ends %v out of order or range", whole.ends)
				}
				prev = end
			}
		}
	})
}

// TestFramerAgreesWithSipgo frames the vendor samples, pipelined behind
// keep-alives, where sipgo's stream parser finds its messages.
func TestFramerAgreesWithSipgo(t *testing.T) {
	for _, name := range sampleFiles(t) {
		msg := loadSample(t, name, map[string]string{"TRANSPORT": "TCP"})
		data := append([]byte("\r\n\r\n"), msg...)
		data = append(data, msg...)
		var parsed int
		p := sip.NewParser().NewSIPStream()
		if err := p.ParseSIPStream(data, func(sip.Message) { parsed++ }); err != nil || parsed != 2 {
			t.Errorf("%s: sipgo parsed %d messages: %v", name, parsed, err)
			continue
		}
		run := sameRun(t, 0, data)
		want := []int{4 + len(msg), len(data)}
		if !equalRuns(run, frameRun{ends: want, errAt: -1, phase: frameIdle}) {
			t.Errorf("%s: framed %+v, want ends %v", name, run, want)
		}
	}
}

func BenchmarkFramer(b *testing.B) {
	data := []byte(strings.Repeat(inviteMsg+"\r\n\r\n"+optionsMsg, 16))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	f := newFramer(0)
	for b.Loop() {
		for p := data; len(p) > 0; {
			n, _ := f.feed(p)
			p = p[n:]
		}
	}
}
