package keystore

import (
	"bytes"
	"errors"
	"fmt"
)

// Data key file format, version 1:
//
//	"HKDK" | version (1) | kind length (1) | kind | wrapped blob
//
// The kind says which Wrapper must open it, so a keystore sealed by a TPM is never
// handed to the host-key wrapper or the other way round.
var dataKeyMagic = []byte("HKDK")

const dataKeyVersion = 1

func encodeDataKey(kind string, blob []byte) []byte {
	var b bytes.Buffer
	b.Write(dataKeyMagic)
	b.WriteByte(dataKeyVersion)
	b.WriteByte(byte(len(kind)))
	b.WriteString(kind)
	b.Write(blob)
	return b.Bytes()
}

func decodeDataKey(raw []byte) (kind string, blob []byte, err error) {
	if len(raw) < len(dataKeyMagic)+2 || !bytes.Equal(raw[:4], dataKeyMagic) {
		return "", nil, fmt.Errorf("%w: not a data key file", ErrTampered)
	}
	if raw[4] != dataKeyVersion {
		return "", nil, fmt.Errorf("%w: unknown data key version %d", ErrTampered, raw[4])
	}
	n := int(raw[5])
	if n == 0 || len(raw) < 6+n+1 {
		return "", nil, errors.Join(ErrTampered, errors.New("truncated data key file"))
	}
	return string(raw[6 : 6+n]), raw[6+n:], nil
}
