package control_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/callvault/callvault/daemon/control"
)

func TestVerify(t *testing.T) {
	b, c, _ := setup(t)
	ctx := context.Background()
	ch, err := c.Verify(ctx, "2026000000001")
	if err != nil || ch.Status != control.CheckIntact || ch.ID != "2026000000001" {
		t.Errorf("verify intact: %+v, %v", ch, err)
	}
	b.SetCheck(control.Check{ID: "2026000000002", File: "records/x.mp3.enc", Status: control.CheckTampered, Detail: "segment 3: authentication failed"})
	ch, err = c.Verify(ctx, "2026000000002")
	if err != nil || ch.Status != control.CheckTampered || ch.Detail == "" {
		t.Errorf("verify tampered: %+v, %v", ch, err)
	}
	if _, err := c.Verify(ctx, "2026000000099"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("verify unknown: err = %v, want not found", err)
	}
}

func TestVerifyAllStreamsEveryCheck(t *testing.T) {
	b, c, _ := setup(t)
	b.SetCheck(control.Check{ID: "2026000000002", Status: control.CheckTruncated})
	b.SetCheck(control.Check{ID: "2026000000007", File: "records/y.mp3.enc", Status: control.CheckUnindexed})
	var got []string
	err := c.VerifyAll(context.Background(), func(ch control.Check) error {
		got = append(got, ch.ID+" "+ch.Status)
		return nil
	})
	want := []string{"2026000000001 intact", "2026000000002 truncated", "2026000000007 unindexed"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("verify all = %v, %v; want %v", got, err, want)
	}
	stop := errors.New("enough")
	n := 0
	err = c.VerifyAll(context.Background(), func(control.Check) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("verify all stopped by fn: err = %v after %d checks", err, n)
	}
}

// TestExportOfDamagedRecording: the daemon refuses a damaged file with 422
// before any audio, so nothing of it reaches the client.
func TestExportOfDamagedRecording(t *testing.T) {
	b, c, path := setup(t)
	b.SetCheck(control.Check{ID: "2026000000002", Status: control.CheckTampered})
	n := 0
	err := c.Export(context.Background(), "2026000000002", writerFunc(func(p []byte) (int, error) { n += len(p); return len(p), nil }))
	var ce *control.Error
	if !errors.As(err, &ce) || ce.StatusCode != http.StatusUnprocessableEntity || !errors.Is(err, control.ErrDamaged) {
		t.Errorf("export damaged: err = %#v, want 422 matching ErrDamaged", err)
	}
	if n != 0 {
		t.Errorf("export damaged wrote %d bytes, want 0", n)
	}
	resp := get(t, path, "/v1/recordings/2026000000002/audio")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("raw export of damaged: status %d, type %q, body %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
