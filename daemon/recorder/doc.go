// Package recorder is callvaultd's logic between the SIP side and the
// vault: it decides which recording sessions to take and how, and turns
// each into a sealed recording.
//
// A Recorder is the siprec.Recorder the SIP server drives. For each
// session it:
//   - admits or refuses it (the disk reserve, the gateway's RTP port
//     budget, record_unknown against the users Directory), with the SIP
//     status and Warning text of refusals.go;
//   - chooses a codec and, for SRTP, a crypto suite for each audio stream,
//     and opens one RTP port per stream (media_choice.go, budget.go);
//   - names the call's owner, remote party and direction from the SIPREC
//     metadata and vendor call data (policy.go), and keeps every
//     participant with the time it joined and left (roster.go);
//   - follows re-INVITEs and UPDATEs: new legs, codec changes, hold;
//   - pairs Cisco UCM's two recording calls of a line (near end, far end)
//     into one call and one file, or records a lone half and marks it
//     (ucm.go);
//   - ends calls whose legs fall silent (silence.go) or, through the
//     DiskGuard, every call when the disk reaches its floor;
//   - at the end, seals the file with its ID3 tags and index entry, or
//     discards it when no participant is a user or the session was never
//     established.
//
// A Salvager seals what a crash or a full disk left as .part files. The
// Hub carries call, recording and alarm events to the control API, which
// Recorder.API serves.
//
// The package holds no process-wide state and reads the clock only
// through Options.Now, so its tests run a Recorder over a vault and a port
// pool in a temp dir, without SIP, sipp or ffmpeg. callvaultd's main
// reads the configuration and wires a Recorder to the SIP server, the
// control socket and systemd.
package recorder
