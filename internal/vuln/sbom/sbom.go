// Package sbom makes a release's software bill of materials (CycloneDX JSON) from the
// Go build information embedded in the program, and reads such documents back.
//
// The build information is what the Go linker recorded: the main module, the Go
// version and every module linked in, with its version and go.sum hash. It describes
// exactly the program that was built, not a go.mod that may differ from it. Each
// module becomes a library component with the package URL pkg:golang/PATH@VERSION and
// its go.sum hash (property go:module:sum); the Go toolchain becomes the component
// pkg:golang/stdlib@vX.Y.Z, the name Go's vulnerability database uses for the
// standard library. The program itself, with the SHA-256 of its file, is the
// metadata component.
//
// Threat model: the program file comes from the vendor's own build; a file without
// Go build information is refused, not guessed at. Documents read back are bounded in
// size.
//
// TS-0045 5.2.1.3: the components of every release are known, so advisories can be
// matched against them for as long as the release is supported. TS-0045 5.2.2.9: the
// third-party software of each release is managed as a list, not from memory.
package sbom

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// Component is one module of a program, as matched against advisories.
type Component struct {
	Name    string // module path, or "stdlib"
	Version string // as in go.mod: v1.2.3
}

// ErrNotGo is returned for a file without Go build information.
var ErrNotGo = errors.New("no Go build information in the file")

// Generate reads the Go build information of the program at path and returns its
// CycloneDX BOM, stamped with now.
func Generate(path, version string, now time.Time) (*cdx.BOM, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotGo, path, err)
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}
	if version == "" {
		version = info.Main.Version
	}
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + uuidFrom(sum, version)
	main := cdx.Component{BOMRef: "main", Type: cdx.ComponentTypeApplication, Name: info.Path, Version: version,
		PackageURL: purl(info.Main.Path, info.Main.Version),
		Hashes:     &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: sum}},
		Properties: &[]cdx.Property{{Name: "go:module", Value: info.Main.Path}, {Name: "go:version", Value: info.GoVersion}}}
	bom.Metadata = &cdx.Metadata{Timestamp: now.UTC().Format(time.RFC3339), Component: &main}
	comps := []cdx.Component{{BOMRef: "pkg:golang/stdlib@" + goVersion(info.GoVersion), Type: cdx.ComponentTypeLibrary,
		Name: "stdlib", Version: goVersion(info.GoVersion), PackageURL: "pkg:golang/stdlib@" + goVersion(info.GoVersion)}}
	for _, d := range info.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		c := cdx.Component{BOMRef: purl(d.Path, d.Version), Type: cdx.ComponentTypeLibrary, Name: d.Path,
			Version: d.Version, PackageURL: purl(d.Path, d.Version)}
		if d.Sum != "" {
			c.Properties = &[]cdx.Property{{Name: "go:module:sum", Value: d.Sum}}
		}
		comps = append(comps, c)
	}
	bom.Components = &comps
	return bom, nil
}

// Write encodes bom as indented JSON.
func Write(w io.Writer, bom *cdx.BOM) error {
	return cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true).Encode(bom)
}

// maxBOM bounds a document read back.
const maxBOM = 8 << 20

// Read decodes a CycloneDX JSON document and returns its program and its Go
// components (package URLs pkg:golang/...).
func Read(r io.Reader) (program string, comps []Component, err error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(io.LimitReader(r, maxBOM), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return "", nil, fmt.Errorf("sbom: %w", err)
	}
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		program = strings.TrimSpace(bom.Metadata.Component.Name + " " + bom.Metadata.Component.Version)
	}
	if bom.Components == nil {
		return program, nil, nil
	}
	for _, c := range *bom.Components {
		name, version, ok := ParsePURL(c.PackageURL)
		if ok {
			comps = append(comps, Component{Name: name, Version: version})
		}
	}
	return program, comps, nil
}

// ParsePURL splits a Go package URL pkg:golang/NAME@VERSION.
func ParsePURL(p string) (name, version string, ok bool) {
	rest, ok := strings.CutPrefix(p, "pkg:golang/")
	if !ok {
		return "", "", false
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	name, version, ok = strings.Cut(rest, "@")
	if !ok || name == "" || version == "" {
		return "", "", false
	}
	return name, version, true
}

func purl(path, version string) string {
	if version == "" || version == "(devel)" {
		return "pkg:golang/" + path
	}
	return "pkg:golang/" + path + "@" + version
}

// goVersion turns "go1.26.8" (and "go1.26.8 X:fips140") into "v1.26.8".
func goVersion(v string) string {
	v, _, _ = strings.Cut(v, " ")
	return "v" + strings.TrimPrefix(v, "go")
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// uuidFrom derives a stable UUID (version 8 layout) for one program and version, so
// regenerating the document for the same release gives the same serial number.
func uuidFrom(fileSum, version string) string {
	h := sha256.Sum256([]byte(fileSum + "\x00" + version))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
