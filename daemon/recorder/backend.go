package recorder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/siprec"
	"github.com/callvault/callvault/vault"
)

// Host is what the control API reports of the daemon around the Recorder.
type Host struct {
	Version   string
	Listen    string // the SIP address UDP and TCP listen on
	TLSListen string // the SIP TLS address, "" without one
	// PhoneListen and MetricsListen are the Cisco IP Phone service's and
	// the Prometheus endpoint's addresses, "" without them.
	PhoneListen, MetricsListen string
	DataDir                    string
	// Draining reports whether the daemon is draining; nil: never.
	Draining func() bool
	// SIPEdge counts the SIP TCP and TLS connections, open and turned
	// away; nil: none.
	SIPEdge func() siprec.EdgeCounts
	// Config is the reload history; nil: none.
	Config func() control.ConfigState
	// Storage is the copies off the box and their alarms; nil: no
	// target.
	Storage func() (*control.Storage, []control.Alarm)
}

// API returns the control API's backend over the Recorder's calls, vault,
// users and events.
func (r *Recorder) API(h Host) control.Backend {
	return &backend{Host: h, rec: r, store: r.store, users: r.users, events: r.events, stats: r.stats, disk: r.disk}
}

// backend serves the control API from the daemon's parts.
type backend struct {
	Host
	rec    *Recorder
	store  *vault.Store
	users  *Directory
	events *Hub
	stats  *callStats
	disk   *DiskGuard
}

var _ control.Backend = (*backend)(nil)

func (b *backend) Status(ctx context.Context) (control.Status, error) {
	now := b.rec.now()
	total, rejected := b.stats.counts()
	rate := b.stats.snapshot(now)
	st := control.Status{
		Version:           b.Version,
		Started:           b.stats.started.UTC(),
		UptimeSeconds:     int64(now.Sub(b.stats.started).Seconds()),
		Listen:            b.Listen,
		TLSListen:         b.TLSListen,
		PhoneListen:       b.PhoneListen,
		MetricsListen:     b.MetricsListen,
		LiveCalls:         len(b.rec.live()),
		CallsTotal:        total,
		Rejected:          rejected,
		CPS:               rate.Last5s,
		CallsPerSecond:    wireRate(rate),
		RejectedBy:        b.stats.rejectedBy(),
		LiveKeepDestroyed: b.rec.unkept.Load(),
		RTP:               b.rec.rtpNow(),
		License:           b.rec.licenceView(),
		Disk:              b.rec.diskView(now),
		Alarms:            []control.Alarm{},
	}
	st.Disk.Path = b.DataDir
	if b.disk != nil {
		_, _, _, alarms := b.disk.state()
		st.Alarms = append(st.Alarms, alarms...)
	}
	st.Alarms = append(st.Alarms, b.rec.licence.alarms.active()...)
	st.Alarms = append(st.Alarms, b.rec.retention.alarms.active()...)
	if b.Storage != nil {
		var alarms []control.Alarm
		st.Storage, alarms = b.Storage()
		st.Alarms = append(st.Alarms, alarms...)
	}
	st.Sealed, _ = b.rec.totals.snapshot()
	st.SealLatency = b.rec.totals.sealLatency()
	st.Process = processUse()
	if b.Draining != nil {
		st.Draining = b.Draining()
	}
	if b.SIPEdge != nil {
		e := b.SIPEdge()
		st.Process.SIPConnections, st.Process.SIPConnectionsRefused, st.Process.TLSHandshakesFailed =
			e.Connections, e.ConnectionsRefused, e.TLSHandshakesFailed
		// New sessions the SIP edge refused for its rates never reach the
		// recorder: count them with its refusals.
		for reason, n := range map[string]int64{"source_rate": e.SessionsOverSourceRate, "max_cps": e.SessionsOverMaxCPS} {
			if n > 0 {
				if st.RejectedBy == nil {
					st.RejectedBy = map[string]int64{}
				}
				st.RejectedBy[reason] += n
				st.Rejected += n
			}
		}
	}
	if b.Config != nil {
		st.Config = b.Config()
	}
	return st, nil
}

func (b *backend) Calls(ctx context.Context) ([]control.Call, error) {
	live := b.rec.live()
	out := make([]control.Call, 0, len(live))
	for _, c := range live {
		out = append(out, c.view(b.users.byExtension))
	}
	slices.SortFunc(out, func(a, b control.Call) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// view is the control API's picture of a live call.
func (c *call) view(lookup func(string) (user, bool)) control.Call {
	c.mu.Lock()
	s := c.session
	id := c.callID()
	legs := slices.Clone(c.legs)
	roster := c.roster.participants()
	mode := c.mode
	c.mu.Unlock()
	p := classify(s.Metadata, lookup)
	v := control.Call{
		ID:        id,
		RecordID:  c.w.ID(),
		Start:     c.start.UTC(),
		Source:    s.Source.String(),
		Transport: s.Transport,
		User:      p.Username,
		FullName:  p.FullName,
		Extension: p.Extension,
		Remote:    p.Remote,
		Direction: p.Direction,
		Mode:      mode.mode,
		State:     mode.state(),
	}
	for _, pt := range roster {
		v.Participants = append(v.Participants, control.Participant{AOR: pt.AOR, Name: pt.Name, Joined: pt.Joined, Left: pt.Left})
	}
	v.Legs = c.wireLegs(legs)
	return v
}

// legViews are the call's legs as they stand, in the control API's words.
func (c *call) legViews() control.CallLegs {
	c.mu.Lock()
	id := c.callID()
	legs := slices.Clone(c.legs)
	c.mu.Unlock()
	return control.CallLegs{ID: id, Legs: c.wireLegs(legs)}
}

// wireLegs gives legs with the counters their streams have now.
func (c *call) wireLegs(legs []leg) []control.Leg {
	stats := c.rec.Stats()
	sums := legSummaries(stats)
	out := make([]control.Leg, 0, len(legs))
	for _, l := range legs {
		w := control.Leg{Label: l.label, Port: l.port, Codec: l.codec, SRTP: l.srtp != nil}
		for i, st := range stats {
			if st.Label == l.label {
				w.Packets, w.Bytes = st.Packets, st.Bytes
				w.LegCounters = wireCounters(sums[i])
			}
		}
		out = append(out, w)
	}
	return out
}

func (b *backend) Search(ctx context.Context, q control.Query) ([]control.Recording, error) {
	vq := vault.Query{
		From: q.From, To: q.To, User: q.User, Extension: q.Extension,
		Remote: q.Remote, Direction: strings.ToUpper(q.Direction),
		MinDurationMS: q.MinDurationMS, Limit: q.Limit,
	}
	if q.Cursor != "" {
		start, id, err := control.ParseCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		vq.After = vault.Position{Start: start, ID: id}
	}
	recs, err := b.store.Search(vq)
	if err != nil {
		return nil, err
	}
	out := make([]control.Recording, len(recs))
	for i, r := range recs {
		out[i] = wireRecording(r)
	}
	return out, nil
}

func (b *backend) Recording(ctx context.Context, id string) (control.Recording, error) {
	r, err := b.store.Get(id)
	if err != nil {
		return control.Recording{}, b.mapGone(err, id)
	}
	return wireRecording(r), nil
}

// Export sends nothing of a file that does not authenticate whole: the
// vault checks it before the first byte.
func (b *backend) Export(ctx context.Context, id string, w io.Writer) error {
	if err := b.store.Export(id, w); err != nil {
		return b.mapGone(err, id)
	}
	return b.rec.audit(ctx, vault.AuditRecordingExported, id, "")
}

func (b *backend) Verify(ctx context.Context, id string) (control.Check, error) {
	c, err := b.store.Verify(id)
	if err != nil {
		return control.Check{}, mapVaultErr(err, id)
	}
	return control.Check(c), b.rec.audit(ctx, vault.AuditRecordingVerified, id, strings.TrimSpace(c.Status+" "+c.Detail))
}

func (b *backend) VerifyAll(ctx context.Context, fn func(control.Check) error) error {
	return b.store.VerifyAll(func(c vault.Check) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(control.Check(c))
	})
}

// mapVaultErr gives vault errors their control API meaning.
func mapVaultErr(err error, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, vault.ErrNotFound):
		return fmt.Errorf("%w: recording %s", control.ErrNotFound, id)
	case errors.Is(err, vault.ErrCorrupt), errors.Is(err, vault.ErrTruncated),
		errors.Is(err, vault.ErrWrongKey), errors.Is(err, vault.ErrMissing):
		return fmt.Errorf("%w: recording %s: %w (run callvault verify %s)", control.ErrDamaged, id, err, id)
	}
	return err
}

func (b *backend) Users(ctx context.Context) ([]control.User, error) {
	var out []control.User
	for _, u := range b.users.list() {
		out = append(out, control.User{Username: u.Username, FullName: u.FullName, Extensions: u.Extensions, Mode: u.Mode,
			Direction: u.Direction, External: u.External, RetentionMonths: u.RetentionMonths})
	}
	return out, nil
}

func (b *backend) AddUser(ctx context.Context, u control.User) error {
	nu := user{Username: u.Username, FullName: u.FullName, Extensions: u.Extensions, Mode: u.Mode,
		Direction: u.Direction, External: u.External, RetentionMonths: u.RetentionMonths}
	if err := b.users.add(nu); err != nil {
		return err
	}
	if err := b.rec.audit(ctx, vault.AuditUserAdded, "", userDetail(u)); err != nil {
		return err
	}
	b.events.publish(control.Event{Type: control.EventUserAdded, Time: time.Now().UTC(), User: &u})
	return nil
}

func (b *backend) UpdateUser(ctx context.Context, u control.User) error {
	nu := user{Username: u.Username, FullName: u.FullName, Extensions: u.Extensions, Mode: u.Mode,
		Direction: u.Direction, External: u.External, RetentionMonths: u.RetentionMonths}
	if err := b.users.update(nu); err != nil {
		return err
	}
	if err := b.rec.audit(ctx, vault.AuditUserChanged, "", userDetail(u)); err != nil {
		return err
	}
	b.events.publish(control.Event{Type: control.EventUserUpdated, Time: time.Now().UTC(), User: &u})
	return nil
}

func (b *backend) RemoveUser(ctx context.Context, username string) error {
	if err := b.users.remove(username); err != nil {
		return err
	}
	if err := b.rec.audit(ctx, vault.AuditUserRemoved, "", username); err != nil {
		return err
	}
	b.events.publish(control.Event{Type: control.EventUserRemoved, Time: time.Now().UTC(), User: &control.User{Username: username}})
	return nil
}

func (b *backend) Record(ctx context.Context, req control.RecordRequest) (control.RecordResult, error) {
	return b.rec.Record(req.Target, req.Action)
}

func (b *backend) InstallLicense(ctx context.Context, file []byte) (control.License, error) {
	lic, err := b.rec.InstallLicence(file)
	if err != nil {
		return lic, err
	}
	return lic, b.rec.audit(ctx, vault.AuditLicenseInstalled, "", fmt.Sprintf("%s, %s, %d, expires %s", lic.Customer, lic.Model, lic.Count, lic.Expires))
}

// userDetail describes a user in an audit entry.
func userDetail(u control.User) string {
	return fmt.Sprintf("%s (%s): extensions %s, mode %s", u.Username, u.FullName, strings.Join(u.Extensions, ","), u.Mode)
}

func (b *backend) Subscribe(ctx context.Context) <-chan control.Event {
	return b.events.subscribe(ctx)
}
