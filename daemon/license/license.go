package license

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The licence models.
const (
	ModelUser    = "user"    // at most Count named users are recorded
	ModelChannel = "channel" // at most Count recordings at once
)

// Bounds of a licence's values (see the package doc).
const (
	MaxCount       = 1000000
	MaxCustomerLen = 200 // bytes of UTF-8

	dateLayout   = "2006-01-02"
	issuedLayout = "2006-01-02T15:04:05Z"
)

// License is a licence's claim: who may record how much, until when.
type License struct {
	Customer string `json:"customer"`
	Model    string `json:"model"` // ModelUser or ModelChannel
	Count    int    `json:"count"`
	// Expires is the last day (UTC) the licence is valid, YYYY-MM-DD, or
	// "" for a licence that never expires.
	Expires string `json:"expires,omitempty"`
	// Issued is when it was issued, UTC, whole seconds; zero only for the
	// evaluation licence.
	Issued time.Time `json:"issued"`
}

// The evaluation licence's terms.
const (
	evaluationCustomer = "evaluation"
	evaluationCount    = 8
)

// Evaluation is the licence in force when no valid one is installed: 8
// channels, no expiry.
func Evaluation() License {
	return License{Customer: evaluationCustomer, Model: ModelChannel, Count: evaluationCount}
}

// IsEvaluation tells the evaluation licence from an issued one (an issued
// licence always has an issue time).
func (l License) IsEvaluation() bool {
	return l.Issued.IsZero() && l == Evaluation()
}

// Unit is what the licence counts, singular or plural for n: "channel",
// "users".
func (l License) Unit(n int) string {
	unit := "channel"
	if l.Model == ModelUser {
		unit = "user"
	}
	if n != 1 {
		unit += "s"
	}
	return unit
}

// Describe is a one-line summary of l for people: "channel licence for
// ACME: 8 channels, expires 2027-03-31", "evaluation licence: 8
// channels, no expiry".
func Describe(l License) string {
	expiry := "no expiry"
	if l.Expires != "" {
		expiry = "expires " + l.Expires
	}
	if l.IsEvaluation() {
		return fmt.Sprintf("evaluation licence: %d %s, %s", l.Count, l.Unit(l.Count), expiry)
	}
	return fmt.Sprintf("%s licence for %s: %d %s, %s", l.Model, l.Customer, l.Count, l.Unit(l.Count), expiry)
}

// End is the first instant the licence is no longer valid (midnight UTC
// after its expiry day); ok is false for a licence that never expires or
// whose expiry is not a date.
func (l License) End() (end time.Time, ok bool) {
	if l.Expires == "" {
		return time.Time{}, false
	}
	day, err := time.Parse(dateLayout, l.Expires)
	if err != nil {
		return time.Time{}, false
	}
	return day.AddDate(0, 0, 1), true
}

// Expired tells whether l has expired at now: from the end of its expiry
// day in UTC on.
func Expired(l License, now time.Time) bool {
	end, ok := l.End()
	return ok && !now.Before(end)
}

// validate checks l's values against the rules of the package doc. The
// errors say what is wrong, without a sentinel: Issue and Verify add
// theirs.
func validate(l License) error {
	if err := validCustomer(l.Customer); err != nil {
		return err
	}
	if l.Model != ModelUser && l.Model != ModelChannel {
		return fmt.Errorf("model %q: want %s or %s", l.Model, ModelUser, ModelChannel)
	}
	if l.Count < 1 || l.Count > MaxCount {
		return fmt.Errorf("count %d: want 1 to %d", l.Count, MaxCount)
	}
	if l.Issued.IsZero() {
		return fmt.Errorf("no issue time")
	}
	if l.Issued.Location() != time.UTC || l.Issued.Nanosecond() != 0 {
		return fmt.Errorf("issue time %s: want UTC with whole seconds", l.Issued.Format(time.RFC3339Nano))
	}
	if l.Issued.Year() < 1 || l.Issued.Year() > 9999 {
		return fmt.Errorf("issue time %s: out of range", l.Issued)
	}
	if l.Expires != "" {
		day, err := ParseDate(l.Expires)
		if err != nil {
			return err
		}
		issuedDay := time.Date(l.Issued.Year(), l.Issued.Month(), l.Issued.Day(), 0, 0, 0, 0, time.UTC)
		if day.Before(issuedDay) {
			return fmt.Errorf("expiry %s is before the issue date %s", l.Expires, l.Issued.Format(dateLayout))
		}
	}
	return nil
}

func validCustomer(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("no customer name")
	case len(s) > MaxCustomerLen:
		return fmt.Errorf("customer name of %d bytes: at most %d", len(s), MaxCustomerLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("customer name %q is not UTF-8", s)
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("customer name %q has spaces around it", s)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("customer name %q has the control character %U", s, r)
		}
	}
	return nil
}

// ParseDate parses an expiry date, YYYY-MM-DD exactly (2027-03-31, not
// 2027-3-31).
func ParseDate(s string) (time.Time, error) {
	day, err := time.Parse(dateLayout, s)
	if err != nil || day.Format(dateLayout) != s {
		return time.Time{}, fmt.Errorf("expiry %q: want a date YYYY-MM-DD", s)
	}
	return day, nil
}
