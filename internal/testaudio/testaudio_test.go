package testaudio

import "testing"

func TestPowerFindsTone(t *testing.T) {
	s := Tone(400, 8000, 8000, 16000)
	on, off := Power(s, 400, 8000), Power(s, 1000, 8000)
	if on < 100*off || on < 0.01 {
		t.Fatalf("power at 400 Hz = %g, at 1000 Hz = %g; want the tone to stand out", on, off)
	}
}

func TestSRTPEncrypterChecksItsKey(t *testing.T) {
	if _, err := (&SRTP{Suite: "AES_CM_128_HMAC_SHA1_80", Key: make([]byte, 30)}).encrypter(); err != nil {
		t.Errorf("a 30-byte AES-128 key: %v", err)
	}
	if _, err := (&SRTP{Suite: "AES_CM_128_HMAC_SHA1_80", Key: make([]byte, 16)}).encrypter(); err == nil {
		t.Error("a short key was taken")
	}
	if _, err := (&SRTP{Suite: "F8_128_HMAC_SHA1_80", Key: make([]byte, 30)}).encrypter(); err == nil {
		t.Error("an unknown suite was taken")
	}
}
