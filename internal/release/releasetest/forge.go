package releasetest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"hearth/internal/release"
	"hearth/internal/release/releaseinfo"
)

// RewriteRelease edits a release's signed description and signs the result with the
// repository's real targets, snapshot and timestamp keys, bypassing every rule Publish
// enforces: what a holder of the stolen targets key produces, or a vendor's mistake.
// With it a test gives a newer version a lower security version than its predecessor,
// which Publish refuses to do; a device whose sealed security version is higher must
// still refuse it (TS-0045 5.3.1.2).
//
// It signs with go-tuf directly, independently of internal/release.
func RewriteRelease(vendorDir, version string, edit func(*releaseinfo.Custom)) error {
	dir := filepath.Join(vendorDir, release.MetadataDir)
	ts, err := new(metadata.Metadata[metadata.TimestampType]).FromFile(filepath.Join(dir, "timestamp.json"))
	if err != nil {
		return err
	}
	sn, err := new(metadata.Metadata[metadata.SnapshotType]).FromFile(filepath.Join(dir, fmt.Sprintf("%d.snapshot.json", ts.Signed.Meta["snapshot.json"].Version)))
	if err != nil {
		return err
	}
	tg, err := new(metadata.Metadata[metadata.TargetsType]).FromFile(filepath.Join(dir, fmt.Sprintf("%d.targets.json", sn.Signed.Meta["targets.json"].Version)))
	if err != nil {
		return err
	}
	if err := editCustom(tg, version, edit); err != nil {
		return err
	}
	tg.Signed.Version++
	tgRaw, err := forgeSign(tg, filepath.Join(vendorDir, release.OfflineKeyDir, "targets.key"))
	if err != nil {
		return err
	}
	sn.Signed.Version++
	sn.Signed.Meta["targets.json"] = record(tg.Signed.Version, tgRaw)
	snRaw, err := forgeSign(sn, filepath.Join(vendorDir, release.OnlineKeyDir, "snapshot.key"))
	if err != nil {
		return err
	}
	ts.Signed.Version++
	ts.Signed.Meta["snapshot.json"] = record(sn.Signed.Version, snRaw)
	tsRaw, err := forgeSign(ts, filepath.Join(vendorDir, release.OnlineKeyDir, "timestamp.key"))
	if err != nil {
		return err
	}
	for name, raw := range map[string][]byte{
		fmt.Sprintf("%d.targets.json", tg.Signed.Version):  tgRaw,
		fmt.Sprintf("%d.snapshot.json", sn.Signed.Version): snRaw,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "timestamp.json"), tsRaw, 0o644)
}

func editCustom(tg *metadata.Metadata[metadata.TargetsType], version string, edit func(*releaseinfo.Custom)) error {
	name := releaseinfo.TargetName(version)
	info := tg.Signed.Targets[name]
	if info == nil || info.Custom == nil {
		return fmt.Errorf("rewrite release: no release %s", version)
	}
	c, err := releaseinfo.ParseTarget(name, *info.Custom)
	if err != nil {
		return err
	}
	edit(&c)
	raw, err := json.Marshal(map[string]any{"hearth": c})
	if err != nil {
		return err
	}
	msg := json.RawMessage(raw)
	info.Custom = &msg
	return nil
}

func record(version int64, raw []byte) *metadata.MetaFiles {
	sum := sha256.Sum256(raw)
	return &metadata.MetaFiles{Version: version, Length: int64(len(raw)), Hashes: metadata.Hashes{"sha256": sum[:]}}
}

// forgeSign signs m with the PKCS#8 key at keyFile, replacing its signatures.
func forgeSign[T metadata.Roles](m *metadata.Metadata[T], keyFile string) ([]byte, error) {
	raw, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(raw)
	if b == nil {
		return nil, fmt.Errorf("%s: not PEM", keyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	hash := crypto.SHA256
	if _, ok := k.(ed25519.PrivateKey); ok {
		hash = crypto.Hash(0)
	}
	s, err := signature.LoadSigner(k, hash)
	if err != nil {
		return nil, err
	}
	m.ClearSignatures()
	if _, err := m.Sign(s); err != nil {
		return nil, err
	}
	return m.ToBytes(false)
}
