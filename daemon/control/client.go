package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
)

// DefaultSocket is where callvaultd listens unless configured otherwise.
const DefaultSocket = "/run/callvault/control.sock"

// SocketEnv names the environment variable that overrides DefaultSocket.
const SocketEnv = "CALLVAULT_SOCKET"

// Client talks to callvaultd. The zero value is ready to use; a Client must
// not be copied after first use.
type Client struct {
	// Socket is the path of the daemon's unix socket. When empty, the
	// CALLVAULT_SOCKET environment variable is used, else DefaultSocket.
	Socket string
	// Dial, when set, replaces dialling Socket (for tests and tunnels).
	Dial func(ctx context.Context) (net.Conn, error)

	once sync.Once
	hc   *http.Client
}

// SocketPath returns the socket the client dials.
func (c *Client) SocketPath() string {
	if c.Socket != "" {
		return c.Socket
	}
	if s := os.Getenv(SocketEnv); s != "" {
		return s
	}
	return DefaultSocket
}

func (c *Client) http() *http.Client {
	c.once.Do(func() {
		c.hc = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return c.dial(ctx)
			},
			DisableCompression: true,
			MaxIdleConns:       4,
		}}
	})
	return c.hc
}

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	var conn net.Conn
	var err error
	if c.Dial != nil {
		conn, err = c.Dial(ctx)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "unix", c.SocketPath())
	}
	if err == nil {
		return conn, nil
	}
	if ctx.Err() != nil {
		return nil, err
	}
	cause := err
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		cause = op.Err // "connect: no such file or directory"
	}
	hint := "is the daemon running?"
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		hint = "permission denied: is this user in the callvault or callvault-noc group, and is the daemon running as a service?"
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
	default:
		hint = "dial failed"
	}
	return nil, &unreachableError{socket: c.SocketPath(), err: cause, hint: hint}
}

// do sends a request and decodes a JSON reply into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	resp, err := c.send(ctx, method, path, query, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s reply: %w", method, path, err)
	}
	return nil
}

func (c *Client) send(ctx context.Context, method, path string, query url.Values, in any) (*http.Response, error) {
	u := "http://callvaultd" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if raw, ok := in.(rawBody); ok {
		body = bytes.NewReader(raw)
	} else if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build %s %s request: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http().Do(req)
	if err != nil {
		var ue *unreachableError
		if errors.As(err, &ue) {
			return nil, ue
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, nil
}

// rawBody is a request body sent as it is (a licence file: the daemon
// reads and checks it).
type rawBody []byte

// readError turns an error reply into an *Error.
func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb errorBody
	if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
		return &Error{StatusCode: resp.StatusCode, Message: eb.Error}
	}
	msg := strings.TrimSpace(string(b))
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &Error{StatusCode: resp.StatusCode, Message: fmt.Sprintf("callvaultd: %s (HTTP %d)", msg, resp.StatusCode)}
}

// Status returns the daemon's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, nil, &st)
	return st, err
}

// Calls returns the live calls.
func (c *Client) Calls(ctx context.Context) ([]Call, error) {
	var calls []Call
	err := c.do(ctx, http.MethodGet, "/v1/calls", nil, nil, &calls)
	return calls, err
}

// Search returns the recordings matching q: one page, of at most q.Limit.
func (c *Client) Search(ctx context.Context, q Query) ([]Recording, error) {
	recs, _, err := c.SearchPage(ctx, q)
	return recs, err
}

// SearchPage returns a page of the recordings matching q and the cursor of
// the next page ("" after the last one): set it as q.Cursor to get that
// page.
func (c *Client) SearchPage(ctx context.Context, q Query) (recs []Recording, next string, err error) {
	const method, path = http.MethodGet, "/v1/recordings"
	resp, err := c.send(ctx, method, path, q.Values(), nil)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, "", readError(resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		return nil, "", fmt.Errorf("decode %s %s reply: %w", method, path, err)
	}
	return recs, resp.Header.Get(HeaderNextCursor), nil
}

// Recording returns one recording.
func (c *Client) Recording(ctx context.Context, id string) (Recording, error) {
	var rec Recording
	err := c.do(ctx, http.MethodGet, "/v1/recordings/"+url.PathEscape(id), nil, nil, &rec)
	return rec, err
}

// Export writes the decrypted MP3 of recording id to w. It fails when the
// daemon refuses, when the stream breaks, or when the daemon reports a
// failure in the trailer after streaming part of the file: the caller must
// then discard what was written.
func (c *Client) Export(ctx context.Context, id string, w io.Writer) error {
	resp, err := c.send(ctx, http.MethodGet, "/v1/recordings/"+url.PathEscape(id)+"/audio", nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return readError(resp)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("recording %s: stream broke after %d bytes: %w", id, n, err)
	}
	if msg := resp.Trailer.Get(TrailerError); msg != "" {
		return fmt.Errorf("recording %s: export failed after %d bytes: %s", id, n, msg)
	}
	return nil
}

// Users returns the recorded users.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var users []User
	err := c.do(ctx, http.MethodGet, "/v1/users", nil, nil, &users)
	return users, err
}

// AddUser adds a user. An empty Mode means ModeAlways.
func (c *Client) AddUser(ctx context.Context, u User) error {
	return c.do(ctx, http.MethodPost, "/v1/users", nil, u, nil)
}

// Record applies a record action (start, stop, keep, pause, resume) to
// the live call of an owner's extension or of a record id.
func (c *Client) Record(ctx context.Context, target, action string) (RecordResult, error) {
	var res RecordResult
	err := c.do(ctx, http.MethodPost, "/v1/record", nil, RecordRequest{Target: target, Action: action}, &res)
	return res, err
}

// InstallLicense sends a licence file to be verified and put in force.
func (c *Client) InstallLicense(ctx context.Context, file []byte) (License, error) {
	resp, err := c.send(ctx, http.MethodPut, "/v1/license", nil, rawBody(file))
	if err != nil {
		return License{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return License{}, readError(resp)
	}
	var lic License
	if err := json.NewDecoder(resp.Body).Decode(&lic); err != nil {
		return License{}, fmt.Errorf("decode licence: %w", err)
	}
	return lic, nil
}

// UpdateUser replaces an existing user's name, extensions, mode and
// filters.
func (c *Client) UpdateUser(ctx context.Context, u User) error {
	return c.do(ctx, http.MethodPut, "/v1/users/"+url.PathEscape(u.Username), nil, u, nil)
}

// RemoveUser removes a user.
func (c *Client) RemoveUser(ctx context.Context, username string) error {
	return c.do(ctx, http.MethodDelete, "/v1/users/"+url.PathEscape(username), nil, nil, nil)
}

// Events subscribes to the daemon's events. It returns once the daemon has
// registered the subscription, so every event that happens after Events
// returns is delivered. Read them with EventStream.Next; Close the stream
// (or cancel ctx) when done.
func (c *Client) Events(ctx context.Context) (*EventStream, error) {
	resp, err := c.send(ctx, http.MethodGet, "/v1/events", nil, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	return &EventStream{ctx: ctx, body: resp.Body, sc: sc}, nil
}

// EventStream is a subscription to the daemon's events. It is not safe
// for concurrent use, except Close, which may be called from any goroutine
// to stop a blocked Next.
type EventStream struct {
	ctx  context.Context
	body io.ReadCloser
	sc   *bufio.Scanner
}

// Next blocks for the next event. It returns io.EOF when the daemon ends
// the stream (it is shutting down), ctx's error when the context is done,
// and another error when the connection breaks or a line does not decode.
func (s *EventStream) Next() (Event, error) {
	for s.sc.Scan() {
		line := s.sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return Event{}, fmt.Errorf("decode event: %w", err)
		}
		return ev, nil
	}
	if err := s.ctx.Err(); err != nil {
		return Event{}, err
	}
	if err := s.sc.Err(); err != nil {
		return Event{}, fmt.Errorf("read events: %w", err)
	}
	return Event{}, io.EOF
}

// Close ends the subscription.
func (s *EventStream) Close() error { return s.body.Close() }

// Verify checks one recording's file: every segment authenticates and the
// file's SHA-256 matches the index.
func (c *Client) Verify(ctx context.Context, id string) (Check, error) {
	var ch Check
	err := c.do(ctx, http.MethodGet, "/v1/recordings/"+url.PathEscape(id)+"/verify", nil, nil, &ch)
	return ch, err
}

// VerifyAll checks every recording and reports sealed files the index
// lacks, calling fn for each as the daemon streams them. It stops at fn's
// first error and returns it.
func (c *Client) VerifyAll(ctx context.Context, fn func(Check) error) error {
	resp, err := c.send(ctx, http.MethodGet, "/v1/verify", nil, nil)
	if err != nil {
		return err
	}
	return readLines(ctx, resp, "verify", fn)
}
