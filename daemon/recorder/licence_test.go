package recorder

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/license"
	"github.com/callvault/callvault/siprec"
	"github.com/callvault/callvault/vault"
)

// licensedRecorder is a test recorder that trusts one licence key, and
// that key's private half to issue licences with.
func licensedRecorder(t *testing.T) (*Recorder, ed25519.PrivateKey) {
	t.Helper()
	priv, pub := license.GenerateKey()
	dir := t.TempDir()
	store, err := vault.Open(vault.Config{Dir: dir, Location: time.UTC}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	users, err := OpenDirectory(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	pool := testPool(t)
	return New(Options{Log: discardLog(), Pool: pool, Store: store, Users: users, RecordUnknown: true,
		Location: time.UTC, DataDir: dir, LicenseKeys: []ed25519.PublicKey{pub}}), priv
}

func issue(t *testing.T, priv ed25519.PrivateKey, l license.License) []byte {
	t.Helper()
	file, err := license.Issue(l, priv)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func refusal(t *testing.T, err error) *siprec.StatusError {
	t.Helper()
	var se *siprec.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a SIP refusal", err)
	}
	return se
}

func TestEvaluationLicence(t *testing.T) {
	r, _ := licensedRecorder(t)
	v := r.licenceView()
	if !v.Evaluation || v.Model != license.ModelChannel || v.Count != 8 || v.Error != "" {
		t.Fatalf("licence with none installed = %+v, want the evaluation licence of 8 channels", v)
	}
}

// A channel licence of 2 refuses the third concurrent call; an On Demand
// call holds a channel only while it records.
func TestChannelLicence(t *testing.T) {
	r, priv := licensedRecorder(t)
	if _, err := r.InstallLicence(issue(t, priv, license.License{Customer: "ACME", Model: license.ModelChannel, Count: 2})); err != nil {
		t.Fatal(err)
	}
	if err := r.users.add(user{Username: "od", Extensions: []string{"2600"}, Mode: "on-demand"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	od := offer("od@x", parts("sip:2600@gw", "sip:5552000@gw"))
	for _, s := range []*siprec.Session{offer("a@x", nil), offer("b@x", nil), od} {
		if _, err := r.Admit(ctx, s); err != nil {
			t.Fatalf("Admit %s: %v", s.CallID, err)
		}
	}
	_, err := r.Admit(ctx, offer("c@x", nil))
	if se := refusal(t, err); se.Code != 503 || !strings.Contains(se.Reason, "all 2 channels in use") {
		t.Fatalf("third call: %v", err)
	}
	if _, err := r.Record("2600", "start"); !errors.Is(err, control.ErrNotAllowed) || !strings.Contains(err.Error(), "channel") {
		t.Fatalf("on-demand start with every channel in use: %v", err)
	}
	r.CheckLicence(time.Now())
	if got := alarmNames(r); got != "license_high,license_full" {
		t.Errorf("alarms at 2 of 2 channels: %s", got)
	}
	r.End(offer("a@x", nil), "bye")
	if res, err := r.Record("2600", "start"); err != nil || res.State != "recording" {
		t.Fatalf("on-demand start with a channel free: %+v, %v", res, err)
	}
	r.End(offer("b@x", nil), "bye")
	r.End(od, "bye")
	r.CheckLicence(time.Now())
	if got := alarmNames(r); got != "" {
		t.Errorf("alarms with no channel in use: %s", got)
	}
	if n := r.stats.rejectedBy()["licence_channels"]; n != 1 {
		t.Errorf("rejected_by licence_channels = %d", n)
	}
}

// A user licence covers the first users added; the others' calls are
// refused before any answer.
func TestUserLicence(t *testing.T) {
	r, priv := licensedRecorder(t)
	for i, name := range []string{"first", "second"} {
		if err := r.users.add(user{Username: name, Extensions: []string{fmt.Sprint(2501 + i)}, Added: time.Unix(int64(1000+i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.InstallLicence(issue(t, priv, license.License{Customer: "ACME", Model: license.ModelUser, Count: 1})); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.Admit(ctx, offer("one@x", parts("sip:2501@gw", "sip:5550000@gw"))); err != nil {
		t.Fatalf("licensed user's call: %v", err)
	}
	_, err := r.Admit(ctx, offer("two@x", parts("sip:2502@gw", "sip:5550000@gw")))
	if se := refusal(t, err); se.Code != 403 || !strings.Contains(se.Reason, "not licensed: user second") {
		t.Fatalf("unlicensed user's call: %v", err)
	}
	_, err = r.Admit(ctx, offer("none@x", parts("sip:5551111@gw", "sip:5550000@gw")))
	if se := refusal(t, err); se.Code != 403 || !strings.Contains(se.Reason, "no participant is a user") {
		t.Fatalf("a call of no user under a user licence: %v", err)
	}
	r.End(offer("one@x", nil), "bye")
}

// Expired and badly signed licences are refused with a clear message; the
// licence in force stays.
func TestLicenceRefused(t *testing.T) {
	r, priv := licensedRecorder(t)
	expired := issue(t, priv, license.License{Customer: "ACME", Model: license.ModelChannel, Count: 50, Expires: "2020-01-31",
		Issued: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)})
	if _, err := r.InstallLicence(expired); !errors.Is(err, control.ErrInvalid) || !strings.Contains(err.Error(), "expired on 2020-01-31") {
		t.Errorf("expired licence: %v", err)
	}
	other, _ := license.GenerateKey()
	if _, err := r.InstallLicence(issue(t, other, license.License{Customer: "ACME", Model: license.ModelChannel, Count: 50})); !errors.Is(err, control.ErrInvalid) ||
		!strings.Contains(err.Error(), "public_keys") {
		t.Errorf("licence signed by another key: %v", err)
	}
	tampered := regexp.MustCompile(`"count":\s*5`).ReplaceAllString(string(issue(t, priv, license.License{Customer: "ACME", Model: license.ModelChannel, Count: 5})), `"count": 500`)
	if !strings.Contains(tampered, "500") {
		t.Fatalf("the test did not tamper with the licence:\n%s", tampered)
	}
	if _, err := r.InstallLicence([]byte(tampered)); !errors.Is(err, control.ErrInvalid) || !strings.Contains(err.Error(), "signature") {
		t.Errorf("tampered licence: %v", err)
	}
	if v := r.licenceView(); !v.Evaluation || v.Count != 8 {
		t.Errorf("after refused licences: %+v, want the evaluation licence still", v)
	}
}

func alarmNames(r *Recorder) string {
	var names []string
	for _, a := range r.licence.alarms.active() {
		names = append(names, a.Name)
	}
	return strings.Join(names, ",")
}

// INVITEs admitted side by side take no more channels than the licence
// has.
func TestChannelLicenceConcurrentAdmits(t *testing.T) {
	r, priv := licensedRecorder(t)
	if _, err := r.InstallLicence(issue(t, priv, license.License{Customer: "ACME", Model: license.ModelChannel, Count: 3})); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for i := range 12 {
		wg.Go(func() {
			if _, err := r.Admit(context.Background(), offer(fmt.Sprintf("c%d@x", i), nil)); err == nil {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if admitted != 3 || r.LiveCalls() != 3 {
		t.Fatalf("%d admitted side by side, %d live; want 3 under a licence of 3", admitted, r.LiveCalls())
	}
	for _, c := range r.live() {
		r.End(&c.session, "bye")
	}
}
