// Package media turns the RTP legs of a SIPREC-forked call into one MP3
// stream.
//
// A Recording owns the UDP sockets of its legs (usually taken from a
// PortPool). One reader goroutine per leg reads packets and hands them, with
// their arrival time, to a pure ingest step that runs under the recording's
// lock:
//
//	RTP packet -> decode (G.711) -> timeline (placement by RTP timestamp)
//	           -> mixer (mono sum, or owner-left / others-right stereo)
//	           -> LAME (MPEG-2.5 Layer III, 8 kHz, 32 kbps CBR) -> io.Writer
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
// No clock, timer or goroutine is created per packet, and the steady-state
// path does not allocate, so the timeline, mixer and ingest steps are tested
// with synthetic arrival times.
package media
