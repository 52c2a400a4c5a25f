package license

import "time"

// Level is the usage alarm of a licence: how close the use (users or
// live recordings, by its model) is to its count.
type Level int

const (
	OK   Level = iota
	Warn       // use reached 80 % of the count
	Full       // use reached the count
)

func (v Level) String() string {
	switch v {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	case Full:
		return "full"
	}
	return "Level(?)"
}

// NextLevel is the alarm after a change of use, given the alarm before:
//   - used >= count: Full;
//   - used at or above 80 % of count (and below it): Warn, also from Full;
//   - used at or below 60 % of count: OK;
//   - between 60 and 80 %: the level before, except that Full drops to
//     Warn, since the use is below the count.
//
// So an alarm raised at 80 % is cleared only once the use has fallen to
// 60 %, and a use that wavers around either threshold does not flap. A
// count below 1 allows nothing: Full.
func NextLevel(prev Level, used, count int) Level {
	switch {
	case count < 1 || used >= count:
		return Full
	case used*5 >= count*4: // >= 80 %
		return Warn
	case used*5 <= count*3: // <= 60 %
		return OK
	case prev == Full:
		return Warn
	}
	return prev
}

// WarnDays is how long before its expiry a licence is warned about.
const WarnDays = 30

// ExpiryWarning says how many days are left of l at now, counted in UTC
// calendar days from today to the expiry day (0 on the expiry day itself,
// -1 the day after), and whether to warn: from WarnDays days before the
// expiry day on, and once expired. A licence that never expires gives
// 0, false.
func ExpiryWarning(l License, now time.Time) (daysLeft int, warn bool) {
	end, ok := l.End()
	if !ok {
		return 0, false
	}
	u := now.UTC()
	today := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	// Whole days between two UTC midnights (in seconds: a Duration would
	// saturate for an expiry centuries away).
	daysLeft = int((end.Unix()-today.Unix())/86400) - 1
	return daysLeft, daysLeft <= WarnDays
}
