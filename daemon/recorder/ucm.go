package recorder

import (
	"context"
	"maps"
	"slices"

	"github.com/callvault/callvault/daemon/control"
	"github.com/callvault/callvault/siprec"
)

// Cisco UCM records a call as two SIP sessions, one per voice (the near
// end, the recorded line; the far end, the other party). The Recorder
// makes them one call: the first half is admitted like any session
// (licence, policy, owner: its metadata names both parties), and the other
// half, arriving within siprec.UCMPairWindow with the same key, joins it
// as its second leg, with no admission of its own: one call, one channel,
// one file. The call ends when both halves have ended. A half whose
// partner never comes is recorded alone, and its recording says which
// half it is (vault.Recording.UCMHalf).

// ucmCall is what a call recorded from Cisco UCM keeps of its halves.
type ucmCall struct {
	first   siprec.UCMHalf // the first half, which opened the call
	primary string         // its Call-ID: the call's key in Recorder.calls

	// live holds the Call-IDs of the halves not ended yet, and reason
	// why the last one that ended did (Recorder.mu).
	live   map[string]bool
	reason string

	// ids is the Call-ID of each half that joined, by role (call.mu).
	ids map[string]string
}

// newUCMCall is the UCM part of a call s opens; nil for a SIPREC session.
func newUCMCall(s *siprec.Session) *ucmCall {
	if s.UCM == nil {
		return nil
	}
	return &ucmCall{first: *s.UCM, primary: s.CallID,
		live: map[string]bool{s.CallID: true}, ids: map[string]string{s.UCM.Role: s.CallID}}
}

// ucmPairing is the Recorder's state of the halves being paired
// (Recorder.mu).
type ucmPairing struct {
	pairs siprec.UCMPairs
	// opening closes, for each first half being admitted, once its
	// admission is over, so that its partner waits for the call.
	opening map[string]chan struct{}
	// joined are the second halves' Call-IDs, to the call they joined.
	joined map[string]*call
}

func newUCMPairing() ucmPairing {
	return ucmPairing{opening: make(map[string]chan struct{}), joined: make(map[string]*call)}
}

// admitUCM admits one half of a UCM recording: it joins its partner's
// call when there is one (joined true), or opens a call of its own.
func (r *Recorder) admitUCM(ctx context.Context, s *siprec.Session) (answers []siprec.MediaAnswer, joined bool, err error) {
	r.mu.Lock()
	partner, paired := r.ucm.pairs.Pair(*s.UCM, s.CallID, r.now())
	wait := r.ucm.opening[partner]
	if !paired {
		r.ucm.opening[s.CallID] = make(chan struct{})
	}
	r.mu.Unlock()

	if paired {
		if wait != nil {
			select { // the partner is being admitted (a few ms)
			case <-wait:
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
		}
		if c := r.lookup(partner); c != nil {
			if answers, ok, err := r.join(c, s); ok {
				return answers, true, err
			}
		}
		// The partner was refused or has ended: this half is a call of its own.
		answers, err := r.admit(s)
		return answers, false, err
	}

	answers, err = r.admit(s)
	r.mu.Lock()
	close(r.ucm.opening[s.CallID])
	delete(r.ucm.opening, s.CallID)
	if err != nil {
		r.ucm.pairs.Forget(*s.UCM, s.CallID)
	}
	r.mu.Unlock()
	return answers, false, err
}

// join adds the half s to c, its partner's call, as a leg of its own. It
// reports false when c has ended or already has a half of s's role: s is
// then not joined. An error refuses s (no codec, no port) and leaves c as
// it was.
func (r *Recorder) join(c *call, s *siprec.Session) ([]siprec.MediaAnswer, bool, error) {
	r.mu.Lock()
	if c.ucm == nil || r.calls[c.ucm.primary] != c || len(c.ucm.live) == 0 {
		r.mu.Unlock()
		return nil, false, nil
	}
	c.mu.Lock()
	_, taken := c.ucm.ids[s.UCM.Role]
	c.mu.Unlock()
	if taken {
		r.mu.Unlock()
		return nil, false, nil
	}
	// Live from now: the partner's BYE does not end the call meanwhile.
	c.ucm.live[s.CallID] = true
	r.ucm.joined[s.CallID] = c
	r.mu.Unlock()

	answers, err := r.addHalf(c, s)
	if err != nil {
		if last, reason := r.dropHalf(c, s.CallID, ""); last {
			r.endCall(c, reason) // the partner ended while this half was refused
		}
		return nil, true, err
	}
	c.applyOwner(r.users.byExtension)
	r.describe(c)
	c.log.Info("ucm half joined the call", "role", s.UCM.Role, "half_call_id", s.CallID, "source", s.Source.String())
	r.events.publish(eventCall(control.EventCallUpdated, r.now(), c.view(r.users.byExtension)))
	return answers, true, nil
}

// addHalf opens the RTP ports of the half s's streams in c and takes its
// metadata (the latest of the far end).
func (r *Recorder) addHalf(c *call, s *siprec.Session) ([]siprec.MediaAnswer, error) {
	answers, legs, err := chooseMedia(s.Media)
	if err != nil {
		return nil, err
	}
	legs = capStreams(answers, legs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !r.ports.take(c.source, len(legs)) {
		return nil, refuseSourcePorts.Err(c.source, r.ports.limit)
	}
	c.ports += len(legs)
	li := 0
	for i := range answers {
		if answers[i].Port != -1 {
			continue
		}
		port, err := r.openLeg(c, legs[li], s.Media[i], r.now())
		if err != nil {
			c.log.Error("open rtp port for a ucm half", "err", err)
			return nil, refuseNoPort.Err() // what it opened stays with the call
		}
		li++
		answers[i].Port = port
	}
	c.ucm.ids[s.UCM.Role] = s.CallID
	c.takeSession(s)
	c.roster.note(s.Metadata, r.now())
	return answers, nil
}

// dropHalf takes the half callID out of c's live halves, noting reason
// ("" keeps the last one noted). It reports whether c has no live half
// left, and why the last one ended: the call is then over.
func (r *Recorder) dropHalf(c *call, callID, reason string) (last bool, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(c.ucm.live, callID)
	delete(r.ucm.joined, callID)
	if reason != "" {
		c.ucm.reason = reason
	}
	if len(c.ucm.live) > 0 || r.calls[c.ucm.primary] != c {
		return false, c.ucm.reason
	}
	delete(r.calls, c.ucm.primary)
	r.ucm.pairs.Forget(c.ucm.first, c.ucm.primary)
	return true, c.ucm.reason
}

// halfIDs are the Call-IDs of the sessions behind c that are live: the
// call's own for a SIPREC call, each live half's for a UCM call.
func (r *Recorder) halfIDs(c *call) []string {
	c.mu.Lock()
	id := c.session.CallID
	c.mu.Unlock()
	if c.ucm == nil {
		return []string{id}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(c.ucm.live))
}

// takeSession takes the latest state of a session of c (c.mu held): all
// of it for a SIPREC call; for a UCM call, whose halves are two sessions,
// the metadata (the far end both halves name).
func (c *call) takeSession(s *siprec.Session) {
	if c.ucm == nil {
		c.session = *s
		return
	}
	if s.Metadata != nil {
		c.session.Metadata = s.Metadata
	}
}

// callID is the Call-ID the call is known by (c.mu held): the session's;
// for a UCM call the near half's, else the far half's.
func (c *call) callID() string {
	if c.ucm != nil {
		if id := c.ucm.ids[siprec.UCMNear]; id != "" {
			return id
		}
		return c.ucm.ids[siprec.UCMFar]
	}
	return c.session.CallID
}

// loneHalf is the role of a UCM call's only half, "" when both came or
// the call is SIPREC (c.mu held).
func (c *call) loneHalf() string {
	if c.ucm == nil || len(c.ucm.ids) != 1 {
		return ""
	}
	for role := range c.ucm.ids {
		return role
	}
	return ""
}
