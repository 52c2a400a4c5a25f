// Package media turns the RTP legs of a SIPREC-forked call into one MP3
// stream.
//
// A Recording owns the UDP sockets of its legs (usually taken from a
// PortPool). One reader goroutine per leg reads packets and hands them, with
// their arrival time, to a pure ingest step that runs under the recording's
// lock:
//
//	RTP packet -> decode (G.711, G.729A) -> timeline (placement by RTP timestamp)
//	           -> mixer (mono sum, or owner-left / others-right stereo)
//	           -> LAME (MPEG-2.5 Layer III, 8 kHz, 32 kbps CBR) -> io.Writer
//
// Each leg has one decoder per payload type. G.711 (PCMU, PCMA) is a table
// lookup; G.729 and G.729A (SDP name G729 or G729A, one bitstream) go to
// bcg729 through cgo, once per packet, with a stateful decoder per leg and
// payload type whose C memory is freed when the leg's codecs change
// (SetCodecs, for a re-INVITE) or the recording stops. A G.729 payload is
// 10-byte frames of 80 samples, optionally ending in a 2-byte Annex B SID
// frame, decoded as 10 ms of comfort noise; between SID frames (DTX) the
// leg is silent, like any gap. Every codec has an 8000 Hz RTP clock, so
// placement by timestamp carries on across a codec change.
//
// Placement is by RTP timestamp, not by wall clock: a leg is anchored once,
// at the arrival offset of its first packet relative to the recording's
// origin (the first audio packet of any leg), and every later packet lands
// at that anchor plus its timestamp delta. Reordered packets fall into place,
// gaps are silence, duplicates are dropped. Audio is mixed and encoded up to
// the newest sample position minus a reorder window; packets that arrive
// behind audio already emitted are counted as late and dropped.
//
// The writer receives only MPEG audio frames. LAME's first frame (the
// placeholder for the LAME/Info tag) is withheld; after Stop the real tag is
// in Result.LAMETag. A complete file is Tags.ID3() + Result.LAMETag + the
// frames written to the writer, in that order; players and ffmpeg then report
// the exact duration, without the encoder delay.
//
// After a crash the frames of an unfinished call are all there is: no
// flush, no tag. SalvageMP3 keeps their complete frames and InfoFrame
// rebuilds the Info/LAME tag LAME would have written for them (EncoderDelay
// at the start, DecoderDelay as padding, since the stream was never
// flushed), so a recovered file is as standard as a sealed one.
//
// No clock, timer or goroutine is created per packet, and the steady-state
// path does not allocate, so the timeline, mixer and ingest steps are tested
// with synthetic arrival times.
package media
