package siprec

import (
	"bytes"
	"strings"
	"testing"
)

func TestSplitBodySamples(t *testing.T) {
	tests := []struct {
		file       string
		sdp, md    bool
		wantStatus int // 0: no error
	}{
		{file: "cisco/cube-invite.sip", sdp: true, md: true},
		{file: "cisco/cube-video.sip", sdp: true, md: true},
		{file: "cisco/cube-reinvite-hold.sip", sdp: true, md: true},
		{file: "cisco/cube-update-metadata.sip", md: true},
		{file: "cisco/cube-bye.sip", md: true},
		{file: "acme/acme-draft.sip", sdp: true, md: true},
		{file: "ribbon/ribbon-tns.sip", sdp: true, md: true},
		{file: "audiocodes/audiocodes.sip", sdp: true, md: true},
		{file: "broadworks/broadworks.sip", sdp: true, md: true},
		{file: "broken/broken-xml.sip", sdp: true, md: true},
		{file: "broken/no-audio.sip", sdp: true, md: true},
		{file: "broadworks/broadworks-draft-invite.sip", sdp: true, md: true},
		{file: "webex/webex-draft-invite.sip", sdp: true, md: true},
		{file: "cisco/cube-invite-unterminated.sip", sdp: true, md: true},
		{file: "broken/boundary-missing.sip", wantStatus: 400},
		{file: "broken/truncated-part.sip", wantStatus: 400},
		{file: "broken/unsupported-type.sip", wantStatus: 415},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ct, raw := sampleBody(t, tt.file)
			b, err := SplitBody(ct, raw)
			if tt.wantStatus != 0 {
				if err == nil {
					t.Fatalf("SplitBody: no error, want status %d", tt.wantStatus)
				}
				if code, _ := statusFor(err); code != tt.wantStatus {
					t.Fatalf("SplitBody error %q maps to %d, want %d", err, code, tt.wantStatus)
				}
				return
			}
			if err != nil {
				t.Fatalf("SplitBody: %v", err)
			}
			if got := b.SDP != nil; got != tt.sdp {
				t.Errorf("SDP present = %v, want %v", got, tt.sdp)
			}
			if got := b.Metadata != nil; got != tt.md {
				t.Errorf("metadata present = %v, want %v", got, tt.md)
			}
			// Parts come back byte for byte.
			if b.SDP != nil && (!bytes.HasPrefix(b.SDP, []byte("v=0")) || !bytes.Contains(raw, b.SDP)) {
				t.Errorf("SDP part altered: %q", b.SDP)
			}
			if b.Metadata != nil && (!bytes.Contains(b.Metadata, []byte("recording")) || !bytes.Contains(raw, b.Metadata)) {
				t.Errorf("metadata part altered: %q", b.Metadata)
			}
		})
	}
}

func TestSplitBodyInline(t *testing.T) {
	const sdp = "v=0\r\nm=audio 1 RTP/AVP 0\r\n"
	const md = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'/>"
	mp := func(b string) []byte {
		return []byte("--" + b + "\r\nContent-Type: application/sdp\r\n\r\n" + sdp +
			"\r\n--" + b + "\r\nContent-Type: application/rs-metadata+xml\r\n\r\n" + md + "\r\n--" + b + "--\r\n")
	}
	tests := []struct {
		name    string
		ct      string
		body    []byte
		sdp, md string
		status  int
	}{
		{name: "plain sdp", ct: "application/sdp", body: []byte(sdp), sdp: sdp},
		{name: "rs-metadata+xml", ct: "application/rs-metadata+xml", body: []byte(md), md: md},
		{name: "rs-metadata audiocodes", ct: "application/rs-metadata", body: []byte(md), md: md},
		{name: "empty", ct: "", body: nil},
		{name: "unquoted boundary", ct: "multipart/mixed;boundary=xyz", body: mp("xyz"), sdp: sdp, md: md},
		{name: "quoted boundary with space", ct: `multipart/mixed; boundary="a b=c"`, body: mp("a b=c"), sdp: sdp, md: md},
		{name: "upper case type", ct: "Multipart/Mixed; Boundary=xyz", body: mp("xyz"), sdp: sdp, md: md},
		{name: "unusual boundary chars", ct: "multipart/mixed;boundary=x@y:z", body: mp("x@y:z"), sdp: sdp, md: md},
		{name: "LF only", ct: "multipart/mixed;boundary=lf",
			body: []byte("--lf\nContent-Type: application/sdp\n\nv=0\nm=audio 1 RTP/AVP 0\n--lf--\n"), sdp: "v=0\nm=audio 1 RTP/AVP 0"},
		{name: "no closing delimiter, CRLF end", ct: "multipart/mixed;boundary=xyz",
			body: []byte(strings.TrimSuffix(string(mp("xyz")), "--xyz--\r\n")), sdp: sdp, md: md},
		{name: "no closing delimiter, XML end", ct: "multipart/mixed;boundary=xyz",
			body: []byte(strings.TrimSuffix(string(mp("xyz")), "\r\n--xyz--\r\n")), sdp: sdp, md: md},
		{name: "closing delimiter without its dashes", ct: "multipart/mixed;boundary=xyz",
			body: []byte(strings.TrimSuffix(string(mp("xyz")), "--\r\n") + "\r\n"), sdp: sdp, md: md},
		{name: "LF only, no closing delimiter", ct: "multipart/mixed;boundary=lf",
			body: []byte("--lf\nContent-Type: application/sdp\n\nv=0\nm=audio 1 RTP/AVP 0\n"), sdp: "v=0\nm=audio 1 RTP/AVP 0"},
		{name: "last part cut mid-line", ct: "multipart/mixed;boundary=xyz",
			body: []byte(strings.TrimSuffix(string(mp("xyz")), "'/>\r\n--xyz--\r\n")), status: 400},
		{name: "last part cut in its headers", ct: "multipart/mixed;boundary=xyz",
			body: []byte("--xyz\r\nContent-Type: application/sdp\r\n\r\n" + sdp + "\r\n--xyz\r\nContent-Type: appl\r\n"), status: 400},
		{name: "boundary absent", ct: "multipart/mixed;boundary=nope", body: mp("xyz"), status: 400},
		{name: "no boundary param", ct: "multipart/mixed", body: mp("xyz"), status: 400},
		{name: "missing content type", ct: "", body: []byte(sdp), status: 415},
		{name: "text/plain", ct: "text/plain", body: []byte("hi"), status: 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := SplitBody(tt.ct, tt.body)
			if tt.status != 0 {
				if code, _ := statusFor(err); err == nil || code != tt.status {
					t.Fatalf("SplitBody error %v, want status %d", err, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("SplitBody: %v", err)
			}
			if string(b.SDP) != tt.sdp || string(b.Metadata) != tt.md {
				t.Errorf("SplitBody = sdp %q md %q, want sdp %q md %q", b.SDP, b.Metadata, tt.sdp, tt.md)
			}
		})
	}
}

func FuzzSplitBody(f *testing.F) {
	for _, name := range sampleFiles(f) {
		ct, body := sampleBody(f, name)
		f.Add(ct, body)
	}
	f.Add("multipart/mixed;boundary=b", []byte("--b\r\n\r\n--b--"))
	f.Add("multipart/mixed;boundary=b", []byte("--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n"))
	f.Add("multipart/mixed;boundary=b", []byte("--b\r\nContent-Type: application/rs-metadata\r\n\r\n<recording/>"))
	f.Add("multipart/mixed;boundary=b", []byte("--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b\r\n"))
	f.Add("multipart/mixed;boundary=b", []byte("--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nm=aud"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		b, err := SplitBody(ct, body)
		if err != nil {
			return
		}
		if b.SDP != nil && len(b.SDP) > len(body) || b.Metadata != nil && len(b.Metadata) > len(body) {
			t.Fatalf("part longer than body")
		}
	})
}
