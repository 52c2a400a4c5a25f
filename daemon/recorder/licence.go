package recorder

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/daemon/license"
)

// Licence alarms (control.Alarm names).
const (
	AlarmLicenseHigh     = "license_high"     // use at 80 % of the licence
	AlarmLicenseFull     = "license_full"     // use at the licence's count
	AlarmLicenseExpiring = "license_expiring" // expiry within 30 days
)

// licensing holds the licence in force and its alarms. A user licence
// records the calls of its first Count users (in the order they were
// added); a channel licence at most Count recordings at once, an On
// Demand call counting only while it records.
type licensing struct {
	dataDir string
	trusted []ed25519.PublicKey // guarded by mu: a reload changes them
	log     *slog.Logger
	alarms  *alarmBoard

	mu    sync.Mutex
	lic   license.License
	eval  bool
	why   string // why the installed licence is not in force ("" when it is, or none is installed)
	level license.Level
}

// newLicensing loads the data dir's licence; without one (or with one
// that does not verify) the evaluation licence is in force and the log
// says so.
func newLicensing(dataDir string, trusted []ed25519.PublicKey, log *slog.Logger, alarms *alarmBoard, now time.Time) *licensing {
	l := &licensing{dataDir: dataDir, trusted: trusted, log: log, alarms: alarms}
	lic, eval, err := license.Load(dataDir, trusted, now)
	l.set(lic, eval, err)
	return l
}

// set puts a licence in force and logs it.
func (l *licensing) set(lic license.License, eval bool, err error) {
	l.mu.Lock()
	l.lic, l.eval, l.why = lic, eval, ""
	if err != nil {
		l.why = err.Error()
	}
	l.mu.Unlock()
	switch {
	case err != nil:
		l.log.Error("licence refused: the evaluation licence is in force", "err", err, "licence", license.Describe(lic))
	case eval:
		l.log.Warn("no licence installed: the evaluation licence is in force", "licence", license.Describe(lic))
	default:
		l.log.Info("licence in force", "licence", license.Describe(lic))
	}
}

// install verifies a licence file and puts it in force.
func (l *licensing) install(data []byte, now time.Time) (license.License, error) {
	l.mu.Lock()
	trusted := l.trusted
	l.mu.Unlock()
	lic, err := license.Install(l.dataDir, data, trusted, now)
	if err != nil {
		return license.License{}, err
	}
	l.set(lic, false, nil)
	l.alarms.clear(AlarmLicenseExpiring)
	return lic, nil
}

// current returns the licence in force.
func (l *licensing) current() (license.License, bool, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lic, l.eval, l.why
}

// check is run every second: an installed licence that expired gives way
// to the evaluation licence; an expiry within 30 days raises an alarm.
func (l *licensing) check(now time.Time) {
	lic, eval, _ := l.current()
	if !eval && license.Expired(lic, now) {
		l.set(license.Evaluation(), true, fmt.Errorf("licence for %s expired on %s; the evaluation licence is in force", lic.Customer, lic.Expires))
		l.alarms.clear(AlarmLicenseExpiring)
		return
	}
	if days, warn := license.ExpiryWarning(lic, now); warn && !eval {
		l.alarms.raise(AlarmLicenseExpiring, fmt.Sprintf("the licence for %s expires on %s, in %d days", lic.Customer, lic.Expires, days))
	} else {
		l.alarms.clear(AlarmLicenseExpiring)
	}
}

// gauge takes the use now and raises or clears the usage alarms.
func (l *licensing) gauge(used int) {
	l.mu.Lock()
	prev, lic := l.level, l.lic
	next := license.NextLevel(prev, used, lic.Count)
	l.level = next
	l.mu.Unlock()
	if next == prev {
		return
	}
	what := fmt.Sprintf("%d of %d %s in use", used, lic.Count, lic.Unit(lic.Count))
	switch next {
	case license.OK:
		l.alarms.clear(AlarmLicenseHigh)
		l.alarms.clear(AlarmLicenseFull)
	case license.Warn:
		l.alarms.clear(AlarmLicenseFull)
		l.alarms.raise(AlarmLicenseHigh, what+": the licence is at 80 %")
	case license.Full:
		l.alarms.raise(AlarmLicenseHigh, what+": the licence is at 80 %")
		l.alarms.raise(AlarmLicenseFull, what+": calls beyond it are refused")
	}
}

// licensedUsers returns the usernames a user licence covers: the first
// count users in the order they were added.
func licensedUsers(users []user, count int) map[string]bool {
	byAdded := sortedByAdded(users)
	out := make(map[string]bool, min(count, len(byAdded)))
	for i := 0; i < len(byAdded) && i < count; i++ {
		out[byAdded[i].Username] = true
	}
	return out
}

// admitLicensed checks a new call against the licence: its owner must be
// licensed (user licence), or a channel must be free when it records from
// the start (channel licence). A channel is reserved at once, so that
// INVITEs admitted side by side cannot take more than the licence; the
// caller calls release once the call is live (it then holds the channel)
// or refused.
func (r *Recorder) admitLicensed(p parties, records, named bool) (release func(), err error) {
	release = func() {}
	lic, _, _ := r.licence.current()
	switch lic.Model {
	case license.ModelUser:
		if !named {
			return release, nil // no metadata yet: checked when the call ends
		}
		if !p.known() {
			return release, refuseUnlicensed.Err("no participant is a user", lic.Count)
		}
		if !licensedUsers(r.users.list(), lic.Count)[p.Username] {
			return release, refuseUnlicensed.Err("user "+p.Username, lic.Count)
		}
	case license.ModelChannel:
		if !records {
			return release, nil
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.channelsLocked()+r.reserved >= lic.Count {
			return release, refuseChannels.Err(lic.Count)
		}
		r.reserved++
		return sync.OnceFunc(func() {
			r.mu.Lock()
			r.reserved--
			r.mu.Unlock()
		}), nil
	}
	return release, nil
}

// errNoChannel: an On Demand start with every channel of the licence in use.
var errNoChannel = errors.New("licence: every channel is in use")

// startAllowed checks that an On Demand call may start recording now.
func (r *Recorder) startAllowed() error {
	lic, _, _ := r.licence.current()
	if lic.Model == license.ModelChannel && r.channelsInUse() >= lic.Count {
		return fmt.Errorf("%w: %d of %d channels", errNoChannel, lic.Count, lic.Count)
	}
	return nil
}

// channelsInUse counts the live calls that hold a channel.
func (r *Recorder) channelsInUse() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.channelsLocked()
}

// channelsLocked is channelsInUse with r.mu held (a call's mu is taken
// under r.mu, never the other way round).
func (r *Recorder) channelsLocked() int {
	n := 0
	for _, c := range r.calls {
		c.mu.Lock()
		if c.mode.holdsChannel() {
			n++
		}
		c.mu.Unlock()
	}
	return n
}

// licenceUse is the use the licence counts now: users (user licence) or
// live recordings holding a channel.
func (r *Recorder) licenceUse() int {
	lic, _, _ := r.licence.current()
	if lic.Model == license.ModelUser {
		return len(r.users.list())
	}
	return r.channelsInUse()
}

// CheckLicence runs the licence's periodic checks: expiry, and the usage
// alarms.
func (r *Recorder) CheckLicence(now time.Time) {
	r.licence.check(now)
	r.licence.gauge(r.licenceUse())
}

// InstallLicence verifies a licence file against the trusted keys and puts
// it in force (control.ErrInvalid says why it was refused; the licence in
// force stays).
func (r *Recorder) InstallLicence(data []byte) (control.License, error) {
	if _, err := r.licence.install(data, r.now()); err != nil {
		return control.License{}, fmt.Errorf("%w: %w", control.ErrInvalid, err)
	}
	r.CheckLicence(r.now())
	return r.licenceView(), nil
}

// licenceView is the control API's picture of the licence and its use.
func (r *Recorder) licenceView() control.License {
	lic, eval, why := r.licence.current()
	v := control.License{Customer: lic.Customer, Model: lic.Model, Count: lic.Count, Used: r.licenceUse(),
		Expires: lic.Expires, Evaluation: eval, Error: why}
	if !lic.Issued.IsZero() {
		v.Issued = lic.Issued.UTC().Format(time.RFC3339)
	}
	return v
}

// reload reads the data dir's licence file again with trusted as the
// keys it may be signed with ([license] public_keys may have changed).
func (l *licensing) reload(trusted []ed25519.PublicKey, now time.Time) {
	l.mu.Lock()
	l.trusted = trusted
	l.mu.Unlock()
	lic, eval, err := license.Load(l.dataDir, trusted, now)
	l.set(lic, eval, err)
}

// Reload applies what SIGHUP changes in the recorder: the users file read
// again, and the licence with the keys of the configuration. A users file
// that does not read keeps the users as they were.
func (r *Recorder) Reload(licenceKeys []ed25519.PublicKey) error {
	n, err := r.users.Reload()
	if err != nil {
		return fmt.Errorf("users not reloaded: %w", err)
	}
	r.log.Info("users reloaded", "users", n)
	r.licence.reload(licenceKeys, r.now())
	return nil
}
