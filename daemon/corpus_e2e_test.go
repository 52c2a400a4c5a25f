package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/internal/testaudio"
)

// TestVendorCorpusOverTCP replays siprec's golden INVITEs (each vendor's
// shape, written from its public documentation) through the daemon over
// TCP, sends RTP to the ports it answers, hangs up, and checks that each
// call is recorded with the right owner, remote party and direction: the
// draft-schema BroadWorks and Webex Calling documents, the vendors' own
// call data (Oracle, AudioCodes, Ribbon, BroadWorks, Metaswitch), and a
// CUBE body without its closing delimiter included.
func TestVendorCorpusOverTCP(t *testing.T) {
	testaudio.Require(t, "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	d.cli("users", "add", "owner", "--name", "Call Owner", "--ext", "2501,4100,3001,+15558880002,7001,016190619,2002")
	for _, c := range []struct {
		sample                 string
		user, ext, remote, dir string
	}{
		{"cisco/cube-invite.sip", "owner", "2501", "+15558201", "OUT"},
		{"cisco/cube-invite-unterminated.sip", "owner", "2501", "+15558201", "OUT"},
		{"acme/acme-draft.sip", "owner", "4100", "+15551230001", "IN"},
		{"audiocodes/audiocodes.sip", "owner", "3001", "+15550009999", "OUT"},
		{"ribbon/ribbon-tns.sip", "owner", "+15558880002", "+15557770001", "IN"},
		{"broadworks/broadworks.sip", "owner", "7001", "+15553334444", "OUT"},
		{"broadworks/broadworks-draft-invite.sip", "", "01632960100", "07700900123", "OUT"},
		{"webex/webex-draft-invite.sip", "owner", "016190619", "+14085550199", "OUT"},
		{"metaswitch/metaswitch.sip", "owner", "2002", "+15553330100", "IN"},
	} {
		t.Run(c.sample, func(t *testing.T) {
			rec := replaySample(t, d, c.sample, 2)
			if rec.User != c.user || rec.Extension != c.ext || rec.Remote != c.remote || rec.Direction != c.dir {
				t.Errorf("recorded user %q ext %q remote %q %s; want %q %q %q %s",
					rec.User, rec.Extension, rec.Remote, rec.Direction, c.user, c.ext, c.remote, c.dir)
			}
			checkComplete(t, c.sample, rec, 2)
		})
	}
	checkQuietLog(t, d)
}

// replaySample sends a golden INVITE over TCP, ACKs the 200, streams a
// tone to every port answered for seconds, sends BYE and returns the
// sealed recording.
func replaySample(t *testing.T, d *daemonProc, name string, seconds float64) control.Recording {
	t.Helper()
	gw := dialSIP(t, d.sipPort)
	callID := fmt.Sprintf("corpus-%d@%s", time.Now().UnixNano(), strings.ReplaceAll(filepath.Dir(name), "/", "-"))
	invite := goldenMessage(t, name, map[string]string{"HOST": "127.0.0.1", "TRANSPORT": "TCP",
		"BRANCH": "z9hG4bK-corpus-1", "CALLID": callID})
	res := gw.request(invite)
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("%s: INVITE answered %s", name, tail(res, 500))
	}
	toTag := toTagOf(t, res)
	gw.send(inDialog(invite, "ACK", toTag, gw.conn.LocalAddr().String(), "z9hG4bK-corpus-2"))

	var streams []testaudio.Stream
	n := int(seconds * 8000)
	tones := []float64{toneLeg1, toneLeg2, 700, 1300}
	for i, m := range regexp.MustCompile(`(?m)^m=audio (\d+) RTP/AVP (\d+)`).FindAllStringSubmatch(res, -1) {
		port, _ := strconv.Atoi(m[1])
		if port == 0 {
			continue
		}
		pt, _ := strconv.Atoi(m[2])
		var c struct {
			pt     uint8
			encode func([]int16) []byte
			bytes  int
		}
		for _, k := range codecs {
			if int(k.pt) == pt {
				c = k
			}
		}
		if c.encode == nil {
			t.Fatalf("%s: answered payload type %d", name, pt)
		}
		streams = append(streams, testaudio.Stream{To: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, PT: c.pt,
			SSRC: uint32(0x5000 + i), PacketBytes: c.bytes, Payload: c.encode(testaudio.Tone(tones[i%len(tones)], 8000, n, 12000))})
	}
	if len(streams) == 0 {
		t.Fatalf("%s: no stream answered:\n%s", name, res)
	}
	if err := testaudio.SendPaced(streams); err != nil {
		t.Fatal(err)
	}
	if res := gw.request(inDialog(invite, "BYE", toTag, gw.conn.LocalAddr().String(), "z9hG4bK-corpus-3")); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("%s: BYE answered %s", name, tail(res, 300))
	}
	return d.sealed(callID)
}

// goldenMessage reads one of siprec's golden messages with its {{VAR}}s
// filled and the Content-Length of its body.
func goldenMessage(t *testing.T, name string, vars map[string]string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "siprec", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	msg := string(raw)
	for k, v := range vars {
		msg = strings.ReplaceAll(msg, "{{"+k+"}}", v)
	}
	_, body, _ := strings.Cut(msg, "\r\n\r\n")
	return strings.Replace(msg, "{{LEN}}", strconv.Itoa(len(body)), 1)
}

// inDialog builds an ACK or BYE in the dialog an INVITE set up.
func inDialog(invite, method, toTag, local, branch string) string {
	line := func(name string) string {
		m := regexp.MustCompile(`(?mi)^` + name + `:\s*(.*?)\r$`).FindStringSubmatch(invite)
		if m == nil {
			return ""
		}
		return m[1]
	}
	ruri := strings.Fields(invite[:strings.Index(invite, "\r\n")])[1]
	cseq := 1
	if f := strings.Fields(line("CSeq")); len(f) > 0 {
		cseq, _ = strconv.Atoi(f[0])
	}
	if method == "BYE" {
		cseq++
	}
	return fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=%s\r\nFrom: %s\r\nTo: %s;tag=%s\r\nCall-ID: %s\r\n"+
		"CSeq: %d %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		method, ruri, local, branch, line("From"), line("To"), toTag, line("Call-ID"), cseq, method)
}

// checkQuietLog fails the test for any WARN or ERROR line in the daemon's
// log but those naming one of the expected texts: a healthy call leaves
// none.
func checkQuietLog(t *testing.T, d *daemonProc, expected ...string) {
	t.Helper()
	// A test daemon's start-up warnings: no allow-list, no licence.
	expected = append(expected, "sip.allow is empty", "no licence installed")
	for _, line := range strings.Split(d.stderr.String(), "\n") {
		if !strings.Contains(line, "level=WARN") && !strings.Contains(line, "level=ERROR") {
			continue
		}
		ok := false
		for _, e := range expected {
			ok = ok || strings.Contains(line, e)
		}
		if !ok {
			t.Errorf("healthy calls logged: %s", line)
		}
	}
}

// TestCancelBeforeTheAnswer: a CANCEL sent right behind its INVITE. One
// that reaches the recorder while it admits the INVITE gets the INVITE a
// 487 and leaves no session and no recording; one that comes after the
// 200 gets 481 (RFC 3261 9.2) and the call goes on until its BYE. Here the
// recorder admits in about a millisecond and the 200 usually wins; the
// early path is driven deterministically by siprec's TestServerCancel
// (a held Admit) and TestNeverEstablishedLeavesNoRecording.
func TestCancelBeforeTheAnswer(t *testing.T) {
	testaudio.Require(t, "ffprobe", "ffmpeg")
	t.Parallel()
	d := startDaemon(t, daemonOptions{recordUnknown: true})
	for i := range 5 {
		gw := dialSIP(t, d.sipPort)
		callID := fmt.Sprintf("cancel-%d-%d@gw", i, time.Now().UnixNano())
		keys := map[string]string{"call_id": callID, "fromtag": "cancel", "caller": "5551000", "callee": "5552000",
			"codecpt": "0", "codecname": "PCMU", "branch": fmt.Sprintf("z9hG4bK-cancel-%d", i)}
		invite := sippMessage(t, "cube-invite.xml", 0, gw.vars(keys))
		head, _, _ := strings.Cut(invite, "\r\n\r\n")
		cancel := regexp.MustCompile(`(?m)^CSeq: 101 INVITE\r$`).ReplaceAllString(head, "CSeq: 101 CANCEL\r")
		cancel = strings.Replace(cancel, "INVITE sip:", "CANCEL sip:", 1)
		cancel = regexp.MustCompile(`(?m)^Content-(Type|Length):.*\r\n`).ReplaceAllString(cancel+"\r\n", "")
		cancel = strings.TrimSuffix(cancel, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
		gw.send(invite + cancel)
		var inviteFinal, cancelFinal string
		for inviteFinal == "" || cancelFinal == "" {
			res := gw.read()
			switch {
			case strings.Contains(res, "CSeq: 101 CANCEL"):
				cancelFinal = res[:strings.Index(res, "\r\n")]
			case strings.Contains(res, "CSeq: 101 INVITE") && !strings.HasPrefix(res, "SIP/2.0 1"):
				inviteFinal = res
			}
		}
		t.Logf("call %d: INVITE %s, CANCEL %s", i, inviteFinal[:strings.Index(inviteFinal, "\r\n")], cancelFinal)
		keys["branch"] = fmt.Sprintf("z9hG4bK-cancel-%d-ack", i)
		switch {
		case strings.HasPrefix(inviteFinal, "SIP/2.0 487"):
			gw.send(inDialog(invite, "ACK", toTagOf(t, inviteFinal), gw.conn.LocalAddr().String(), keys["branch"]))
			time.Sleep(200 * time.Millisecond)
			for _, c := range d.liveCalls() {
				if c.ID == callID {
					t.Errorf("call %d: a cancelled INVITE left a live call", i)
				}
			}
			for _, r := range d.recordings() {
				if r.CallID == callID {
					t.Errorf("call %d: a cancelled INVITE left a recording: %+v", i, r)
				}
			}
		case strings.HasPrefix(inviteFinal, "SIP/2.0 200"):
			tag := toTagOf(t, inviteFinal)
			gw.send(inDialog(invite, "ACK", tag, gw.conn.LocalAddr().String(), keys["branch"]))
			if res := gw.request(inDialog(invite, "BYE", tag, gw.conn.LocalAddr().String(), keys["branch"]+"-bye")); !strings.HasPrefix(res, "SIP/2.0 200") {
				t.Errorf("call %d: BYE after a late CANCEL: %s", i, tail(res, 200))
			}
		default:
			t.Errorf("call %d: INVITE answered %s", i, tail(inviteFinal, 200))
		}
	}
	checkQuietLog(t, d)
}
