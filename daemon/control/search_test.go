package control_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/control/controltest"
)

func TestQueryRoundTrip(t *testing.T) {
	for _, q := range []control.Query{
		{},
		{MinDurationMS: 60000},
		{Cursor: control.NewCursor(t0, "2026000000001"), Limit: 50},
		{From: t0, To: t0.Add(time.Hour), User: "jdoe", Extension: "2501", Remote: "+1 555 820",
			Direction: "OUT", MinDurationMS: 1, Cursor: control.NewCursor(t0.Add(time.Nanosecond), "2026000000009"), Limit: 1},
	} {
		v := q.Values()
		got, err := control.ParseQuery(v)
		if err != nil {
			t.Fatalf("ParseQuery(%s): %v", v.Encode(), err)
		}
		if !got.From.Equal(q.From) || !got.To.Equal(q.To) {
			t.Errorf("%s: times %v %v", v.Encode(), got.From, got.To)
		}
		got.From, got.To = q.From, q.To
		if !reflect.DeepEqual(got, q) {
			t.Errorf("round trip of %s = %+v, want %+v", v.Encode(), got, q)
		}
	}
	v := control.Query{MinDurationMS: 90000, Cursor: "abc"}.Values()
	if v.Get("min_duration_ms") != "90000" || v.Get("cursor") != "abc" {
		t.Errorf("values = %s", v.Encode())
	}
}

func TestQueryInvalid(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		{"min_duration_ms=-1", "min_duration_ms -1 is negative"},
		{"min_duration_ms=1m", `min_duration_ms "1m" is not a whole number`},
		{"cursor=%21%21", `cursor "!!" is not one a search returned (not base64url)`},
		{"cursor=" + url.QueryEscape(control.NewCursor(t0, "")), "no record id"},
		{"cursor=" + strings.Repeat("A", 200), "too long"},
		{"cursor=YWJj", "no record id"}, // "abc"
	} {
		v, err := url.ParseQuery(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = control.ParseQuery(v)
		if !errors.Is(err, control.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseQuery(%s) = %v, want ErrInvalid saying %q", tt.raw, err, tt.want)
		}
	}
}

func TestCursor(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.FixedZone("UTC+1", 3600))
	c := control.NewCursor(at, "2026000000042")
	if strings.ContainsAny(c, "+/=") {
		t.Errorf("cursor %q is not URL-safe", c)
	}
	start, id, err := control.ParseCursor(c)
	if err != nil || !start.Equal(at) || id != "2026000000042" {
		t.Errorf("ParseCursor(%q) = %v, %q, %v", c, start, id, err)
	}
}

// TestSearchPages pages through the API with the X-Next-Cursor header
// while recordings are added: every recording listed once, newest first.
func TestSearchPages(t *testing.T) {
	b := controltest.New()
	var want []string
	for i := range 7 {
		r := sampleRecording(fmt.Sprintf("20260000000%02d", i+1), t0.Add(time.Duration(i/2)*time.Minute), "jdoe", "2501", "OUT")
		b.AddRecording(r, nil)
		want = append(want, r.ID)
	}
	slices.Reverse(want)
	c := &control.Client{Socket: controltest.Serve(t, b)}
	ctx := context.Background()
	q := control.Query{Limit: 3, To: t0.Add(time.Hour)}
	var got []string
	for page := 0; ; page++ {
		recs, next, err := c.SearchPage(ctx, q)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		for _, r := range recs {
			got = append(got, r.ID)
		}
		if next == "" {
			if page != 2 || len(recs) != 3 { // the last original and the two added older
				t.Errorf("last page %d holds %d", page, len(recs))
			}
			break
		}
		if len(recs) != 3 || page > 2 {
			t.Fatalf("page %d: %d recordings and a next cursor", page, len(recs))
		}
		q.Cursor = next
		b.AddRecording(sampleRecording(fmt.Sprintf("20260000001%02d", page), t0.Add(-time.Hour), "late", "2501", "IN"), nil)
	}
	want = append(want, "2026000000101", "2026000000100") // older than the cursor: listed when reached
	if !slices.Equal(got, want) {
		t.Errorf("pages = %v, want %v", got, want)
	}
	// An exact page has no next cursor.
	if recs, next, err := c.SearchPage(ctx, control.Query{User: "jdoe", Limit: 7}); err != nil || len(recs) != 7 || next != "" {
		t.Errorf("exact page: %d, %q, %v", len(recs), next, err)
	}
	if _, _, err := c.SearchPage(ctx, control.Query{Cursor: "!!"}); !errors.Is(err, control.ErrInvalid) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestSearchRemoteAndDuration(t *testing.T) {
	b := controltest.New()
	short := sampleRecording("2026000000001", t0, "jdoe", "2501", "OUT")
	short.DurationMS = 59999
	other := sampleRecording("2026000000002", t0.Add(time.Minute), "jdoe", "2501", "OUT")
	other.Remote = "+442079460958"
	b.AddRecording(short, nil)
	b.AddRecording(other, nil)
	b.AddRecording(sampleRecording("2026000000003", t0.Add(2*time.Minute), "jdoe", "2501", "OUT"), nil)
	c := &control.Client{Socket: controltest.Serve(t, b)}
	for _, tt := range []struct {
		q    control.Query
		want []string
	}{
		{control.Query{Remote: "8201"}, []string{"2026000000003", "2026000000001"}},
		{control.Query{Remote: "5558201320"}, []string{"2026000000003", "2026000000001"}},
		{control.Query{Remote: "+44 20"}, []string{"2026000000002"}},
		{control.Query{MinDurationMS: 60000}, []string{"2026000000003", "2026000000002"}},
		{control.Query{Remote: "8201", MinDurationMS: 60000}, []string{"2026000000003"}},
	} {
		recs, err := c.Search(context.Background(), tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%+v: %v, want %v", tt.q, got, tt.want)
		}
	}
}
