// Command hearth-cloud holds the vendor's tools and services:
//
//	hearth-cloud init --dir V                       create vendor state (device CA)
//	hearth-cloud provision --dir V --out D --label L.json
//	                                                make one device's factory data and label
//	hearth-cloud serve --dir V [--addr HOST:PORT]   run the online services (certificate renewal,
//	                                                update repository)
//	hearth-cloud release --dir V --version X.Y.Z --artifact FILE --notes TEXT --fixes TEXT
//	                     --interrupts=true|false --rollout PERCENT
//	                                                sign a firmware release
//	hearth-cloud rollout | releases | bundle | rotate-key | tuf-init
//	                                                manage rollouts, list releases, make an
//	                                                offline bundle, rotate TUF keys
//	hearth-cloud vulns list|show|set-state|set-cvss|note|overdue|scan --dir V
//	                                                handle vulnerability reports
//	hearth-cloud sbom --artifact FILE               a program's CycloneDX SBOM
//	hearth-cloud fleet scan --dir V [--day YYYY-MM-DD] | fleet token --dir V
//	                                                check the fleet's telemetry for security
//	                                                anomalies; make the operator token
//
// init and provision are offline tools: they read the vendor's signing keys and are run
// on the vendor's secured provisioning host, never on a device. serve holds only online
// keys (the issuing CA and its own TLS key), never the root CA key.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "hearth-cloud:", err)
		os.Exit(1)
	}
}
