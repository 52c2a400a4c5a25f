package control

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callvault/callvault/internal/vocab"
)

// Search limits. A Query with Limit 0 asks for DefaultLimit recordings.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// Query selects recordings, newest first (by start, then by id, both
// descending). Zero fields do not filter. A recording matches when:
//   - From <= start <= To (both bounds inclusive, as in the vault's index;
//     the console turns "--to 2026-11-27" into the day's last nanosecond);
//   - User, Extension and Direction (IN or OUT) equal its fields;
//   - Remote: the digits of its remote number contain the digits of Remote
//     anywhere, other characters ignored ("8201" and "+1 555 820 1320"
//     find "+15558201320"); a Remote without digits must equal it;
//   - its duration is at least MinDurationMS;
//   - it comes after Cursor in the newest-first order.
//
// Cursor is opaque: the X-Next-Cursor header of the page before (see
// NewCursor). Limit caps the number of results; the handler turns 0 into
// DefaultLimit and asks the Backend for one more than the page (to learn
// whether another page follows), so a Backend sees 1..MaxLimit+1.
type Query struct {
	From          time.Time
	To            time.Time
	User          string
	Extension     string
	Remote        string
	Direction     string
	MinDurationMS int64
	Cursor        string
	Limit         int
}

// HeaderNextCursor is the response header of a search that names the
// Cursor of the next page; absent on the last page.
const HeaderNextCursor = "X-Next-Cursor"

// maxCursorLen bounds a cursor: the encoding of 20 digits and an id.
const maxCursorLen = 128

// NewCursor returns the cursor of the page that follows a page whose last
// recording started at start and has id id: base64url (unpadded) of
// "<unix nanoseconds>/<id>", as the vault's time-ordered index keys end.
func NewCursor(start time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%020d/%s", start.UnixNano(), id))
}

// ParseCursor decodes a cursor made by NewCursor: the start (UTC) and id of
// the last recording of the page before. The error wraps ErrInvalid.
func ParseCursor(c string) (start time.Time, id string, err error) {
	bad := func(why string) (time.Time, string, error) {
		return time.Time{}, "", fmt.Errorf("%w: cursor %q is not one a search returned (%s)", ErrInvalid, clip(c), why)
	}
	if len(c) > maxCursorLen {
		return bad("too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return bad("not base64url")
	}
	nanos, id, ok := strings.Cut(string(raw), "/")
	if !ok || id == "" || !recordIDRE.MatchString(id) {
		return bad("no record id")
	}
	n, err := strconv.ParseInt(nanos, 10, 64)
	if err != nil {
		return bad("no start")
	}
	return time.Unix(0, n).UTC(), id, nil
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Values encodes q as URL query parameters: from and to (RFC 3339), user,
// ext, remote, direction, min_duration_ms, cursor and limit. Zero fields
// are left out.
func (q Query) Values() url.Values {
	v := url.Values{}
	if !q.From.IsZero() {
		v.Set("from", q.From.Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.Format(time.RFC3339Nano))
	}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("user", q.User)
	set("ext", q.Extension)
	set("remote", q.Remote)
	set("direction", q.Direction)
	if q.MinDurationMS != 0 {
		v.Set("min_duration_ms", strconv.FormatInt(q.MinDurationMS, 10))
	}
	set("cursor", q.Cursor)
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

var queryParams = []string{"from", "to", "user", "ext", "remote", "direction", "min_duration_ms", "cursor", "limit"}

// ParseQuery decodes and validates URL query parameters written by
// Query.Values. The direction is accepted in any case. Every problem is
// reported in one error wrapping ErrInvalid.
func ParseQuery(v url.Values) (Query, error) {
	var q Query
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(v)) {
		vs := v[k]
		if !slices.Contains(queryParams, k) {
			problems = append(problems, fmt.Sprintf("unknown query parameter %q", k))
		} else if len(vs) > 1 {
			problems = append(problems, fmt.Sprintf("query parameter %q given %d times", k, len(vs)))
		}
	}
	parseTime := func(name string) time.Time {
		s := v.Get(name)
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q is not an RFC 3339 time", name, s))
		}
		return t
	}
	q.From = parseTime("from")
	q.To = parseTime("to")
	q.User = v.Get("user")
	q.Extension = v.Get("ext")
	q.Remote = v.Get("remote")
	q.Direction = strings.ToUpper(v.Get("direction"))
	if s := v.Get("min_duration_ms"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			problems = append(problems, fmt.Sprintf("min_duration_ms %q is not a whole number of milliseconds", s))
		} else {
			q.MinDurationMS = n
		}
	}
	q.Cursor = v.Get("cursor")
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("limit %q is not a positive integer", s))
		} else {
			q.Limit = n
		}
	}
	problems = append(problems, q.problems()...)
	if len(problems) > 0 {
		return Query{}, invalid(problems)
	}
	return q, nil
}

// Validate checks the query's fields. The error wraps ErrInvalid and names
// every problem.
func (q Query) Validate() error { return invalid(q.problems()) }

func (q Query) problems() []string {
	var problems []string
	if q.Direction != "" && q.Direction != DirectionIn && q.Direction != DirectionOut {
		problems = append(problems, fmt.Sprintf("direction %q must be IN or OUT", q.Direction))
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		problems = append(problems, fmt.Sprintf("limit %d is not a positive integer up to %d", q.Limit, MaxLimit))
	}
	if q.MinDurationMS < 0 {
		problems = append(problems, fmt.Sprintf("min_duration_ms %d is negative", q.MinDurationMS))
	}
	if q.Cursor != "" {
		if _, _, err := ParseCursor(q.Cursor); err != nil {
			problems = append(problems, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		problems = append(problems, fmt.Sprintf("from %s is after to %s",
			q.From.Format(time.RFC3339), q.To.Format(time.RFC3339)))
	}
	return problems
}

// Validate checks a user's fields, as the handler does before AddUser: a
// username of letters, digits, '.', '_' and '-'; at least one extension of
// digits, '+', '*' and '#'; a mode among the three (empty is not accepted
// here; the handler defaults it first); filters among theirs or empty.
// The error wraps ErrInvalid and names every problem.
func (u User) Validate() error {
	problems := vocab.CheckUser(u.Username, u.FullName, u.Extensions, u.Mode)
	if p := vocab.CheckFilter(u.Direction, u.External); p != "" {
		problems = append(problems, p)
	}
	if p := vocab.CheckRetention(u.RetentionMonths); p != "" {
		problems = append(problems, p)
	}
	return invalid(problems)
}

// Validate checks a record request: a known action, and a target that is
// an extension (digits, '+', '*', '#') or a record id (13 digits, which
// is one too).
func (r RecordRequest) Validate() error {
	var problems []string
	if !slices.Contains(vocab.Actions(), r.Action) {
		problems = append(problems, fmt.Sprintf("action %q: want start, stop, keep, pause or resume", r.Action))
	}
	if p := vocab.CheckExtension(r.Target); p != "" {
		problems = append(problems, "target: want an extension or a record id: "+p)
	}
	return invalid(problems)
}
