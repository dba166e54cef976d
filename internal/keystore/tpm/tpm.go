// Package tpm wraps the keystore's data key with a TPM 2.0: the key is sealed as a TPM
// object under the storage root key of the owner hierarchy, so only this device's TPM
// can unseal it. A keystore image copied to another device, or read off the flash, does
// not open.
//
// Unsealing runs in a salted HMAC session with response encryption, so the data key
// does not cross the bus to the TPM in clear. The TPM 2.0 specification fixes that
// parameter encryption to AES in CFB mode, which the FIPS 140-3 module does not offer as
// an approved service; those calls run with enforcement lifted (crypto/fips140
// WithoutEnforcement), and only those.
//
// The TPM is reached through its Linux character device (/dev/tpmrm0) or, for testing
// and emulation, a Unix socket of swtpm (--server type=unixio).
//
// A *Wrapper serialises its TPM commands and is safe for concurrent use.
//
// TS-0045 5.4.1.1: the data key is kept in a secure area, isolated from the normal
// operating environment.
package tpm

import (
	"crypto/fips140"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
)

// Wrapper seals and unseals the data key with a TPM.
type Wrapper struct {
	mu  sync.Mutex
	tpm transport.TPMCloser
}

// Open connects to the TPM at path: a character device such as /dev/tpmrm0, or a swtpm
// Unix socket.
func Open(path string) (*Wrapper, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tpm: %w", err)
	}
	var t transport.TPMCloser
	if st.Mode()&os.ModeSocket != 0 {
		t = transport.FromReadWriteCloser(&socketConn{path: path})
	} else {
		t, err = linuxtpm.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("tpm: open %s: %w", path, err)
	}
	return &Wrapper{tpm: t}, nil
}

// Close releases the TPM connection.
func (w *Wrapper) Close() error { return w.tpm.Close() }

// Kind implements keystore.Wrapper.
func (w *Wrapper) Kind() string { return "tpm" }

// Destroy implements keystore.Wrapper. The sealed blob lives in the keystore's data key
// file, which the keystore destroys; the TPM keeps nothing of it.
func (w *Wrapper) Destroy() error { return nil }

// srk creates the storage root key, the same each time for a given TPM; the caller
// flushes it.
func (w *Wrapper) srk() (*tpm2.CreatePrimaryResponse, error) {
	rsp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(w.tpm)
	if err != nil {
		return nil, fmt.Errorf("tpm: create storage root key: %w", err)
	}
	return rsp, nil
}

func (w *Wrapper) flush(h tpm2.TPMHandle) { tpm2.FlushContext{FlushHandle: h}.Execute(w.tpm) }

// Wrap implements keystore.Wrapper: dataKey becomes a sealed object of this TPM.
func (w *Wrapper) Wrap(dataKey []byte) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	srk, err := w.srk()
	if err != nil {
		return nil, err
	}
	defer w.flush(srk.ObjectHandle)
	var rsp *tpm2.CreateResponse
	fips140.WithoutEnforcement(func() {
		rsp, err = tpm2.Create{
			ParentHandle: tpm2.AuthHandle{Handle: srk.ObjectHandle, Name: srk.Name, Auth: w.session(srk, tpm2.AESEncryption(128, tpm2.EncryptIn))},
			InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
				Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: dataKey}),
			}},
			InPublic: tpm2.New2B(tpm2.TPMTPublic{
				Type: tpm2.TPMAlgKeyedHash, NameAlg: tpm2.TPMAlgSHA256,
				ObjectAttributes: tpm2.TPMAObject{FixedTPM: true, FixedParent: true, UserWithAuth: true, NoDA: true},
			}),
		}.Execute(w.tpm)
	})
	if err != nil {
		return nil, fmt.Errorf("tpm: seal: %w", err)
	}
	return encodeBlob(tpm2.Marshal(rsp.OutPublic), tpm2.Marshal(rsp.OutPrivate)), nil
}

// Unwrap implements keystore.Wrapper.
func (w *Wrapper) Unwrap(blob []byte) ([]byte, error) {
	pubRaw, privRaw, err := decodeBlob(blob)
	if err != nil {
		return nil, err
	}
	pub, err := tpm2.Unmarshal[tpm2.TPM2BPublic](pubRaw)
	if err != nil {
		return nil, fmt.Errorf("tpm: sealed object: %w", err)
	}
	priv, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](privRaw)
	if err != nil {
		return nil, fmt.Errorf("tpm: sealed object: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	srk, err := w.srk()
	if err != nil {
		return nil, err
	}
	defer w.flush(srk.ObjectHandle)
	obj, err := tpm2.Load{ParentHandle: tpm2.NamedHandle{Handle: srk.ObjectHandle, Name: srk.Name}, InPrivate: *priv, InPublic: *pub}.Execute(w.tpm)
	if err != nil {
		return nil, fmt.Errorf("tpm: load sealed object (sealed by another TPM, or altered): %w", err)
	}
	defer w.flush(obj.ObjectHandle)
	var rsp *tpm2.UnsealResponse
	fips140.WithoutEnforcement(func() {
		rsp, err = tpm2.Unseal{ItemHandle: tpm2.AuthHandle{Handle: obj.ObjectHandle, Name: obj.Name, Auth: w.session(srk, tpm2.AESEncryption(128, tpm2.EncryptOut))}}.Execute(w.tpm)
	})
	if err != nil {
		return nil, fmt.Errorf("tpm: unseal: %w", err)
	}
	return rsp.OutData.Buffer, nil
}

// session is a salted HMAC session that encrypts the sensitive parameter as enc says.
func (w *Wrapper) session(srk *tpm2.CreatePrimaryResponse, enc tpm2.AuthOption) tpm2.Session {
	pub, err := srk.OutPublic.Contents()
	if err != nil {
		return tpm2.HMAC(tpm2.TPMAlgSHA256, 16, enc)
	}
	return tpm2.HMAC(tpm2.TPMAlgSHA256, 16, enc, tpm2.Salted(srk.ObjectHandle, *pub))
}

// Blob format: public length (2) | public | private length (2) | private.
func encodeBlob(pub, priv []byte) []byte {
	out := binary.BigEndian.AppendUint16(nil, uint16(len(pub)))
	out = append(out, pub...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(priv)))
	return append(out, priv...)
}

var errBlob = errors.New("tpm: malformed sealed object")

func decodeBlob(b []byte) (pub, priv []byte, err error) {
	take := func() ([]byte, bool) {
		if len(b) < 2 {
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(b))
		if n == 0 || len(b) < 2+n {
			return nil, false
		}
		out := b[2 : 2+n]
		b = b[2+n:]
		return out, true
	}
	pub, ok1 := take()
	priv, ok2 := take()
	if !ok1 || !ok2 || len(b) != 0 {
		return nil, nil, errBlob
	}
	return pub, priv, nil
}
