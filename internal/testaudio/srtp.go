package testaudio

import (
	"fmt"

	"github.com/pion/srtp/v3"
)

// SRTP is the SDES key of a stream the sender encrypts, as the gateway's
// a=crypto line gives it: a suite name and the inline key (master key then
// master salt).
type SRTP struct {
	Suite string
	Key   []byte
}

// sdesProfiles maps SDES suite names (RFC 4568, RFC 7714) to pion's
// profiles.
var sdesProfiles = map[string]srtp.ProtectionProfile{
	"AES_CM_128_HMAC_SHA1_80": srtp.ProtectionProfileAes128CmHmacSha1_80,
	"AES_CM_128_HMAC_SHA1_32": srtp.ProtectionProfileAes128CmHmacSha1_32,
	"AES_256_CM_HMAC_SHA1_80": srtp.ProtectionProfileAes256CmHmacSha1_80,
	"AES_256_CM_HMAC_SHA1_32": srtp.ProtectionProfileAes256CmHmacSha1_32,
	"AEAD_AES_128_GCM":        srtp.ProtectionProfileAeadAes128Gcm,
	"AEAD_AES_256_GCM":        srtp.ProtectionProfileAeadAes256Gcm,
}

// encrypter returns the SRTP context that protects a stream's packets.
func (s *SRTP) encrypter() (*srtp.Context, error) {
	p, ok := sdesProfiles[s.Suite]
	if !ok {
		return nil, fmt.Errorf("srtp suite %q unknown", s.Suite)
	}
	keyLen, err := p.KeyLen()
	if err != nil {
		return nil, err
	}
	saltLen, err := p.SaltLen()
	if err != nil {
		return nil, err
	}
	if len(s.Key) != keyLen+saltLen {
		return nil, fmt.Errorf("srtp %s: key of %d bytes, want %d", s.Suite, len(s.Key), keyLen+saltLen)
	}
	return srtp.CreateContext(s.Key[:keyLen], s.Key[keyLen:], p)
}
