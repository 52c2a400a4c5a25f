package siprec

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// sipgo logs the raw text of a message it cannot parse: the server's log
// handler hides its keys too.
func TestSipgoRecordsAreRedacted(t *testing.T) {
	var buf strings.Builder
	h := demoteInfo{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})}
	log := slog.New(h)
	key := "WVNfX19zZWNyZXRfX19rZXlfX19vZl9fX2RlbW8="
	log.Error("failed to parse", "data", []byte("m=audio 17000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key+"\r\n"))
	log.Info("message a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key)
	if strings.Contains(buf.String(), key) || !strings.Contains(buf.String(), "inline:<redacted>") {
		t.Errorf("a key reached the log:\n%s", buf.String())
	}
}

// A gateway resetting its TCP connection is routine: sipgo's error record
// of it is logged at debug level, other errors stay errors.
func TestRoutineTransportErrorsDemoted(t *testing.T) {
	var buf strings.Builder
	log := slog.New(demoteInfo{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})})
	log.Error("Read error", "error", errors.New("read tcp 127.0.0.1:46742->127.0.0.1:5198: read: connection reset by peer"))
	log.Error("Read error", "error", io.EOF)
	if buf.Len() != 0 {
		t.Errorf("a connection reset was logged above debug:\n%s", buf.String())
	}
	log.Error("Read error", "error", errors.New("read tcp: too many open files"))
	if !strings.Contains(buf.String(), "level=ERROR") {
		t.Errorf("a real transport error was demoted: %q", buf.String())
	}
}
