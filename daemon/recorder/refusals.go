package recorder

import "github.com/callvault/callvault/siprec"

// The recorder's refusals of a session: status and Warning text (the
// README's status table lists them after the SIP server's own).
var (
	refuseExists      = siprec.Refusal{Code: 482, Text: "recording session exists"}
	refuseNoSession   = siprec.Refusal{Code: 481, Text: "no such recording session"}
	refuseUnknown     = siprec.Refusal{Code: 403, Text: "no participant is a recorded user"}
	refuseCodec       = siprec.Refusal{Code: 488, Text: "no supported codec offered (%s); want PCMU, PCMA or G729"}
	refuseNoCrypto    = siprec.Refusal{Code: 488, Text: "SRTP stream %s offered without a usable a=crypto line"}
	refuseSuite       = siprec.Refusal{Code: 488, Text: "no supported SRTP crypto suite offered (%s); want AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80 or AEAD_AES_128_GCM"}
	refuseDiskFull    = siprec.Refusal{Code: 503, Text: "recorder disk full: %s free, %s kept in reserve"}
	refuseSourcePorts = siprec.Refusal{Code: 503, Text: "source %s holds its %d RTP ports"}
	refuseNoPort      = siprec.Refusal{Code: 503, Text: "no RTP port available"}
	refuseStorage     = siprec.Refusal{Code: 503, Text: "recorder storage unavailable"}
	refuseMedia       = siprec.Refusal{Code: 500, Text: "media engine unavailable"}
	refuseFiltered    = siprec.Refusal{Code: 403, Text: "call not recorded by policy: %s"}
	refuseUnlicensed  = siprec.Refusal{Code: 403, Text: "not licensed: %s (user licence for %d users)"}
	refuseChannels    = siprec.Refusal{Code: 503, Text: "licence: all %d channels in use"}

	recorderRefusals = []siprec.Refusal{
		refuseUnknown, refuseFiltered, refuseUnlicensed, refuseNoSession, refuseExists, refuseCodec, refuseNoCrypto, refuseSuite,
		refuseMedia, refuseChannels, refuseDiskFull, refuseSourcePorts, refuseNoPort, refuseStorage,
	}
)
