// Command prog is a test program for the SBOM tests: it links cyclonedx-go, so its
// build information lists that module.
package main

import (
	"fmt"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

func main() { fmt.Println(cdx.SpecVersion1_6) }
