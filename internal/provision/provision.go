// Package provision makes a device's factory data: a fresh identity key sealed in the
// device's keystore, a certificate from the vendor CA binding serial, model and name, and
// a unique default password whose hash goes into the device and whose plaintext goes only
// to the label printer.
//
// This is vendor-side code (hearth-cloud provision); it is never linked into hearthd.
//
// TS-0045 5.1.1.1, 5.1.1.2, 5.4.1.4, 5.3.1.16.
package provision

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/auth"
	"hearth/internal/identity"
	"hearth/internal/identity/vendorca"
	"hearth/internal/keystore"
	"hearth/internal/release"
	"hearth/internal/update"
)

// Vendor is the vendor directory's own description, written by InitVendor.
type Vendor struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

const vendorFile = "vendor.json"

// InitVendor creates a vendor directory: description, CA, and the TLS certificate of the
// vendor services for localhost (IssueServiceCert replaces it for other names).
// serviceDomains are the DNS domains of the vendor's online services that the CAs may
// certify besides local names.
func InitVendor(dir, name string, serviceDomains []string, now time.Time) error {
	if name == "" || len(name) > 64 || strings.TrimSpace(name) != name {
		return errors.New("init vendor: vendor name must be 1-64 characters without surrounding spaces")
	}
	if err := vendorca.Init(dir, name, serviceDomains, now); err != nil {
		return err
	}
	ca, err := vendorca.Load(dir)
	if err != nil {
		return err
	}
	if err := ca.IssueServiceCert(dir, []string{"localhost"}, []string{"127.0.0.1", "::1"}, now); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(Vendor{Name: name, Created: now.UTC()}, "", "  ")
	if err := os.MkdirAll(filepath.Join(dir, "devices"), 0o700); err != nil {
		return fmt.Errorf("init vendor: %w", err)
	}
	return atomicfile.Write(filepath.Join(dir, vendorFile), append(b, '\n'), 0o644)
}

// LoadVendor reads a vendor directory's description.
func LoadVendor(dir string) (Vendor, error) {
	raw, err := os.ReadFile(filepath.Join(dir, vendorFile))
	if err != nil {
		return Vendor{}, fmt.Errorf("load vendor: %w", err)
	}
	var v Vendor
	if err := json.Unmarshal(raw, &v); err != nil || v.Name == "" {
		return Vendor{}, fmt.Errorf("load vendor: %s is malformed", vendorFile)
	}
	return v, nil
}

// Request describes one device to provision.
type Request struct {
	VendorDir string
	OutDir    string // must not exist, or be empty
	Model     string
	Name      string
	// Serial is the unit's serial; empty means a fresh random one.
	Serial string
	// SupportEnd is the end of the security support period; zero means five years.
	SupportEnd time.Time
	// Username is the owner account's name; empty means "owner".
	Username string
	// DNSNames and IPs the device's HTTPS certificate is valid for; both empty means
	// localhost, 127.0.0.1 and ::1.
	DNSNames, IPs []string
	// Firmware, when set, is the released version installed into the device's first
	// A/B slot (the device then runs under hearth-launcher and can update itself).
	Firmware string
	// Wrapper protects the device's keystore: the device's TPM where it has one; nil
	// means a host key in the keystore directory.
	Wrapper keystore.Wrapper
	Now     time.Time   // zero: time.Now()
	Rand    io.Reader   // nil: crypto/rand
	Hasher  auth.Hasher // zero: policy cost
}

// Label is what the label printer receives: everything printed on the device.
type Label struct {
	Vendor          string `json:"vendor"`
	Model           string `json:"model"`
	Name            string `json:"name"`
	Serial          string `json:"serial"`
	Username        string `json:"username"`
	DefaultPassword string `json:"default_password"`
	SupportEnd      string `json:"support_end"`
}

// String and LogValue keep the password out of logs.
func (l Label) String() string {
	return fmt.Sprintf("Label(%s %s %s, password REDACTED)", l.Model, l.Name, l.Serial)
}

// LogValue implements slog.LogValuer.
func (l Label) LogValue() slog.Value { return slog.StringValue(l.String()) }

// Device provisions one device and returns its label.
func Device(req Request) (lbl Label, err error) {
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	if req.Rand == nil {
		req.Rand = rand.Reader
	}
	vendor, err := LoadVendor(req.VendorDir)
	if err != nil {
		return Label{}, err
	}
	ca, err := vendorca.Load(req.VendorDir)
	if err != nil {
		return Label{}, err
	}
	info, err := req.info(vendor.Name)
	if err != nil {
		return Label{}, err
	}
	if err := prepareOut(req.OutDir); err != nil {
		return Label{}, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(req.OutDir)
		}
	}()
	password, err := writeDevice(req, ca, info)
	if err != nil {
		return Label{}, err
	}
	return Label{Vendor: info.Vendor, Model: info.Model, Name: info.Name, Serial: info.Serial,
		Username: info.Username, DefaultPassword: password, SupportEnd: info.SupportEnd}, nil
}

func (req Request) info(vendor string) (identity.Info, error) {
	serial := req.Serial
	if serial == "" {
		s, err := auth.GeneratePassword(req.Rand)
		if err != nil {
			return identity.Info{}, err
		}
		serial = "HRT-" + s[:14] // three groups of four random symbols
	}
	end := req.SupportEnd
	if end.IsZero() {
		end = req.Now.AddDate(5, 0, 0)
	}
	user := req.Username
	if user == "" {
		user = "owner"
	}
	info := identity.Info{Vendor: vendor, Model: req.Model, Name: req.Name, Serial: serial,
		SupportEnd: end.UTC().Format(time.DateOnly), Username: user, ManufacturedAt: req.Now.UTC().Truncate(time.Second)}
	return info, info.Validate()
}

func prepareOut(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o700)
	case err != nil:
		return fmt.Errorf("provision: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("provision: %s is not empty; refusing to overwrite a device", dir)
	}
	return os.Chmod(dir, 0o700)
}

// writeDevice creates keystore, key, certificate and factory files, registers the unit
// with the vendor, and returns the default password.
func writeDevice(req Request, ca *vendorca.CA, info identity.Info) (string, error) {
	ksDir := filepath.Join(req.OutDir, identity.KeystoreDir)
	w := req.Wrapper
	if w == nil {
		w = keystore.NewHostKey(ksDir)
	}
	ks, err := keystore.Create(ksDir, w, req.Rand)
	if err != nil {
		return "", err
	}
	signer, err := ks.GenerateSigner(identity.KeyRecord)
	if err != nil {
		return "", err
	}
	dns, ips := req.DNSNames, req.IPs
	if len(dns) == 0 && len(ips) == 0 {
		dns, ips = []string{"localhost"}, []string{"127.0.0.1", "::1"}
	}
	end := info.SupportEndDate().AddDate(1, 0, 0)
	dreq := vendorca.DeviceRequest{Info: info, Public: signer.Public(), DNSNames: dns, IPs: ips, NotAfter: end}
	cert, err := ca.IssueDevice(dreq, req.Now)
	if err != nil {
		return "", err
	}
	server, err := ca.IssueServer(dreq, req.Now)
	if err != nil {
		return "", err
	}
	password, err := auth.GeneratePassword(req.Rand)
	if err != nil {
		return "", err
	}
	hash, err := req.Hasher.Hash(password)
	if err != nil {
		return "", err
	}
	if err := ks.Put(identity.DefaultHashRecord, []byte(hash)); err != nil {
		return "", err
	}
	if err := installUpdateTrust(req, ks); err != nil {
		return "", err
	}
	if err := writeFactory(req.OutDir, info, ca, cert, server); err != nil {
		return "", err
	}
	return password, register(req.VendorDir, info, cert.Raw, req.Now)
}

func writeFactory(out string, info identity.Info, ca *vendorca.CA, leaf, server *x509.Certificate) error {
	fdir := filepath.Join(out, identity.FactoryDir)
	if err := os.MkdirAll(fdir, 0o700); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	files := map[string][]byte{
		identity.InfoFile:       append(b, '\n'),
		identity.CertFile:       identity.EncodeCertificates(leaf, ca.Issuing),
		identity.ServerCertFile: identity.EncodeCertificates(server, ca.Issuing),
		identity.RootFile:       identity.EncodeCertificates(ca.Root),
	}
	for name, data := range files {
		if err := atomicfile.Write(filepath.Join(fdir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Registration is the vendor's record of a provisioned unit.
type Registration struct {
	Serial        string    `json:"serial"`
	Model         string    `json:"model"`
	CertSHA256    string    `json:"cert_sha256"`
	ProvisionedAt time.Time `json:"provisioned_at"`
	RenewedAt     time.Time `json:"renewed_at,omitzero"`
	// Revoked units are refused by the vendor services.
	Revoked bool `json:"revoked,omitempty"`
}

// ErrUnknownDevice means the serial was never provisioned by this vendor.
var ErrUnknownDevice = errors.New("unknown device")

func registrationPath(vendorDir, serial string) (string, error) {
	if !validSerial(serial) {
		return "", ErrUnknownDevice
	}
	return filepath.Join(vendorDir, "devices", serial+".json"), nil
}

func validSerial(s string) bool {
	return (identity.Info{Vendor: "x", Model: "x", Name: "x", Serial: s, SupportEnd: "2000-01-01", Username: "xxx"}).Validate() == nil
}

// LookupDevice reads the registration of serial.
func LookupDevice(vendorDir, serial string) (Registration, error) {
	p, err := registrationPath(vendorDir, serial)
	if err != nil {
		return Registration{}, err
	}
	raw, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return Registration{}, ErrUnknownDevice
	}
	if err != nil {
		return Registration{}, fmt.Errorf("lookup device: %w", err)
	}
	var r Registration
	if err := json.Unmarshal(raw, &r); err != nil || r.Serial != serial {
		return Registration{}, fmt.Errorf("lookup device: registration of %s is malformed", serial)
	}
	return r, nil
}

// RecordRenewal stores a unit's renewed identity certificate: from now on only it is
// accepted for that unit.
func RecordRenewal(vendorDir string, r Registration, certDER []byte, now time.Time) error {
	p, err := registrationPath(vendorDir, r.Serial)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(certDER)
	r.CertSHA256, r.RenewedAt = hex.EncodeToString(sum[:]), now.UTC()
	b, _ := json.MarshalIndent(r, "", "  ")
	return atomicfile.Write(p, append(b, '\n'), 0o644)
}

// register records the unit; a serial provisioned before is refused, so no two units
// share an identity.
func register(vendorDir string, info identity.Info, certDER []byte, now time.Time) error {
	sum := sha256.Sum256(certDER)
	b, _ := json.MarshalIndent(Registration{Serial: info.Serial, Model: info.Model, CertSHA256: hex.EncodeToString(sum[:]), ProvisionedAt: now.UTC()}, "", "  ")
	dir := filepath.Join(vendorDir, "devices")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("register device: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, info.Serial+".json"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("register device: serial %s was already provisioned", info.Serial)
	}
	if err != nil {
		return fmt.Errorf("register device: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return fmt.Errorf("register device: %w", err)
	}
	return atomicfile.SyncDir(dir)
}

// WriteLabel writes the label file with mode 0600: it holds the default password.
func WriteLabel(path string, l Label) error {
	b, _ := json.MarshalIndent(l, "", "  ")
	return atomicfile.Write(path, append(b, '\n'), 0o600)
}

// installUpdateTrust seals the vendor's TUF root in the device's keystore (its trust
// anchor for updates) and, when asked, installs the first firmware into slot a. A vendor
// without an update repository provisions devices that do not update themselves.
//
// TS-0045 5.3.1.9, 5.5.1.1: the key that verifies updates is installed at the factory,
// sealed against alteration.
func installUpdateTrust(req Request, ks *keystore.Store) error {
	root, err := release.TrustedRoot(req.VendorDir)
	if errors.Is(err, release.ErrNotInitialised) {
		if req.Firmware != "" {
			return errors.New("provision: --firmware needs the vendor's update repository (hearth-cloud tuf-init)")
		}
		return nil
	}
	if err != nil {
		return err
	}
	if err := ks.Put(update.RootRecord, root); err != nil {
		return err
	}
	if req.Firmware == "" {
		return nil
	}
	fw, err := release.FirmwareFor(req.VendorDir, req.Firmware)
	if err != nil {
		return err
	}
	f, err := os.Open(fw.ArtifactPath)
	if err != nil {
		return fmt.Errorf("provision: firmware: %w", err)
	}
	defer f.Close()
	_, err = update.InstallFactory(req.OutDir, ks, root, fw.Target, fw.TargetsJSON, f)
	return err
}
