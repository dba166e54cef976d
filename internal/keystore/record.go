package keystore

import (
	"bytes"
	"crypto/cipher"
	"fmt"
)

// Record format, version 1:
//
//	[0]      version (1)
//	[1:9]    key id of the sealing key
//	[9:]     AES-256-GCM output: random nonce (12) || ciphertext || tag (16)
//
// Associated data: "hearth-keystore-record\x00" || version || key id || name.
const (
	recordVersion = 1
	headerLen     = 1 + 8
	minRecordLen  = headerLen + 12 + 16
	maxRecordLen  = 1 << 20
)

// sealer seals and opens records under one key.
type sealer struct {
	id   [8]byte
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &sealer{id: keyID(key), aead: aead}, nil
}

func (s *sealer) ad(version byte, id [8]byte, name string) []byte {
	var b bytes.Buffer
	b.WriteString("hearth-keystore-record\x00")
	b.WriteByte(version)
	b.Write(id[:])
	b.WriteString(name)
	return b.Bytes()
}

func (s *sealer) seal(name string, plain []byte) ([]byte, error) {
	if len(plain) > maxRecordLen-minRecordLen {
		return nil, fmt.Errorf("keystore seal %s: %d bytes is too large", name, len(plain))
	}
	out := make([]byte, headerLen, headerLen+12+len(plain)+16)
	out[0] = recordVersion
	copy(out[1:9], s.id[:])
	return s.aead.Seal(out, nil, plain, s.ad(recordVersion, s.id, name)), nil
}

// parseRecord splits a record into its header fields and sealed body without opening it.
func parseRecord(rec []byte) (version byte, id [8]byte, body []byte, err error) {
	if len(rec) < minRecordLen || len(rec) > maxRecordLen {
		return 0, id, nil, fmt.Errorf("%w: record length %d", ErrTampered, len(rec))
	}
	if rec[0] != recordVersion {
		return 0, id, nil, fmt.Errorf("%w: unknown record version %d", ErrTampered, rec[0])
	}
	copy(id[:], rec[1:9])
	return rec[0], id, rec[headerLen:], nil
}

func (s *sealer) open(name string, rec []byte) ([]byte, error) {
	version, id, body, err := parseRecord(rec)
	if err != nil {
		return nil, err
	}
	if id != s.id {
		return nil, ErrWrongKey
	}
	plain, err := s.aead.Open(nil, nil, body, s.ad(version, id, name))
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}
