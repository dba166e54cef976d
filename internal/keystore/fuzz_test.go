package keystore

import (
	"bytes"
	"testing"
)

// FuzzOpenRecord feeds arbitrary bytes to the record opener: nothing but the genuine
// record opens, nothing panics.
func FuzzOpenRecord(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := newSealer(key)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := s.seal("name", []byte("payload"))
	f.Add(good)
	f.Add(good[:len(good)-1])
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 1
	f.Add(flipped)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rec []byte) {
		plain, err := s.open("name", rec)
		if err == nil && !bytes.Equal(plain, []byte("payload")) {
			t.Fatalf("forged record opened to %q", plain)
		}
	})
}

// FuzzDataKeyFile feeds arbitrary data key files to the decoder.
func FuzzDataKeyFile(f *testing.F) {
	f.Add(encodeDataKey("hostkey", []byte("blob")))
	f.Add(encodeDataKey("tpm", nil))
	f.Add([]byte("HKDK"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		kind, blob, err := decodeDataKey(raw)
		if err == nil && (kind == "" || len(blob) == 0) {
			t.Fatalf("accepted %q with empty kind or blob", raw)
		}
	})
}
