package recorder

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/callvault/callvault/media"
	"github.com/callvault/callvault/siprec"
)

// chooseMedia picks a codec for every offered audio m-line (see
// pickFormat), and for an SRTP one a crypto suite (chooseCrypto). Other
// media (video, text) and disabled lines are rejected with port 0. At least
// one audio stream must be usable; an SRTP stream whose suites media cannot
// decrypt refuses the whole offer (488), so that a call is never recorded
// half or answered in plaintext.
func chooseMedia(offer []siprec.MediaStream) ([]siprec.MediaAnswer, []leg, error) {
	answers := make([]siprec.MediaAnswer, len(offer))
	var legs []leg
	var offered []string
	for i, m := range offer {
		if !strings.EqualFold(m.Kind, "audio") || m.Port == 0 {
			continue
		}
		f, ok := pickFormat(m.Formats)
		if !ok {
			for _, f := range m.Formats {
				offered = append(offered, f.Name)
			}
			continue
		}
		l := leg{label: legLabel(m), codec: strings.ToUpper(f.Name), pt: f.PT, source: streamSource(m)}
		if m.Secure() {
			ours, theirs, err := chooseCrypto(m)
			if err != nil {
				return nil, nil, err
			}
			answers[i].Crypto, l.crypto, l.srtp = ours, ours, theirs
		}
		legs = append(legs, l)
		answers[i].PT = f.PT
		answers[i].Port = -1 // filled by openLegs
	}
	if len(legs) == 0 {
		if len(offered) == 0 {
			return nil, nil, siprec.RefuseNoAudio.Err()
		}
		return nil, nil, refuseCodec.Err(strings.Join(offered, ", "))
	}
	return answers, legs, nil
}

// pickFormat chooses the format to answer: G.711 when offered, as it is
// recorded without a lossy decode and costs least, else the first format
// the media engine decodes (G.729). Whatever supported payload type then
// arrives is decoded anyway (codecMap).
func pickFormat(formats []siprec.Format) (siprec.Format, bool) {
	var first *siprec.Format
	for i, f := range formats {
		if !media.Supported(f.Name, f.Rate) {
			continue
		}
		if strings.EqualFold(f.Name, "PCMU") || strings.EqualFold(f.Name, "PCMA") {
			return f, true
		}
		if first == nil {
			first = &formats[i]
		}
	}
	if first == nil {
		return siprec.Format{}, false
	}
	return *first, true
}

// legLabel names a stream by its a=label, or by its m-line when it has none.
func legLabel(m siprec.MediaStream) string {
	if m.Label != "" {
		return m.Label
	}
	return fmt.Sprintf("m%d", m.Index)
}

// codecMap lists every payload type of a stream the engine can decode, so
// a mid-call codec switch within the offer keeps recording, and the comfort
// noise and telephone-event types the engine places but never decodes.
func codecMap(m siprec.MediaStream) map[uint8]string {
	codecs := make(map[uint8]string)
	for _, f := range m.Formats {
		switch {
		case media.Supported(f.Name, f.Rate):
			codecs[f.PT] = strings.ToUpper(f.Name)
		case strings.EqualFold(f.Name, "CN"), strings.EqualFold(f.Name, "telephone-event"):
			// Not audio, but the leg must know them: comfort noise is
			// silence of its length, and a digit's packets are no loss.
			codecs[f.PT] = f.Name
		}
	}
	return codecs
}

// chooseCrypto picks the first offered a=crypto line of an SRTP stream
// whose suite media decrypts. It returns our answer's line (the offer's tag
// and suite, a fresh key of ours: we never send, but the answer needs one)
// and the gateway's keys to decrypt with.
func chooseCrypto(m siprec.MediaStream) (*siprec.Crypto, *media.SRTPParams, error) {
	var offered []string
	for _, c := range m.Crypto {
		if !media.SRTPSupported(c.Suite) {
			offered = append(offered, c.Suite)
			continue
		}
		key, err := media.NewSRTPKey(c.Suite)
		if err != nil {
			return nil, nil, fmt.Errorf("srtp key: %w", err)
		}
		ours := &siprec.Crypto{Tag: c.Tag, Suite: c.Suite, Key: key}
		return ours, &media.SRTPParams{Suite: c.Suite, Key: c.Key, MKI: c.MKI}, nil
	}
	if len(offered) == 0 {
		return nil, nil, refuseNoCrypto.Err(legLabel(m))
	}
	return nil, nil, refuseSuite.Err(
		strings.Join(offered, ", "))
}

// streamSource is where the SDP says a stream's RTP comes from; the zero
// AddrPort when the address is unspecified (0.0.0.0, an old-style hold).
func streamSource(m siprec.MediaStream) netip.AddrPort {
	if !m.Addr.IsValid() || m.Addr.IsUnspecified() || m.Port <= 0 || m.Port > 65535 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(m.Addr, uint16(m.Port))
}

// recrypt answers a re-offer of an SRTP leg with our key again, under the
// tag the re-offer gives the leg's suite now. It returns nil when the
// re-offer no longer has the suite (the stream is then answered with port
// 0 by BuildAnswer), and whether the gateway changed its key.
func (l *leg) recrypt(m siprec.MediaStream) (answer *siprec.Crypto, rekeyed bool) {
	if l.crypto == nil || !m.Secure() {
		return nil, false
	}
	for _, c := range m.Crypto {
		if strings.EqualFold(c.Suite, l.crypto.Suite) {
			a := *l.crypto
			a.Tag = c.Tag
			return &a, string(c.Key) != string(l.srtp.Key)
		}
	}
	return nil, false
}
