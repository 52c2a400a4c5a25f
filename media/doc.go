// Package media turns the RTP legs of a SIPREC-forked call into one MP3
// stream.
//
// A Recording owns the UDP sockets of its legs (usually taken from a
// PortPool). On Linux the pool's sockets are read by the pool's pollers,
// one goroutine per CPU, each an epoll instance over many legs' sockets
// (waited on in Go's netpoller), with both legs of a call on the same
// poller; any other net.PacketConn is read by a goroutine of the leg's
// own. Datagrams are read with their source and their arrival time, taken
// by the kernel as the datagram arrives (SO_TIMESTAMPNS on Linux;
// elsewhere the clock when the read returns), so a poller that is behind
// places nothing wrong, and handed to a pure ingest step that runs under
// the recording's lock:
//
//	datagram -> source check -> SRTP (SDES) -> RTP -> one SSRC at a time
//	         -> duplicates dropped -> reorder buffer (payload bytes)
//	         -> decode in RTP order (G.711, G.729A; loss concealed; CN as silence)
//	         -> timeline (placement by RTP timestamp)
//	         -> mixer (mono sum, or owner-left / others-right stereo)
//	         -> mode mask (On Demand windows dropped outside, PCI pauses silenced)
//	         -> batches of 288 ms -> (encoding workers, one per CPU)
//	         -> LAME (MPEG-2.5 Layer III, 8 kHz, 32 kbps CBR) -> whole frames
//	         -> write queue -> (writer goroutine) io.Writer
//
// LAME is most of a recording's CPU, so it runs on the encoding workers,
// never on a poller: a poller only reads, places, decodes and mixes, and
// stays ahead of the sockets. Up to 4.6 s of a recording's batches wait
// for a worker (a busy box catches up without losing a packet); beyond
// that the poller waits. Stop reads what the legs' sockets still hold and
// encodes the recording's last batches itself.
//
// Only the call's own audio is recorded. A leg takes packets only from the
// source its SDP announced, or, when that is unknown or the leg latches
// (gateways behind NAT), from the first source that sends it a usable
// packet; everything else is dropped unread and counted. A leg records one
// SSRC at a time: another may begin a new stream only after the current one
// has been silent for 100 ms, and only where its audio would not overlap the
// leg's or run ahead of real time (a gateway that changes codec with a new
// SSRC pauses for the re-INVITE; a stranger interleaving packets never
// does). With SDES keys the leg decrypts and authenticates each packet
// before it looks at it; a packet that fails is dropped and counted.
//
// Each leg has one decoder per payload type. Packets wait in the leg's
// reorder buffer as payload bytes and are decoded only when the mixer needs
// their audio, in sequence order, so that the stateful G.729 decoder sees
// the stream as it was sent; a lost packet is concealed by the codec (G.729:
// bcg729's erasure path, for up to 100 ms) or left silent (G.711). G.711
// (PCMU, PCMA) is a table lookup; G.729 and G.729A (SDP name G729 or G729A,
// one bitstream) go to bcg729 through cgo, once per packet, with a decoder
// per leg and payload type whose C memory is freed when the leg's codecs
// change (SetCodecs, for a re-INVITE) or the recording stops. A G.729
// payload is 10-byte frames of 80 samples, optionally ending in a 2-byte
// Annex B SID frame, decoded as 10 ms of comfort noise. Comfort noise
// (RFC 3389, payload type 13 or the offered CN type) is silence of one
// packet's length: it advances the leg, so a call that ends in CN is not
// cut short. telephone-event (RFC 4733) is never audio; its digits are
// dropped as the packet is read, never stored or logged. Every codec has an
// 8000 Hz RTP clock, so placement by timestamp carries on across a codec
// change.
//
// Within a leg's stream RTP time is the truth: every packet lands at the
// stream's base plus its timestamp's distance from the first one, so
// reordered packets fall into place, gaps are silence, and a stalled reader
// neither stretches nor shifts the leg. Only the base is estimated from
// arrival times: it is the minimum transit (the least any packet took from
// its RTP time to its arrival), over the stream's first second before any
// of it is emitted, refined later at the sender's pauses, so one late first
// packet or a jittery path does not misplace a leg against the other. A
// stream whose timestamps jump, freeze across a pause, or run ahead of real
// time is placed again by arrival. Audio is mixed and encoded up to the
// newest position of any leg minus a reorder window (and one more window
// for a leg that lags, as a stalled reader would); packets that arrive
// behind audio already decoded or emitted are counted as late and dropped.
//
// The recording modes act between the mixer and the encoder. A Gated
// recording (On Demand) starts closed: its audio is dropped, never encoded
// or written, except inside the windows that Open and Close mark; the file
// holds the windows joined, and Result.Windows says where they lay in the
// call. Pause and Resume (PCI) mark stretches whose audio is replaced by
// silence of the same length, so the file keeps real time but the decoded
// audio of a pause never reaches the encoder; Result.Pauses says where
// they lie in the file. A control's wall-clock time is placed on the
// timeline by its distance from the first packet's arrival, and applies
// when the mixer, a reorder window behind real time, gets there, to the
// sample; one made before the first packet applies from the first sample,
// and one whose time the mixer has passed already applies from the next
// sample it emits, since what was encoded is never rewritten. The controls
// wait in a pure step (mask) that cuts each block of mixed audio into
// pieces kept, silenced or dropped, and keeps the file's account.
//
// The RTP readers never wait for the disk: the encoded frames go to the
// writer through a bounded queue (Config.WriteBuffer, 10 s by default: 139
// frames of 72 ms, 288 bytes each, 40 KB) that a goroutine of the
// recording's own empties, so an fsync or a slow NAS stalls only that
// goroutine. A stall longer than the queue holds drops whole frames until
// the writer has emptied it to half; the frames dropped are counted as one
// span, reported in Result.Lost with its position in the recording, and
// written later as silent frames of the same size (no main data; the last
// of them carries the dropped frame's data area, the bit reservoir of the
// frame after it), so the file keeps the call's timeline and its LAME tag
// stays true. Stop lets the writer take every frame left before it
// returns; a write error ends the writing and is Stop's error.
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
// A PortPool's ports and pollers are its own, and a PortConn it hands out
// gives its port back when closed. What the package shares between
// recordings is process-wide and stateless to them: the encoding workers
// and the pools of batch, LAME output and frame buffers.
//
// No clock, timer or goroutine is created per packet, and the steady-state
// path does not allocate (the reorder buffers are allocated with the leg,
// grow only when a stream needs more room and shrink back once it has
// settled), so the ingest, timeline,
// mixer and mode steps are tested with synthetic sources and arrival
// times, and the write queue's accounting (frameQueue) without a writer.
package media
